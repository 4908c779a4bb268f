"""Training-time image augmentation as Keras preprocessing layers (any Keras backend).

The layers act only while training; at inference they pass images through unchanged.
"""

from __future__ import annotations

import keras


def augmenter(level: str, seed: int) -> keras.Sequential | None:
    """Keras preprocessing layers for ``level`` ``none``, ``flip``, ``light``, ``erase`` or ``heavy``.

    ``flip`` is the seed's recipe (horizontal flips only); ``light`` adds small shifts and
    rotations; ``erase`` is ``light`` plus random erasing (half of the images get a rectangle
    of 2-25% of their area replaced by noise, so no single region, e.g. the mouth, decides);
    ``heavy`` is the seed's stage-2 recipe: rotation 30 degrees, shear 0.3, zoom 0.3, flip.
    """
    if level == "none":
        return None
    if level not in ("flip", "light", "erase", "heavy"):
        raise ValueError(
            f"unknown augmentation level {level!r}; use none, flip, light, erase or heavy"
        )
    steps = [keras.layers.RandomFlip("horizontal", seed=seed)]  # every level flips
    if level in ("light", "erase"):
        steps += [
            keras.layers.RandomTranslation(0.08, 0.08, fill_mode="reflect", seed=seed),
            keras.layers.RandomRotation(0.04, fill_mode="reflect", seed=seed),
        ]
    if level == "erase":
        steps.append(
            keras.layers.RandomErasing((0.5, 0.5), (0.02, 0.25), value_range=(0, 1), seed=seed)
        )
    if level == "heavy":
        steps += [
            keras.layers.RandomRotation(30 / 360, fill_mode="reflect", seed=seed),
            keras.layers.RandomShear(0.3, 0.3, fill_mode="reflect", seed=seed),
            keras.layers.RandomZoom(0.3, fill_mode="reflect", seed=seed),
        ]
    return keras.Sequential(steps, name=f"augment_{level}")
