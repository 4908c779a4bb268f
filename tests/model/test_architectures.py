from __future__ import annotations

import numpy as np
import pytest

from capstone.model.architectures import build, compact_cnn, residual_cnn, seed_cnn


def test_seed_cnn_matches_the_published_layers() -> None:
    model = seed_cnn()
    convs = [layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"]
    assert [(c.filters, c.kernel_size) for c in convs] == [
        (32, (3, 3)),
        (64, (3, 3)),
        (128, (3, 3)),
        (128, (3, 3)),
        (7, (1, 1)),
        (7, (4, 4)),
    ]
    assert all(c.kernel_regularizer is not None for c in convs)


@pytest.mark.parametrize(
    "model",
    [seed_cnn(), compact_cnn(8), residual_cnn(8)],
    ids=["seed_cnn", "compact_cnn", "residual_cnn"],
)
def test_models_output_probabilities(model) -> None:
    out = np.asarray(model(np.zeros((2, 48, 48, 1), np.float32)))
    assert out.shape == (2, 7)
    assert np.allclose(out.sum(axis=1), 1.0, atol=1e-5)


def test_the_residual_cnn_is_resnet_18_sized_at_width_64_and_reads_any_size() -> None:
    sizes = {width: residual_cnn(width).count_params() for width in (32, 48, 64)}
    assert 2.7e6 < sizes[32] < 2.9e6 and 6.2e6 < sizes[48] < 6.4e6 and 11e6 < sizes[64] < 11.3e6
    small = residual_cnn(8, input_shape=(None, None, 1))
    assert np.asarray(small(np.zeros((1, 32, 32, 1), np.float32))).shape == (1, 7)
    adds = [layer for layer in small.layers if layer.__class__.__name__ == "Add"]
    assert len(adds) == 8  # four stages of two blocks, each with its shortcut


def test_unknown_architecture() -> None:
    with pytest.raises(ValueError, match="unknown architecture"):
        build("resnet")


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_fused_batch_norm_matches_keras_batch_norm(policy: str) -> None:
    import keras
    import tensorflow as tf

    from capstone.model.architectures import FusedBatchNormalization

    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, size=(16, 6, 6, 4)).astype("float32")
    results = []
    keras.config.set_dtype_policy(policy)
    try:
        for layer in (
            keras.layers.BatchNormalization(momentum=0.9),
            FusedBatchNormalization(momentum=0.9),
        ):
            layer.build(x.shape)
            layer.gamma.assign(np.linspace(0.5, 1.5, 4))
            layer.beta.assign(np.linspace(-0.2, 0.2, 4))
            inputs = tf.cast(x, layer.compute_dtype)
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                y = layer(inputs, training=True)
                loss = tf.reduce_sum(tf.cast(y, "float32") ** 3)
            grads = tape.gradient(loss, [inputs, layer.gamma, layer.beta])
            after = [layer.moving_mean, layer.moving_variance, layer(inputs, training=False)]
            assert y.dtype == layer.compute_dtype
            results.append([np.asarray(tf.cast(t, "float32")) for t in [y, *grads, *after]])
    finally:
        keras.config.set_dtype_policy("float32")
    names = ["output", "d input", "d gamma", "d beta", "moving mean", "moving var", "inference"]
    for name, keras_bn, fused in zip(names, *results, strict=True):
        scale = np.abs(keras_bn).max()
        assert np.abs(keras_bn - fused).max() <= 1e-4 * scale, name
    assert not np.allclose(results[0][4], 0.0)  # the moving mean did move


def test_a_model_with_fused_batch_norm_saves_and_loads(tmp_path) -> None:
    from capstone.model.architectures import FusedBatchNormalization
    from capstone.model.released import load_model

    model = compact_cnn(8)
    assert any(isinstance(layer, FusedBatchNormalization) for layer in model.layers)
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    x = np.random.default_rng(1).random((3, 48, 48, 1), dtype=np.float32)
    assert any(isinstance(layer, FusedBatchNormalization) for layer in loaded.layers)
    assert np.allclose(model.predict(x, verbose=0), loaded.predict(x, verbose=0), atol=1e-6)
