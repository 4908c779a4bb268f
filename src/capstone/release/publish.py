"""Publishing the released model: ``capstone release``.

:func:`publish` copies the evaluation stage's finished model (``build/evaluation/final.keras``
and its record ``final.json``, written by :func:`capstone.release.finish.finish`) into
``models/``, with the whole profile that trained it, the model card
(:mod:`capstone.release.card`) and its ONNX copy (:mod:`capstone.model.onnx_copy`: the same
readings without TensorFlow, what annotation runs). The sample profile's synthetic model is never published.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from capstone.artefacts import atomic_path, read_json, sha256_file, write_json, write_text
from capstone.errors import CapstoneError
from capstone.model.onnx_copy import write_onnx_copy
from capstone.params import Params, profile_yaml
from capstone.paths import MODEL_NAME, ProjectPaths
from capstone.release.card import model_card


def publish(paths: ProjectPaths, params: Params, dest: str | Path | None = None) -> Path:
    """Copy the evaluation stage's final model into ``dest`` (default ``models/``) with its card.

    Refuses the synthetic sample profile, and a final model older than its record.
    """
    if params.download.fer2013.source == "sample":
        raise CapstoneError(
            f"{params.source_file}: the sample profile trains on synthetic faces and is never "
            "released; run the full profile (params/full.yaml) and release that"
        )
    src = paths.stage("evaluation")
    if not (src / "final.keras").is_file() or not (src / "final.json").is_file():
        raise CapstoneError(
            f"no final model in {src}: run `capstone pipeline --params {params.source_file}` "
            "through the evaluation stage first"
        )
    dest = Path(dest) if dest is not None else paths.root / "models"
    dest.mkdir(parents=True, exist_ok=True)
    record = read_json(src / "final.json")
    record["model_sha256"] = sha256_file(src / "final.keras")
    record["size_bytes"] = (src / "final.keras").stat().st_size
    with atomic_path(dest / f"{MODEL_NAME}.keras") as tmp:
        shutil.copyfile(src / "final.keras", tmp)
    write_onnx_copy(dest / f"{MODEL_NAME}.keras")
    profile = dest / f"{MODEL_NAME}.params.yaml"
    write_text(profile, profile_yaml(params))  # whole: what it extends and its defaults
    record["params_sha256"] = sha256_file(profile)
    write_json(dest / f"{MODEL_NAME}.json", record)
    write_text(dest / "README.md", model_card(record))
    return dest / f"{MODEL_NAME}.keras"


def write_card(folder: str | Path) -> Path:
    """Write the model card ``README.md`` again from the record in ``folder`` (``models/``):
    after a change to the card's text, with the model and its record left as they are."""
    folder = Path(folder)
    record_file = folder / f"{MODEL_NAME}.json"
    if not record_file.is_file():
        raise CapstoneError(
            f"no model record at {record_file}: release a model first "
            "(`capstone release --params PROFILE`)"
        )
    write_text(folder / "README.md", model_card(read_json(record_file)))
    return folder / "README.md"
