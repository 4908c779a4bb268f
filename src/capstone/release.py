"""The released model: the best trained model, calibrated, with its params and model card.

Two steps. The evaluation stage calls :func:`prepare`, which calibrates the merged stage's
pick on the validation split and writes ``build/evaluation/final.keras`` with a record of
where it came from and how it scores (``final.json``). ``capstone release`` then calls
:func:`publish`, which copies both into ``models/`` with the params file and a model card
(``models/README.md``) written from that record. The sample profile's synthetic model is
never published.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

from capstone import faces, provenance, training
from capstone.artefacts import atomic_path, read_json, sha256_file, write_json, write_text
from capstone.calibration import calibrate, steps_table
from capstone.errors import CapstoneError
from capstone.evaluation import BOOTSTRAP_RESAMPLES, annotation_scores, score
from capstone.inference import MODEL_NAME, load_model, predict, released_model, self_contained
from capstone.params import CLASSES, Params, profile_yaml
from capstone.paths import ProjectPaths


def prepare(paths: ProjectPaths, params: Params, data: Any) -> dict[str, Any]:
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
    selected = training.selected(paths.stage("merged"))
    run = params.run(selected)
    if run.architecture != "compact_cnn":
        raise CapstoneError(
            f"only a compact_cnn can be released; {selected!r} is {run.architecture}"
        )
    model = load_model(paths.model(selected))
    train_xy = data.merged("train", {"affectnet": params.merged.wild_repeat})
    network, calibration = calibrate(
        model,
        run.architecture,
        run.width,
        data.merged("val"),  # each face once: the class offsets' held-out check needs that
        params.evaluation.batch_size,
        try_flip=params.evaluation.tta_flip,
        try_shift=params.evaluation.tta_shift,
        train_xy=train_xy if params.evaluation.refit_head else None,
    )
    calibration["validation_faces"] = {
        name: {"faces": len(data.xy(name, "val")[1]), "repeat": 1} for name in data.stores
    }
    final = self_contained(network, calibration["tta_flip"], calibration["tta_shift"])
    out = paths.stage("evaluation")
    with atomic_path(out / "final.keras") as tmp:
        final.save(tmp)
    test = {
        name: score(
            data.xy(name, "test")[1],
            predict(final, data.xy(name, "test")[0], params.evaluation.batch_size),
        )
        for name in data.stores
    }
    record = {
        "name": MODEL_NAME,
        "source_model": selected,
        "source_stage": "merged"
        if selected in {r.name for r in params.merged.runs}
        else "baseline",
        "architecture": run.architecture,
        "width": run.width,
        "parameters": final.count_params(),
        "classes": list(CLASSES),
        "input": "48x48 grayscale face crops, uint8, as capstone.faces.crop_face cuts them",
        "input_shape": list(final.input_shape[1:]),
        "crop": crop_record(),
        "calibration": calibration,
        "test": test,
        "annotate": _annotate_test_sets(paths, params, data, final, calibration),
        "training_seconds": _training_seconds(paths, params, calibration),
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
    paths: ProjectPaths, params: Params, data: Any, final: Any, calibration: dict[str, Any]
) -> dict[str, Any]:
    """:func:`capstone.evaluation.annotation_scores` of ``final`` on the raw images of the
    test split of every dataset that is cut out of its pictures (``crop`` is a detector)."""
    scores = {}
    for name in data.stores:
        detector = getattr(params.download, name).crop
        if detector == "none":
            continue
        files, y = data.files(name, "test")
        scores[name] = annotation_scores(
            final,
            [paths.raw / name / f for f in files],
            y,
            detector=detector,
            uncertain_below=calibration["uncertain_below"],
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
    """How faces are cut out for the released model: :func:`capstone.faces.crop_face`'s settings."""
    return {
        "function": "capstone.faces.crop_face",
        "size": faces.CROP_SIZE,
        "margin": faces.CROP_MARGIN,
        "align": faces.CROP_ALIGN,
        "contrast": faces.CROP_CONTRAST,
        "detector_pad": faces.DETECT_PAD,
    }


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
    profile = profile_yaml(params)  # whole: what it extends and its defaults written out
    record["params_sha256"] = hashlib.sha256(profile.encode()).hexdigest()
    write_text(dest / f"{MODEL_NAME}.params.yaml", profile)
    write_json(dest / f"{MODEL_NAME}.json", record)
    write_text(dest / "README.md", model_card(record))
    return dest / f"{MODEL_NAME}.keras"


def _ranged(scores: dict[str, Any], name: str, spec: str) -> str:
    """A score, followed by its 95% interval in brackets where the record has one."""
    text = format(scores[name], spec)
    if f"{name}_95ci" in scores:
        low, high = scores[f"{name}_95ci"]
        text += f" ({format(low, spec).rstrip('%')}-{format(high, spec)})"
    return text


def model_card(record: dict[str, Any]) -> str:
    """The model card (markdown) for a ``final.json`` record: every figure comes from it."""
    cal = record["calibration"]
    test_rows = "\n".join(
        f"| {name} | {m['n']:,} | {_ranged(m, 'accuracy', '.1%')} | {_ranged(m, 'macro_f1', '.3f')} |"
        for name, m in record["test"].items()
    )
    intervals_note = (
        f"In brackets: 95% bootstrap intervals (the test images resampled {BOOTSTRAP_RESAMPLES:,}\n"
        "times), the range another draw of as many test faces would likely give.\n"
        if all("accuracy_95ci" in m for m in record["test"].values())
        else ""
    )
    fer = record["test"]["fer2013"]
    class_rows = "\n".join(
        f"| {c} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |"
        for c, v in fer["per_class"].items()
    )
    val_rows = "\n".join(
        f"| {label} | {v['accuracy']:.1%} | {v['macro_f1']:.3f} | {v['ece']:.3f} |"
        for label, v in steps_table(cal)
    )
    offsets = "class offsets " + ", ".join(
        f"{c} {v:+.2f}" for c, v in zip(record["classes"], cal["class_offsets"], strict=True)
    )
    heldout = cal.get("class_offsets_heldout")
    if heldout and not heldout["kept"]:
        offsets = (
            "no class offsets (fitted on one half of validation, they changed macro-F1 on the "
            f"other half from {heldout['f1_without']:.3f} to {heldout['f1_with']:.3f})"
        )
    refit = cal.get("head_refit")
    head = "as trained"
    if refit and refit["kept"]:
        head = (
            "refitted on the clean training images (a logistic regression on the features of "
            "every training face and its mirror image; kept because it raised validation accuracy)"
        )
    elif refit:
        head += " (a refit on the training images was tried; it did not raise validation accuracy)"
    baseline_only = (
        "\n- This network learned from FER2013 alone: no fine-tune on the in-the-wild faces beat it"
        " on the merged validation split, which is mostly FER2013. Expect it to read webcam and"
        " film faces worse (the cross-dataset row above)."
        if record.get("source_stage") == "baseline"
        else ""
    )
    crop = record.get("crop", {})
    crop_line = (
        f"square around the detector's box, enlarged by {crop['margin']:.0%}, "
        f"{'eyes levelled' if crop['align'] else 'not rotated'}, contrast normalisation "
        f"{crop['contrast']}, {crop['size']}x{crop['size']} grayscale (`{crop['function']}`)"
        if crop
        else "the whole face image, resized"
    )
    start = record.get("starts_from")
    lineage = (
        f"continued from `{start['file']}` (sha256 `{start['sha256'][:16]}…`, trained from "
        f"scratch by its own profile in {start['training_seconds'] / 60:.1f} minutes)"
        if start and start.get("training_seconds")
        else f"continued from `{start['file']}`"
        if start
        else "trained from scratch"
    )
    annotate_rows = "\n".join(
        f"| {name} | {m['n']:,} | {m['face_found']:.1%} | {m['uncertain']:.1%} | "
        f"{m['accuracy']:.1%} | {m['macro_f1']:.3f} | "
        + (
            f"{m['accuracy_every_face']:.1%} / {m['macro_f1_every_face']:.3f} |"
            if "accuracy_every_face" in m
            else "not measured |"
        )
        for name, m in record.get("annotate", {}).items()
    )
    annotate_section = (
        "\n\nThe same test images read the way a user reads a picture, through `capstone "
        "annotate` (detect the faces, cut out the largest, classify it); a missed face or an "
        '"uncertain" reading counts as wrong. The last column shows the top class of every '
        "face found instead (`--uncertain-below 0`):\n\n"
        "| test set | images | face found | uncertain | accuracy | macro-F1 "
        "| every face labelled: accuracy / macro-F1 |\n"
        "|---|---|---|---|---|---|---|\n" + annotate_rows
        if annotate_rows
        else ""
    )
    trained_at = (
        f"trained at code commit `{record['training_commit']}`"
        if record.get("training_commit")
        else "whose training run did not record its commit"
    )
    return f"""# Model card: `{record["name"]}`

A small CNN that reads the **perceived facial expression** of a face, cut out of a picture by
`capstone.faces.crop_face`, as one of seven classes: {", ".join(record["classes"])}. It
describes how a face looks to annotators, not what the person feels.

This file is written by `capstone release` from `fer_cnn.json`; every figure below comes
from that record of the run that produced the model.

## Use
The file is self-contained: it loads with plain Keras (any backend, no project code) and
takes the crops as they are, uint8 `(n, 48, 48)`; the rescaling, the test-time
augmentation and the temperature are inside its graph.

```python
import keras
import numpy as np
from capstone.faces import crop_face, detect

crops = np.stack([crop_face(frame, face) for face in detect(frame)])
probs = keras.models.load_model("models/fer_cnn.keras").predict(crops)
```

## Model
- Architecture: `{record["architecture"]}` (width {record["width"]}): four VGG-style blocks of
  two 3x3 convolutions with batch norm, global average pooling, a {record["width"] * 8}-unit ReLU layer, a
  linear layer and a softmax; {record["parameters"]:,} parameters, {record["size_bytes"] / 1e6:.1f} MB.
- Input: {record["input"]}: {crop_line}. Output: calibrated probabilities in the class
  order above.
- Test-time augmentation: {_tta_line(cal)}.
- Last layer: {head}.
- Calibration, fitted on the validation split ({_validation_line(cal)}) and folded into the
  last layer: temperature {cal["temperature"]:.3f}; {offsets}.
- Readings below a top probability of {cal.get("uncertain_below", 0.4):.2f} are reported as
  "uncertain": above it, validation readings were right at least 70% of the time
  ({cal.get("shown_share", float("nan")):.0%} of validation faces were above it).
- sha256 of `fer_cnn.keras`: `{record["model_sha256"]}`.

## Data and training
- Data: {record["data"]}.
- Trained by the `{record["profile"]}` profile, `{record["params_file"]}` (copied here as
  `fer_cnn.params.yaml`, sha256 `{record["params_sha256"][:16]}…`); the released model is
  that profile's `{record["source_model"]}` run, {trained_at}, finished by the evaluation
  stage at code commit `{record["commit"]}`. Its network was {lineage}.
- Command: `capstone pipeline --params {record["params_file"]} --to evaluation`, then
  `capstone release --params {record["params_file"]}`.
- Training time of this profile, every model of the baseline and merged stages and the head
  refit together: {record["training_seconds"] / 60:.1f} minutes on this machine (2 CPU
  cores, precision chosen by the hardware: bf16 only where it is native).

## Results on the test sets
| test set | images | accuracy | macro-F1 |
|---|---|---|---|
{test_rows}

{intervals_note}The `fer2013` row is the standard FER2013 PrivateTest split (models were selected on
PublicTest). The `affectnet` row is the in-the-wild stand-in's own held-out split (colour
film stills, the faces cut out by the same function; where the detector found none, around
the whole picture).{annotate_section}

Per class on FER2013 PrivateTest:

| class | precision | recall | F1 | images |
|---|---|---|---|---|
{class_rows}

What each post-hoc step did on the validation split (ECE: expected calibration error). A
step marked "not kept" was tried and dropped: the rows after it start from the last kept
step. Class offsets are scored here on the faces they were fitted on, which flatters them.

| step | accuracy | macro-F1 | ECE |
|---|---|---|---|
{val_rows}

## Intended use
Coaching support for sales calls: summarising, over many frames, how a rep's and a
prospect's faces are likely to come across, as a prompt for a conversation between a rep
and a coach who watches the call.

## Limitations
- Perceived expressions are not emotions: people smile when uneasy and frown when they
  concentrate. Never use the output to judge a person, for hiring, pay or discipline.
- FER2013's labels are noisy (human agreement on it is about 65%) and its faces are mostly
  frontal, white and adult; accuracy is lower on other faces, as the cross-dataset row shows.
- Disgust and fear are rare in the training data and remain the weakest classes.{baseline_only}
- Inferring emotions from faces at work is restricted in the EU (AI Act, Article 5(1)(f)).
"""


def _validation_line(cal: dict[str, Any]) -> str:
    """Which validation faces calibration read (older records: FER2013 PublicTest alone)."""
    faces = cal.get("validation_faces")
    if not faces:
        return "FER2013 PublicTest"
    return ", ".join(
        f"{name}: {v['faces']:,} faces"
        + (f", each counted {v['repeat']} times" if v["repeat"] > 1 else "")
        for name, v in faces.items()
    )


def _tta_line(cal: dict[str, Any]) -> str:
    """The model card's line on test-time augmentation (older records have no ``tta_shift``)."""
    views = ["the mirror image"] if cal.get("tta_flip") else []
    if cal.get("tta_shift"):
        views.append(f"copies shifted {cal['tta_shift']} pixels up, down, left and right")
    if not views:
        return "none"
    return (
        "predictions average in " + " and ".join(views) + " (each kept only because it raised "
        "validation accuracy), inside the model's graph: callers pass the crops alone"
    )


def _training_seconds(paths: ProjectPaths, params: Params, calibration: dict[str, Any]) -> float:
    """Every model of the baseline and merged stages, plus the head refit if one was fitted."""
    runs = [("baseline", r.name) for r in params.baseline.runs]
    runs += [("merged", r.name) for r in params.merged.runs]
    seconds = sum(read_json(paths.stage(s) / f"{n}.json")["train_seconds"] for s, n in runs)
    return round(seconds + (calibration.get("head_refit") or {}).get("seconds", 0.0), 1)


def model_path(paths: ProjectPaths, name: str) -> Path:
    """The model a profile names: ``released`` (``models/``), ``final`` (the evaluation
    stage's), ``selected`` (the merged stage's pick), or a run name of the profile."""
    if name == "released":
        return released_model(paths.root)
    if name == "final":
        return paths.stage("evaluation") / "final.keras"
    if name == "selected":
        name = training.selected(paths.stage("merged"))
    return paths.model(name)
