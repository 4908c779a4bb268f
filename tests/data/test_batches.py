from __future__ import annotations

import numpy as np
import pytest

from capstone.data.batches import ImageBatches, to_dataset


def images(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(1).integers(0, 256, (n, 48, 48), dtype=np.uint8)
    return x, np.arange(n) % 7


def test_batches_scale_pixels_add_a_channel_and_one_hot_the_labels() -> None:
    x, y = images(10)
    batches = ImageBatches(x, y, batch_size=4)
    assert len(batches) == 3
    first, labels = batches[0]
    assert first.shape == (4, 48, 48, 1) and first.dtype == np.float32
    np.testing.assert_allclose(first[..., 0], x[:4] / 255.0)
    assert labels.tolist() == np.eye(7)[y[:4]].tolist()
    assert len(batches[2][0]) == 2  # the rest


def test_batches_match_the_tf_data_pipeline() -> None:
    x, y = images(10)
    ours, theirs = ImageBatches(x, y, 4)[1], next(iter(to_dataset(x, y, 4).skip(1)))
    np.testing.assert_allclose(ours[0], theirs[0].numpy())
    np.testing.assert_allclose(ours[1], theirs[1].numpy())


def test_shuffled_batches_draw_a_new_order_each_epoch_from_their_seed() -> None:
    x, y = images(30)

    def epochs(seed: int) -> list[list[int]]:
        batches, orders = ImageBatches(x, y, 30, shuffle=True, seed=seed), []
        for _ in range(2):
            orders.append(batches[0][1].argmax(axis=1).tolist())
            batches.on_epoch_end()
        return orders

    first, second = epochs(0)
    assert first != second and sorted(first) == sorted(y.tolist())
    assert epochs(0) == [first, second]


def test_batches_resize_for_a_low_resolution_phase() -> None:
    x, y = images(5)
    assert ImageBatches(x, y, 5, image_size=32)[0][0].shape == (5, 32, 32, 1)


def test_bad_arrays_are_refused() -> None:
    x, y = images(5)
    with pytest.raises(ValueError, match="n labels"):
        ImageBatches(x, y[:3], 2)
    with pytest.raises(ValueError, match="batch_size"):
        ImageBatches(x, y, 0)


def test_soft_targets_pass_through_as_they_are() -> None:
    x, _ = images(6)
    shares = np.random.default_rng(2).dirichlet(np.ones(7), size=6)
    ours, theirs = ImageBatches(x, shares, 6)[0][1], next(iter(to_dataset(x, shares, 6)))[1]
    np.testing.assert_allclose(ours, shares, rtol=1e-6)
    np.testing.assert_allclose(theirs.numpy(), shares, rtol=1e-6)
    with pytest.raises(ValueError, match="sum to 1"):
        ImageBatches(x, shares * 2, 6)[0]
