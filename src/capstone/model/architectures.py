"""Model architectures, nothing else: each function returns an uncompiled Keras model.

Every model takes a ``(48, 48, 1)`` float image in [0, 1] and returns softmax
probabilities over :data:`capstone.params.CLASSES`.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers, regularizers

from capstone.labels import CLASSES, SIZE

INPUT_SHAPE = (SIZE, SIZE, 1)


@keras.saving.register_keras_serializable(package="capstone")
class FusedBatchNormalization(layers.BatchNormalization):
    """Keras' ``BatchNormalization`` computed by TensorFlow's fused kernel.

    Keras 3 normalizes image batches with separate float32 operations (cast, moments,
    normalize, cast back); TensorFlow's fused kernel reads the bf16 activations once and
    keeps its statistics in float32. Same variables, same configuration and the same
    results up to rounding (``tests/model/test_architectures.py``), and training the project's CNN is
    1.4-1.5x faster on this CPU (``benchmarks/training_speed.py --batch-norm``). Masks,
    renormalization, other layouts, dtypes and backends fall back to Keras' own code.
    """

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        x = inputs
        training = bool(training) and self.trainable
        empty = tf.constant([], tf.float32)
        y, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
            x=x,
            scale=tf.cast(self.gamma, tf.float32),
            offset=tf.cast(self.beta, tf.float32),
            mean=empty if training else tf.cast(self.moving_mean, tf.float32),
            variance=empty if training else tf.cast(self.moving_variance, tf.float32),
            epsilon=self.epsilon,
            exponential_avg_factor=1.0,
            data_format="NHWC",
            is_training=training,
        )
        if training:
            # The kernel reports the unbiased variance (n / (n - 1)); Keras tracks the biased one.
            n = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), tf.float32)
            variance = variance * (n - 1.0) / n
            m = self.momentum
            self.moving_mean.assign(self.moving_mean * m + mean * (1.0 - m))
            self.moving_variance.assign(self.moving_variance * m + variance * (1.0 - m))
        return tf.cast(y, self.compute_dtype)

    def _fusable(self, inputs, mask) -> bool:
        return (
            keras.backend.backend() == "tensorflow"
            and keras.backend.standardize_dtype(inputs.dtype) in ("bfloat16", "float16", "float32")
            and mask is None
            and len(inputs.shape) == 4
            and self.axis in (-1, 3)
            and self.center
            and self.scale
            and not self.renorm
            and not self.synchronized
        )


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
    fused_batch_norm: bool = True,
) -> keras.Model:
    """The project's CNN: four VGG-style blocks with batch norm, global average pooling, MLP head.

    ``width`` is the number of filters of the first block; each block doubles it. Global
    average pooling makes the weights independent of the image size, so ``input_shape`` may
    be ``(None, None, 1)`` to train on smaller images and still predict at 48x48.
    ``fused_batch_norm=False`` uses Keras' own batch norm (same results, slower; models
    trained before recipe 10, the one released with recipe 9 among them, have it), as do
    models built under any backend but TensorFlow, whose files then load with plain Keras.
    """
    fused = fused_batch_norm and keras.backend.backend() == "tensorflow"
    batch_norm = FusedBatchNormalization if fused else layers.BatchNormalization
    inputs = keras.Input(input_shape)
    x = inputs
    for i, filters in enumerate([width, width * 2, width * 4, width * 8]):
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = batch_norm(momentum=0.9)(x)
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


def residual_cnn(
    width: int = 32,
    n_classes: int = len(CLASSES),
    input_shape: tuple[int | None, int | None, int] = INPUT_SHAPE,
    fused_batch_norm: bool = True,
    blocks: tuple[int, ...] = (2, 2, 2, 2),
) -> keras.Model:
    """A ResNet-style CNN for 48-pixel faces: a 3x3 stem at full size (no early downsampling:
    the faces are small), then stages of basic residual blocks (two 3x3 convolutions beside a
    shortcut), each stage after the first halving the map and doubling the filters; global
    average pooling and a linear head.

    ``width`` is the stem's and first stage's filters: 32 gives 2.8 M parameters, 48 gives
    6.3 M, 64 gives ResNet-18's 11 M. Like :func:`compact_cnn`, it predicts at any size.
    """
    fused = fused_batch_norm and keras.backend.backend() == "tensorflow"
    batch_norm = FusedBatchNormalization if fused else layers.BatchNormalization

    def conv_bn(x: Any, filters: int, stride: int = 1, kernel: int = 3) -> Any:
        x = layers.Conv2D(filters, kernel, stride, padding="same", use_bias=False)(x)
        return batch_norm(momentum=0.9)(x)

    inputs = keras.Input(input_shape)
    x = layers.ReLU()(conv_bn(inputs, width))
    for stage, count in enumerate(blocks):
        filters = width * 2**stage
        for block in range(count):
            stride = 2 if stage > 0 and block == 0 else 1
            shortcut = (
                x if stride == 1 and x.shape[-1] == filters else conv_bn(x, filters, stride, 1)
            )
            y = layers.ReLU()(conv_bn(x, filters, stride))
            y = conv_bn(y, filters)
            x = layers.ReLU()(layers.Add()([shortcut, y]))
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(n_classes)(x)
    outputs = layers.Activation("softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="residual_cnn")


def build(
    architecture: str,
    width: int = 32,
    input_shape: tuple[int | None, int | None, int] = INPUT_SHAPE,
    fused_batch_norm: bool = True,
) -> keras.Model:
    """The model called ``architecture`` (``seed_cnn``, ``compact_cnn`` or ``residual_cnn``).

    ``fused_batch_norm`` applies to the last two (``seed_cnn`` has no batch norm).
    """
    if architecture == "seed_cnn":
        if input_shape != INPUT_SHAPE:
            raise ValueError(f"seed_cnn only takes {INPUT_SHAPE} images, not {input_shape}")
        return seed_cnn()
    if architecture == "compact_cnn":
        return compact_cnn(width, input_shape=input_shape, fused_batch_norm=fused_batch_norm)
    if architecture == "residual_cnn":
        return residual_cnn(width, input_shape=input_shape, fused_batch_norm=fused_batch_norm)
    raise ValueError(
        f"unknown architecture {architecture!r}; use seed_cnn, compact_cnn or residual_cnn"
    )
