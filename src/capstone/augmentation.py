"""Training-time image augmentation as Keras preprocessing layers (any Keras backend).

The layers act only while training; at inference they pass images through unchanged.
"""

from __future__ import annotations

import math

import keras
from keras import ops


class RandomShiftRotate(keras.layers.Layer):
    """Shift and rotate each image at random, in one bilinear resampling with reflected borders.

    Keras' ``RandomTranslation`` then ``RandomRotation`` resample twice, which blurs every
    training image a little more than the sharp validation images. Measured on a GPU replica
    of the training (see What was tried), the two resamplings cost about one point of
    validation accuracy against one.

    Parameters
    ----------
    shift : float
        Largest shift, as a fraction of the image's height and width.
    rotation : float
        Largest rotation, as a fraction of a full turn (Keras' ``RandomRotation`` factor).
    seed : int, optional
        Seed of the layer's random numbers.
    """

    def __init__(self, shift: float, rotation: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not (0 <= shift < 1 and 0 <= rotation <= 0.5):
            raise ValueError(
                f"need 0 <= shift < 1 and 0 <= rotation <= 0.5, got {shift}, {rotation}"
            )
        self.shift, self.rotation, self.seed = shift, rotation, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training: bool = True):
        if not training:
            return images
        shape = ops.shape(images)
        n, h, w = shape[0], ops.cast(shape[1], "float32"), ops.cast(shape[2], "float32")

        def uniform(factor):
            return keras.random.uniform((n,), -factor, factor, seed=self.seed_generator)

        angle = uniform(self.rotation * 2 * math.pi)
        dx, dy = uniform(self.shift) * w, uniform(self.shift) * h
        cos, sin = ops.cos(angle), ops.sin(angle)
        cx, cy = (w - 1) / 2, (h - 1) / 2
        # Output pixel (x, y) reads input pixel (a0 x + a1 y + a2, b0 x + b1 y + b2): a rotation
        # about the centre, then a shift.
        zeros = ops.zeros_like(cos)
        transform = ops.stack(
            [
                cos,
                -sin,
                cx - dx - (cos * cx - sin * cy),
                sin,
                cos,
                cy - dy - (sin * cx + cos * cy),
                zeros,
                zeros,
            ],
            axis=1,
        )
        moved = ops.image.affine_transform(
            ops.cast(images, "float32"), transform, interpolation="bilinear", fill_mode="reflect"
        )
        return ops.cast(moved, images.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "shift": self.shift,
            "rotation": self.rotation,
            "seed": self.seed,
        }


def augmenter(level: str, seed: int) -> keras.Sequential | None:
    """Keras preprocessing layers for ``level`` ``none``, ``flip``, ``light``, ``erase`` or ``heavy``.

    ``flip`` is the seed's recipe (horizontal flips only); ``light`` adds small shifts and
    rotations (up to 8% and 14.4 degrees, in one resampling: :class:`RandomShiftRotate`);
    ``erase`` is ``light`` plus random erasing (half of the images get a rectangle of 2-25%
    of their area replaced by noise, so no single region, e.g. the mouth, decides);
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
        steps.append(RandomShiftRotate(0.08, 0.04, seed=seed))
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
