from __future__ import annotations

import numpy as np
import pytest

from capstone.models import build, compact_cnn, seed_cnn


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


@pytest.mark.parametrize("model", [seed_cnn(), compact_cnn(8)], ids=["seed_cnn", "compact_cnn"])
def test_models_output_probabilities(model) -> None:
    out = np.asarray(model(np.zeros((2, 48, 48, 1), np.float32)))
    assert out.shape == (2, 7)
    assert np.allclose(out.sum(axis=1), 1.0, atol=1e-5)


def test_unknown_architecture() -> None:
    with pytest.raises(ValueError, match="unknown architecture"):
        build("resnet")
