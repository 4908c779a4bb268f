from __future__ import annotations

import keras
import numpy as np
import pytest

from capstone.model.augmentation import (
    WEBCAM_KINDS,
    RandomShiftRotate,
    WebcamDegradation,
    augmenter,
)


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


def dot_positions(images: np.ndarray) -> np.ndarray:
    """Row and column of the brightest pixel of each image."""
    flat = images.reshape(len(images), -1).argmax(axis=1)
    return np.stack(np.unravel_index(flat, images.shape[1:3]), axis=1)


def one_dot(n: int, row: int = 10, col: int = 30) -> np.ndarray:
    x = np.zeros((n, 48, 48, 1), dtype="float32")
    x[:, row, col] = 1.0
    return x


def test_shift_rotate_with_zero_factors_is_the_identity() -> None:
    x = np.random.default_rng(0).random((4, 48, 48, 1), dtype="float32")
    assert np.array_equal(np.asarray(RandomShiftRotate(0.0, 0.0, seed=0)(x)), x)


def test_shifts_stay_within_the_factor_and_cover_it() -> None:
    moved = dot_positions(np.asarray(RandomShiftRotate(0.08, 0.0, seed=1)(one_dot(512))))
    offsets = moved - [10, 30]
    assert np.abs(offsets).max() <= 4  # 8% of 48 pixels is 3.84
    assert offsets.min() <= -3 and offsets.max() >= 3  # both directions, both axes
    assert np.unique(offsets[:, 0]).size > 5 and np.unique(offsets[:, 1]).size > 5


def test_rotations_turn_about_the_centre_within_the_factor() -> None:
    moved = dot_positions(np.asarray(RandomShiftRotate(0.0, 0.04, seed=2)(one_dot(512))))
    centre = (48 - 1) / 2
    radius = np.hypot(*(moved - centre).T)
    assert np.allclose(radius, np.hypot(10 - centre, 30 - centre), atol=1.0)
    turn = np.degrees(
        np.arctan2(moved[:, 0] - centre, moved[:, 1] - centre)
        - np.arctan2(10 - centre, 30 - centre)
    )
    assert np.abs(turn).max() <= 14.4 + 4  # 0.04 of a turn, plus a pixel's rounding
    assert turn.min() < -10 and turn.max() > 10


def test_light_augmentation_resamples_once() -> None:
    """One resampling keeps more detail than Keras' translation then rotation (two)."""
    x = np.random.default_rng(3).random((256, 48, 48, 1), dtype="float32")
    once = np.asarray(augmenter("light", seed=4)(x, training=True))
    twice = keras.Sequential(
        [
            keras.layers.RandomTranslation(0.08, 0.08, fill_mode="reflect", seed=4),
            keras.layers.RandomRotation(0.04, fill_mode="reflect", seed=4),
        ]
    )(x, training=True)
    assert once.std() > np.asarray(twice).std() * 1.1


def test_shift_rotate_draws_new_transforms_for_each_batch_in_tf_data() -> None:
    tf = pytest.importorskip("tensorflow")
    layer = RandomShiftRotate(0.08, 0.04, seed=5)
    ds = tf.data.Dataset.from_tensors(one_dot(8)).repeat(2).map(layer)
    first, second = (dot_positions(b.numpy()) for b in ds)
    assert len({tuple(p) for p in first}) > 1  # each image its own transform
    assert not np.array_equal(first, second)  # and new ones for the next batch


@pytest.mark.parametrize(("shift", "rotation"), [(-0.1, 0.0), (1.0, 0.0), (0.1, 0.6)])
def test_shift_rotate_refuses_impossible_factors(shift: float, rotation: float) -> None:
    with pytest.raises(ValueError, match="shift"):
        RandomShiftRotate(shift, rotation)


def hopper_like(n: int) -> np.ndarray:
    """``n`` smooth images with structure: a bright disc on a ramp, in [0, 1]."""
    yy, xx = np.mgrid[:48, :48] / 47.0
    disc = ((yy - 0.5) ** 2 + (xx - 0.5) ** 2 < 0.1).astype("float32")
    return np.repeat((0.3 * xx + 0.5 * disc + 0.1)[None, ..., None], n, 0).astype("float32")


@pytest.mark.parametrize("kind", WEBCAM_KINDS)
def test_each_webcam_degradation_changes_images_only_while_training(kind: str) -> None:
    x = hopper_like(6)
    layer = WebcamDegradation([kind], rate=1.0, seed=0)
    y = np.asarray(layer(x, training=True))
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
    assert np.abs(y - x).mean() > 0.003, kind
    assert np.allclose(layer(x, training=False), x)


def test_jpeg_degradation_looks_like_real_jpeg() -> None:
    import cv2

    x = hopper_like(1)
    ours = np.asarray(WebcamDegradation(["jpeg"], rate=1.0, seed=0)(x, training=True))[0, ..., 0]
    _, buf = cv2.imencode(
        ".jpg", (x[0, ..., 0] * 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 30]
    )
    real = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE) / 255.0
    # both lose detail to the same order: within a few grey levels of the original
    assert np.abs(ours - x[0, ..., 0]).mean() < 0.05 and np.abs(real - x[0, ..., 0]).mean() < 0.05


def test_rate_zero_changes_nothing_and_unknown_kinds_are_refused() -> None:
    x = hopper_like(4)
    assert np.allclose(WebcamDegradation(WEBCAM_KINDS, rate=0.0, seed=0)(x, training=True), x)
    with pytest.raises(ValueError, match="kinds must be among"):
        WebcamDegradation(["fog"])


def test_degradations_follow_the_augmentation_level() -> None:
    layers = augmenter("light", seed=0, degrade=["blur", "noise"])
    assert isinstance(layers.layers[-1], WebcamDegradation)
    assert augmenter("none", seed=0, degrade=["noise"]).layers[0].kinds == ("noise",)
