"""The released model's ONNX copy: the same readings, run by ONNX Runtime without TensorFlow.

Reading faces is most of what annotating a call costs, and TensorFlow adds to it: 6 s to
import, and a set-up per call that small batches feel. :func:`write_onnx_copy` exports a
self-contained ``.keras`` model (:mod:`capstone.model.released`) to ``<stem>.onnx`` beside it,
checks that both give the same probabilities (to :data:`TOLERANCE`) and writes the ``.keras``
file's SHA-256 into the copy. :func:`load_onnx_copy` uses a copy only while that checksum
still matches, so a retrained model is never read by a stale copy.

Exporting needs ``tf2onnx`` (``pip install tf2onnx``); running a copy needs only
``onnxruntime``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from capstone.artefacts import atomic_path, sha256_file
from capstone.errors import ModelError
from capstone.labels import N_CLASSES, SIZE
from capstone.model.released import is_self_contained, load_model, model_file
from capstone.onnx_session import onnx_session

TOLERANCE = 1e-4  # the largest difference of a probability between the two files
SOURCE_KEY = "keras_sha256"  # the ONNX metadata entry naming the .keras file it copies


@dataclass(frozen=True)
class OnnxModel:
    """A released model's ONNX copy, read like the Keras model: ``predict_on_batch(crops)``
    takes uint8 crops ``(n, 48, 48)`` and returns ``(n, 7)`` probabilities."""

    session: Any
    path: Path

    @property
    def output_shape(self) -> tuple[None, int]:
        return (None, N_CLASSES)

    def predict_on_batch(self, crops: np.ndarray) -> np.ndarray:
        name = self.session.get_inputs()[0].name
        return self.session.run(None, {name: np.asarray(crops, np.uint8)})[0]

    def predict(self, crops: np.ndarray, batch_size: int = 256, verbose: int = 0) -> np.ndarray:
        crops = np.asarray(crops, np.uint8)
        parts = [
            self.predict_on_batch(crops[i : i + batch_size])
            for i in range(0, len(crops), batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, N_CLASSES), np.float32)


def onnx_path(model_path: str | Path) -> Path:
    """Where the ONNX copy of ``model_path`` lives: beside it, ``<stem>.onnx``."""
    return Path(model_path).with_suffix(".onnx")


def probe_crops(n: int = 64, seed: int = 0) -> np.ndarray:
    """Crops to compare the two files on: noise, flat grey, and smooth gradients."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 255, SIZE, dtype=np.float32)
    smooth = [np.add.outer(ramp * a, ramp * (1 - a)) / 2 for a in np.linspace(0, 1, 8)]
    crops = [rng.integers(0, 256, (SIZE, SIZE)) for _ in range(n - 9)]
    crops += [np.full((SIZE, SIZE), 128), *smooth]
    return np.stack(crops).astype(np.uint8)


def write_onnx_copy(model_path: str | Path) -> Path:
    """Export the self-contained model at ``model_path`` to ``<stem>.onnx`` beside it (written
    atomically), after checking that both read :func:`probe_crops` alike."""
    import keras
    import onnx

    model_path = Path(model_path)
    model = keras.models.load_model(model_path)
    if not is_self_contained(model):
        raise ModelError(
            f"{model_path}: only a self-contained model (uint8 crops in) gets an ONNX copy"
        )
    crops = probe_crops()
    expected = np.asarray(model.predict_on_batch(crops))  # the export needs a called model
    target = onnx_path(model_path)
    with tempfile.TemporaryDirectory() as tmp:
        exported = Path(tmp) / "model.onnx"
        model.export(str(exported), format="onnx", verbose=False)
        proto = onnx.load(str(exported))
    entry = proto.metadata_props.add()
    entry.key, entry.value = SOURCE_KEY, sha256_file(model_path)
    with atomic_path(target) as tmp_path:
        onnx.save(proto, str(tmp_path))
        copy = OnnxModel(onnx_session(tmp_path), target)
        difference = float(np.abs(copy.predict_on_batch(crops) - expected).max())
        if difference > TOLERANCE:
            raise ModelError(
                f"{model_path}: its ONNX export reads faces differently (by {difference:.1e}); "
                "not written"
            )
    return target


def load_onnx_copy(model_path: str | Path) -> OnnxModel | None:
    """The ONNX copy of the ``.keras`` model at ``model_path``, or ``None`` where there is
    none, ONNX Runtime is missing, or the copy was made from another version of the file."""
    target = onnx_path(model_path)
    if not target.is_file():
        return None
    try:
        session = onnx_session(target)
    except ImportError:
        return None
    except Exception as err:  # noqa: BLE001 -- ONNX Runtime raises its own types for a bad file
        raise ModelError(f"{target}: not a readable ONNX model ({type(err).__name__})") from None
    source = session.get_modelmeta().custom_metadata_map.get(SOURCE_KEY)
    if source != sha256_file(model_path):
        return None
    return OnnxModel(session, target)


def load_for_reading(path: str | Path) -> Any:
    """The model at ``path`` for reading faces: its ONNX copy, run without TensorFlow, where
    one beside it was made from this very file; else the Keras model
    (:func:`capstone.model.released.load_model`)."""
    copy = load_onnx_copy(model_file(path))
    return copy if copy is not None else load_model(path)
