"""Batches of stored faces for ``fit``, ``evaluate`` and ``predict``, on any Keras backend.

Both give ``(images, targets)``: float32 images in [0, 1] with a channel axis, cut from the
stores' uint8 arrays one batch at a time, and each face's target distribution over the
classes: one-hot for a class index, or as given for soft targets such as a crowd's vote
shares (:func:`targets`).

* :class:`ImageBatches` is a ``keras.utils.PyDataset`` of NumPy arrays: it runs under
  TensorFlow, JAX and PyTorch alike. Training on it puts the augmentation layers inside
  the model being fitted, so they run on the device with the network.
* :func:`to_dataset` is a ``tf.data`` pipeline, the TensorFlow fast path on a CPU: there
  the augmentation runs in its own threads while the network trains.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from capstone.labels import CLASSES, network_inputs


class ImageBatches(keras.utils.PyDataset):
    """Batches of ``(x / 255 with a channel axis, one-hot y)`` from uint8 images ``x``.

    Parameters
    ----------
    x : ndarray of shape (n, height, width), uint8
        The images.
    y : ndarray of shape (n,) or (n, classes)
        Class indices into :data:`capstone.params.CLASSES`, or target distributions.
    batch_size : int
        Images per batch; the last batch holds the rest.
    shuffle : bool
        Draw a new order every epoch (from ``seed``), as ``tf.data``'s reshuffling does.
    seed : int
        Seed of the shuffling.
    image_size : int, optional
        Resize every image to this many pixels square, by area averaging (a cheaper,
        lower-resolution training phase).
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        *,
        shuffle: bool = False,
        seed: int = 0,
        image_size: int | None = None,
    ) -> None:
        super().__init__()
        x, y = np.asarray(x), np.asarray(y)
        if x.ndim != 3 or len(x) != len(y) or len(x) == 0:
            raise ValueError(
                f"need images (n, height, width) and n labels, n > 0; got {x.shape} and {y.shape}"
            )
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.x, self.y, self.batch_size = x, y, batch_size
        self.shuffle, self.image_size = shuffle, image_size
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(len(x)) if shuffle else np.arange(len(x))

    @property
    def num_batches(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __len__(self) -> int:
        return self.num_batches

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        images = self.x[rows]
        if self.image_size is not None and self.image_size != images.shape[1]:
            import cv2

            size = (self.image_size, self.image_size)
            images = np.stack([cv2.resize(im, size, interpolation=cv2.INTER_AREA) for im in images])
        return network_inputs(images), targets(self.y[rows])

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._order = self._rng.permutation(len(self.x))


def to_dataset(
    x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = False, seed: int = 0
) -> Any:
    """The same batches as :class:`ImageBatches` as a ``tf.data.Dataset`` (TensorFlow only)."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x[..., None], targets(y)))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(
        lambda a, b: (tf.cast(a, tf.float32) / 255.0, b), num_parallel_calls=tf.data.AUTOTUNE
    )
    return ds.prefetch(tf.data.AUTOTUNE)


def targets(y: np.ndarray) -> np.ndarray:
    """``(n, classes)`` float32 targets: class indices one-hot, distributions as they are.

    Raises
    ------
    ValueError
        If a distribution has the wrong number of classes, or a row does not sum to 1.
    """
    y = np.asarray(y)
    if y.ndim == 1:
        return np.eye(len(CLASSES), dtype=np.float32)[y]
    if y.ndim != 2 or y.shape[1] != len(CLASSES) or not np.allclose(y.sum(axis=1), 1, atol=1e-3):
        raise ValueError(
            f"targets must be class indices (n,) or distributions (n, {len(CLASSES)}) whose rows "
            f"sum to 1; got shape {y.shape}"
        )
    return y.astype(np.float32)
