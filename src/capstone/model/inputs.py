"""What fit reads for one phase of a run: batches from the processed store, augmented in
the graph or in tf.data, weighted by class where the run asks it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from capstone.data.batches import ImageBatches, to_dataset
from capstone.labels import CLASSES
from capstone.metrics import majority
from capstone.model.architectures import INPUT_SHAPE
from capstone.model.augmentation import augmenter
from capstone.params import Phase


def class_weights(y: np.ndarray) -> dict[int, float]:
    """Balanced class weights, ``n / (k * count)``, so rare classes (disgust) count as much.

    ``y`` holds class indices, or target distributions counted by their top class (as Keras
    weighs them).
    """
    y = majority(y)
    counts = np.bincount(y, minlength=len(CLASSES)).astype(float)
    weights = len(y) / (len(CLASSES) * np.maximum(counts, 1))
    return {i: float(w) for i, w in enumerate(weights)}


def training_inputs(
    network: keras.Model,
    xy: tuple[np.ndarray, np.ndarray],
    batch_size: int,
    phase: Phase,
    *,
    seed: int,
    tf_data: bool | None = None,
) -> tuple[Any, keras.Model]:
    """What ``fit`` reads for one ``phase``, and the model it fits: the same training on
    every backend.

    With ``tf_data`` (default: under TensorFlow), :func:`training_dataset` (augmented in
    ``tf.data``) and ``network``. Otherwise :class:`~capstone.data.batches.ImageBatches`
    and ``network`` with the phase's augmentation layers in front of it (they act only
    while training), which runs under every backend.
    """
    if tf_data is None:
        tf_data = keras.backend.backend() == "tensorflow"
    if tf_data:
        data = training_dataset(
            xy,
            batch_size,
            phase.augment,
            seed=seed,
            image_size=phase.image_size,
            degrade=phase.degrade,
        )
        return data, network
    data = ImageBatches(*xy, batch_size, shuffle=True, seed=seed, image_size=phase.image_size)
    augment = augmenter(phase.augment, seed, phase.degrade)
    if augment is None:
        return data, network
    inputs = keras.Input(network.input_shape[1:])
    return data, keras.Model(inputs, network(augment(inputs)), name=f"{network.name}_augmented")


def training_dataset(
    xy: tuple[np.ndarray, np.ndarray],
    batch_size: int,
    level: str,
    *,
    seed: int,
    image_size: int | None = None,
    degrade: Sequence[str] = (),
) -> Any:
    """Shuffled, batched training data as a ``tf.data.Dataset`` (TensorFlow only),
    augmented at ``level`` and degraded like a webcam by ``degrade`` (see :func:`augmenter`).

    ``image_size`` first resizes the images (antialiased) to that many pixels square.
    """
    import tensorflow as tf

    ds = to_dataset(*xy, batch_size, shuffle=True, seed=seed)
    if image_size is not None and image_size != xy[0].shape[1]:
        size = (image_size, image_size)
        ds = ds.map(
            lambda x, y: (tf.image.resize(x, size, antialias=True), y),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    augment = augmenter(level, seed, degrade)
    if augment is None:
        return ds
    return ds.map(
        lambda x, y: (augment(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE
    ).prefetch(tf.data.AUTOTUNE)


def _low_resolution(phase: Phase) -> bool:
    return phase.image_size not in (None, INPUT_SHAPE[0])
