"""Finishing the merged stage's pick during the evaluation stage: calibrated, self-contained.

:func:`finish` calibrates the pick on the validation split (:mod:`capstone.model.calibration`),
folds the test-time augmentation and the calibration into one self-contained Keras model,
scores it on the test sets, and writes ``build/evaluation/final.keras`` with a record of
where it came from and how it scores (``final.json``). ``capstone release``
(:mod:`capstone.release.publish`) publishes that pair.
"""

from __future__ import annotations

import hashlib
from typing import Any

from capstone import provenance
from capstone.artefacts import atomic_path, read_json, sha256_file, write_json
from capstone.data import crowd
from capstone.errors import CapstoneError
from capstone.evaluation.scores import annotation_scores, score
from capstone.faces import crop, detect
from capstone.labels import CLASSES
from capstone.model.calibration import calibrate
from capstone.model.calibration_record import CalibrationRecord
from capstone.model.released import load_model, predict, self_contained
from capstone.params import CROWD, DATASETS, Params, profile_yaml
from capstone.paths import MODEL_NAME, ProjectPaths
from capstone.synthetic import layouts


def finish(paths: ProjectPaths, params: Params, data: Any) -> dict[str, Any]:
    """Calibrate the merged stage's pick and write ``final.keras`` and ``final.json``.

    The pick is one of the merged runs, or the model they continued from if none beat it on
    validation. ``data`` is the :class:`~capstone.data.splits.SplitData` of the run. The
    head refit is fitted on the training split with the in-the-wild faces repeated as the
    merged stage trained on them (``wild_repeat``), so that finishing does not undo what they
    taught; the rest on the validation split of every dataset, each face counted once:
    repeated faces would fall into both halves of the class offsets' held-out check (measured:
    fitted on validation repeated to half in-the-wild, the offsets raised held-out macro-F1
    from 0.624 to 0.663 and then lowered both test sets). The test sets are scored afterwards.
    """
    selected = paths.selected()
    run = params.run(selected)
    if run.architecture != "compact_cnn":
        raise CapstoneError(
            f"only a compact_cnn can be released; {selected!r} is {run.architecture}"
        )
    model = load_model(paths.model(selected))
    faces = (params.merged.faces, "wild")  # the copy of FER2013's faces the models trained on
    soft = params.merged.faces == CROWD  # calibrated to the crowd's shares
    train_xy = data.merged("train", {"wild": params.merged.wild_repeat}, datasets=faces, soft=soft)
    network, calibration = calibrate(
        model,
        run.architecture,
        run.width,
        data.merged("val", datasets=faces, soft=soft),  # each face once: for the offsets' check
        batch_size=params.evaluation.batch_size,
        try_flip=params.evaluation.tta_flip,
        try_shift=params.evaluation.tta_shift,
        train_xy=train_xy if params.evaluation.refit_head else None,
    )
    calibration = calibration.with_validation_faces(
        {name: {"faces": len(data.xy(name, "val")[1]), "repeat": 1} for name in faces}
    )
    final = self_contained(network, calibration.tta_flip, calibration.tta_shift)
    out = paths.stage("evaluation")
    with atomic_path(out / "final.keras") as tmp:
        final.save(tmp)
    test = {
        name: score(
            data.xy(name, "test")[1],
            predict(final, data.xy(name, "test")[0], params.evaluation.batch_size),
        )
        for name in DATASETS
    }
    if (crowd_test := crowd.test_set(data)) is not None:
        x_crowd, shares = crowd_test
        test[CROWD] = score(shares, predict(final, x_crowd, params.evaluation.batch_size))
        if (labels := crowd.of(data)) is not None:  # why the fer2013 row moves
            test[CROWD]["crowd"]["fer2013_labels_agree"] = labels.agreement
    record = {
        "name": MODEL_NAME,
        "faces": params.merged.faces,
        "source_model": selected,
        "source_stage": "merged"
        if selected in {r.name for r in params.merged.runs}
        else "baseline",
        "architecture": run.architecture,
        "width": run.width,
        "parameters": final.count_params(),
        "classes": list(CLASSES),
        "input": "48x48 grayscale face crops, uint8, as capstone.faces.crop.crop_face cuts them",
        "input_shape": list(final.input_shape[1:]),
        "crop": crop_record(),
        "calibration": calibration.to_json(),
        "test": test,
        "annotate": _annotate_test_sets(paths, params, data, final, calibration),
        "call_layouts": call_layouts(),
        "training_seconds": _training_seconds(paths, params, calibration),
        "training_machines": _training_machines(paths, params),
        "starts_from": _starting_network(paths, params, selected),
        "profile": params.profile,
        "params_file": params.source_file,
        "params_sha256": hashlib.sha256(profile_yaml(params).encode()).hexdigest(),
        "data": provenance.data_line(paths),
        "commit": provenance.git_commit(paths.root),
        "training_commit": read_json(paths.model(selected).with_suffix(".json")).get("commit"),
    }
    write_json(out / "final.json", record)
    return record


def _annotate_test_sets(
    paths: ProjectPaths, params: Params, data: Any, final: Any, calibration: CalibrationRecord
) -> dict[str, Any]:
    """:func:`capstone.evaluation.scores.annotation_scores` of ``final`` on the raw images of the
    test split of every dataset that is cut out of its pictures (``crop`` is a detector)."""
    scores = {}
    for name in DATASETS:
        detector = getattr(params.download, name).crop
        if detector == "none":
            continue
        files, y = data.files(name, "test")
        scores[name] = annotation_scores(
            final,
            [paths.raw / name / f for f in files],
            y,
            detector=detector,
            uncertain_below=calibration.uncertain_below,
            min_face=params.demo.min_face,
        )
    return scores


def _starting_network(paths: ProjectPaths, params: Params, name: str) -> dict[str, Any] | None:
    """The file the released network's chain of runs started from (a run's ``init_file``),
    with its hash and its own record's training time; ``None`` when it trained from scratch."""
    run = params.run(name)
    while run.init_from:
        run = params.run(run.init_from)
    if not run.init_file:
        return None
    path = paths.root / run.init_file
    own = read_json(path.with_suffix(".json")) if path.with_suffix(".json").is_file() else {}
    return {
        "file": run.init_file,
        "sha256": sha256_file(path),
        "training_seconds": own.get("training_seconds"),
        "profile": own.get("profile"),
    }


def crop_record() -> dict[str, Any]:
    """How faces are cut out for the released model: :func:`capstone.faces.crop.crop_face`'s settings."""
    return {
        "function": "capstone.faces.crop.crop_face",
        "size": crop.CROP_SIZE,
        "margin": crop.CROP_MARGIN,
        "align": crop.CROP_ALIGN,
        "contrast": crop.CROP_CONTRAST,
        "detector_pad": detect.DETECT_PAD,
    }


def _training_seconds(paths: ProjectPaths, params: Params, calibration: CalibrationRecord) -> float:
    """Every model of the baseline and merged stages, plus the head refit if one was fitted."""
    runs = _trained_runs(params)
    seconds = sum(read_json(paths.stage(s) / f"{n}.json")["train_seconds"] for s, n in runs)
    refit = calibration.head_refit.seconds if calibration.head_refit else 0.0
    return round(seconds + refit, 1)


def _training_machines(paths: ProjectPaths, params: Params) -> list[str]:
    """Where the baseline and merged stages' models trained, and in which precision: each
    machine once (a run recorded before machines were recorded counts as unrecorded)."""
    seen = []
    for stage, name in _trained_runs(params):
        record = read_json(paths.stage(stage) / f"{name}.json")
        where = f"{record.get('machine', 'an unrecorded machine')}, {record['precision']}"
        if where not in seen:
            seen.append(where)
    return seen


def call_layouts(detector: str = "mtcnn") -> list[dict[str, Any]]:
    """Faces found, invented and missed by annotation's default ``detector`` on the composed
    call layouts of :mod:`capstone.synthetic.layouts` (one portrait as a 2x2 to 7x7 gallery, a
    speaker view and a screen share), one row per layout."""
    composed = layouts.call_layouts(layouts.hopper())
    rows = layouts.score_detectors(composed, (detector,))
    keys = ("layout", "detector", "faces", "smallest face (px)", "true_positives")
    return [
        {k: r[k] for k in keys} | {"invented": r["false_positives"], "missed": r["missed"]}
        for r in rows
    ]


def _trained_runs(params: Params) -> list[tuple[str, str]]:
    """``(stage, run name)`` of every model the baseline and merged stages train."""
    return [("baseline", r.name) for r in params.baseline.runs] + [
        ("merged", r.name) for r in params.merged.runs
    ]
