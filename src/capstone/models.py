"""Model architectures, nothing else: each function returns an uncompiled Keras model.

Every model takes a ``(48, 48, 1)`` float image in [0, 1] and returns softmax
probabilities over :data:`capstone.params.CLASSES`.
"""

from __future__ import annotations

import keras
from keras import layers, regularizers

from capstone.params import CLASSES

INPUT_SHAPE = (48, 48, 1)


def seed_cnn(n_classes: int = len(CLASSES)) -> keras.Model:
    """The seed project's CNN, reproduced layer for layer (L2 1e-4 on every convolution)."""
    l2 = regularizers.L2(1e-4)
    inputs = keras.Input(INPUT_SHAPE)
    x = layers.Conv2D(32, 3, activation="relu", kernel_regularizer=l2)(inputs)
    x = layers.Conv2D(64, 3, activation="relu", kernel_regularizer=l2)(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(128, 3, activation="relu", kernel_regularizer=l2)(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(128, 3, activation="relu", kernel_regularizer=l2)(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(n_classes, 1, activation="relu", kernel_regularizer=l2)(x)
    x = layers.Conv2D(n_classes, 4, activation="relu", kernel_regularizer=l2)(x)
    x = layers.Flatten()(x)
    outputs = layers.Activation("softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="seed_cnn")


def compact_cnn(
    width: int = 32,
    n_classes: int = len(CLASSES),
    input_shape: tuple[int | None, int | None, int] = INPUT_SHAPE,
) -> keras.Model:
    """The project's CNN: four VGG-style blocks with batch norm, global average pooling, MLP head.

    ``width`` is the number of filters of the first block; each block doubles it. Global
    average pooling makes the weights independent of the image size, so ``input_shape`` may
    be ``(None, None, 1)`` to train on smaller images and still predict at 48x48.
    """
    inputs = keras.Input(input_shape)
    x = inputs
    for i, filters in enumerate([width, width * 2, width * 4, width * 8]):
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization(momentum=0.9)(x)
            x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
        if i >= 2:  # light dropout in the deep blocks only: with augmentation, more underfits
            x = layers.Dropout(0.1)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(width * 8, activation="relu")(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(n_classes)(x)
    outputs = layers.Activation("softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="compact_cnn")


def build(
    architecture: str,
    width: int = 32,
    input_shape: tuple[int | None, int | None, int] = INPUT_SHAPE,
) -> keras.Model:
    """The model called ``architecture`` (``seed_cnn`` or ``compact_cnn``)."""
    if architecture == "seed_cnn":
        if input_shape != INPUT_SHAPE:
            raise ValueError(f"seed_cnn only takes {INPUT_SHAPE} images, not {input_shape}")
        return seed_cnn()
    if architecture == "compact_cnn":
        return compact_cnn(width, input_shape=input_shape)
    raise ValueError(f"unknown architecture {architecture!r}; use seed_cnn or compact_cnn")
