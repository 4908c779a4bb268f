from __future__ import annotations

import numpy as np
import pytest

from capstone.augmentation import augmenter


def grey_faces(n: int) -> np.ndarray:
    """``n`` uniform mid-grey images: geometric augmentation (reflect fill) leaves them unchanged."""
    return np.full((n, 48, 48, 1), 0.5, dtype="float32")


def test_none_means_no_augmentation() -> None:
    assert augmenter("none", seed=0) is None


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown augmentation level 'strong'"):
        augmenter("strong", seed=0)


@pytest.mark.parametrize("level", ["flip", "light", "erase", "heavy"])
def test_augmentation_acts_only_while_training(level: str) -> None:
    x = np.random.default_rng(0).random((8, 48, 48, 1), dtype="float32")
    layers = augmenter(level, seed=0)
    assert np.allclose(layers(x, training=False), x)
    assert layers(x, training=True).shape == x.shape


def test_erase_replaces_a_part_of_about_half_the_images() -> None:
    x = grey_faces(256)
    out = np.asarray(augmenter("erase", seed=1)(x, training=True))
    erased_share = (np.abs(out - x) > 1e-3).reshape(len(x), -1).mean(axis=1)
    erased = erased_share > 0
    assert 0.3 < erased.mean() < 0.7  # half of the images, give or take chance
    assert erased_share.max() <= 0.25 + 1e-6  # at most a quarter of an image
    assert out.min() >= 0.0 and out.max() <= 1.0  # the noise stays in the pixel range


def test_light_leaves_a_uniform_image_unchanged() -> None:
    x = grey_faces(16)
    assert np.allclose(augmenter("light", seed=1)(x, training=True), x, atol=1e-3)
