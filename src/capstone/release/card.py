"""The model card (``models/README.md``), written from a ``final.json`` record.

:data:`TEMPLATE` is the card's text with ``$placeholders``; each placeholder is filled by a
small function below from the record alone, so every figure on the card comes from the run
that produced the model.
"""

from __future__ import annotations

from string import Template
from typing import Any

from capstone.metrics import BOOTSTRAP_RESAMPLES
from capstone.model.calibration_record import CalibrationRecord, HeadRefit, steps_table
from capstone.release.results import limits

TEMPLATE = Template("""\
# Model card: `$name`

A small CNN that reads the **perceived facial expression** of a face, cut out of a picture by
`capstone.faces.crop.crop_face`, as one of seven classes: $classes. It
describes how a face looks to annotators, not what the person feels.

This file is written by `capstone release` from `fer_cnn.json`; every figure below comes
from that record of the run that produced the model.

## Use
The file is self-contained: it loads with plain Keras (any backend, no project code) and
takes the crops as they are, uint8 `(n, 48, 48)`; the rescaling, the test-time
augmentation and the temperature are inside its graph.

```python
import cv2
import keras
import numpy as np

from capstone.faces.crop import crop_face
from capstone.faces.detect import detect

frame = cv2.imread("call.png")  # a screenshot of a call (BGR)
crops = np.stack([crop_face(frame, face) for face in detect(frame)])
probs = keras.models.load_model("models/fer_cnn.keras").predict(crops, verbose=0)
print(probs.round(2))  # one row a face, in the class order above
```

`capstone.faces.detect.detect` finds the faces (MTCNN: the `mtcnn` package's networks, run by
ONNX Runtime) and `capstone.faces.crop.crop_face` cuts each out as the model's training faces were.

`fer_cnn.onnx` is the same model for ONNX Runtime, without TensorFlow (the same readings
to 1e-4; it names the `.keras` file's SHA-256, and `capstone annotate` uses it while that
matches): `capstone.model.onnx_copy.load_for_reading("models/fer_cnn.keras")` loads it, and
its `predict_on_batch(crops)` reads the same crops.

## Model
- Architecture: `$architecture` (width $width): four VGG-style blocks of
  two 3x3 convolutions with batch norm, global average pooling, a $dense-unit ReLU layer, a
  linear layer and a softmax; $parameters parameters, $megabytes MB.
- Input: $input: $crop. Output: calibrated probabilities in the class
  order above.
- Test-time augmentation: $tta.
- Last layer: $head.
- Calibration, fitted on the validation split ($validation) and folded into the
  last layer: temperature $temperature; $offsets.
- Readings below a top probability of $uncertain_below are reported as
  "uncertain": above it, validation readings were right at least 70% of the time
  ($shown_share of validation faces were above it).
- sha256 of `fer_cnn.keras`: `$model_sha256`.

## Data and training
- Data: $data.
- Trained by the `$profile` profile, `$params_file` (written out whole here as
  `fer_cnn.params.yaml`, sha256 `$params_sha256…`); the released model is
  that profile's `$source_model` run, $trained_at, finished by the evaluation
  stage at code commit `$commit`. Its network was $lineage.
- Command: `capstone pipeline --params $params_file --to evaluation`, then
  `capstone release --params $params_file`.
- Training time of this profile, every model of the baseline and merged stages and the head
  refit together: $training_minutes minutes on $machines (precision chosen by the
  hardware: bf16 only where it is native).

## Results on the test sets
| test set | images | accuracy | macro-F1 |
|---|---|---|---|
$test_rows

${intervals_note}The `fer2013` row is the standard FER2013 PrivateTest split (models were selected on
PublicTest). The `wild` row is the in-the-wild stand-in's own held-out split (colour
film stills, the faces cut out by the same function; where the detector found none, around
the whole picture).$annotate_section$layouts_section$crowd_section

Per class on $class_test:

| class | precision | recall | F1 | images |
|---|---|---|---|---|
$class_rows

What each post-hoc step did on the validation split (ECE: expected calibration error). A
step marked "not kept" was tried and dropped: the rows after it start from the last kept
step. Class offsets are scored here on the faces they were fitted on, which flatters them.

| step | accuracy | macro-F1 | ECE |
|---|---|---|---|
$validation_rows

## Intended use
Coaching support for sales calls: summarising, over many frames, how a rep's and a
prospect's faces are likely to come across, as a prompt for a conversation between a rep
and a coach who watches the call.

## Limitations
- Perceived expressions are not emotions: people smile when uneasy and frown when they
  concentrate. Never use the output to judge a person, for hiring, pay or discipline.$limits$baseline_only
- Inferring emotions from faces at work is prohibited in the EU (AI Act, Article 5(1)(f));
  the tool reads staff only in a rep's own self-review.
""")


def model_card(record: dict[str, Any]) -> str:
    """The model card (markdown) for a ``final.json`` record."""
    cal = CalibrationRecord.from_json(record["calibration"], "the model's record")
    return TEMPLATE.substitute(
        name=record["name"],
        classes=", ".join(record["classes"]),
        architecture=record["architecture"],
        width=record["width"],
        dense=record["width"] * 8,
        parameters=f"{record['parameters']:,}",
        megabytes=f"{record['size_bytes'] / 1e6:.1f}",
        input=record["input"],
        crop=crop_line(record.get("crop", {})),
        tta=tta_line(cal),
        head=head_line(cal.head_refit),
        validation=validation_line(cal),
        temperature=f"{cal.temperature:.3f}",
        offsets=offsets_line(record["classes"], cal, record.get("faces", "fer2013")),
        uncertain_below=f"{cal.uncertain_below:.2f}",
        shown_share=f"{cal.shown_share:.0%}",
        model_sha256=record["model_sha256"],
        data=record["data"],
        profile=record["profile"],
        params_file=record["params_file"],
        params_sha256=record["params_sha256"][:16],
        source_model=record["source_model"],
        trained_at=trained_at(record.get("training_commit")),
        commit=record["commit"],
        lineage=lineage(record.get("starts_from")),
        training_minutes=f"{record['training_seconds'] / 60:.1f}",
        machines=machines_line(record.get("training_machines")),
        test_rows=test_rows(record["test"]),
        intervals_note=intervals_note(record["test"]),
        annotate_section=annotate_section(record.get("annotate", {})),
        layouts_section=layouts_section(record.get("call_layouts")),
        crowd_section=crowd_section(record["test"], record.get("faces", "fer2013")),
        class_test=class_test(record),
        class_rows=class_rows(record["test"][class_source(record)]["per_class"]),
        limits="".join(f"\n- {line}" for line in limits(record)),
        validation_rows=validation_rows(cal),
        baseline_only=BASELINE_ONLY if record.get("source_stage") == "baseline" else "",
    )


def class_source(record: dict[str, Any]) -> str:
    """The test set of the per-class table: the crowd's (FER+) where the record has it."""
    return "ferplus" if "per_class" in record["test"].get("ferplus", {}) else "fer2013"


def class_test(record: dict[str, Any]) -> str:
    """The per-class table's test set, in words."""
    if class_source(record) == "ferplus":
        return "FER+ PrivateTest, against the crowd's majority (recall: read as most people saw it)"
    return "FER2013 PrivateTest"


BASELINE_ONLY = (
    "\n- This network learned from FER2013 alone: no fine-tune on the in-the-wild faces beat it"
    " on the merged validation split, which is mostly FER2013. Expect it to read webcam and"
    " film faces worse (the cross-dataset row above)."
)


def ranged(scores: dict[str, Any], name: str, spec: str) -> str:
    """A score, followed by its 95% interval in brackets where the record has one."""
    text = format(scores[name], spec)
    if f"{name}_95ci" in scores:
        low, high = scores[f"{name}_95ci"]
        text += f" ({format(low, spec).rstrip('%')}-{format(high, spec)})"
    return text


def test_rows(test: dict[str, Any]) -> str:
    """A table row per test set: images, accuracy and macro-F1 (with intervals)."""
    return "\n".join(
        f"| {name} | {m['n']:,} | {ranged(m, 'accuracy', '.1%')} | {ranged(m, 'macro_f1', '.3f')} |"
        for name, m in test.items()
    )


def intervals_note(test: dict[str, Any]) -> str:
    """What the brackets mean, where every test set has intervals (older records have none)."""
    if not all("accuracy_95ci" in m for m in test.values()):
        return ""
    return (
        f"In brackets: 95% bootstrap intervals (the test images resampled {BOOTSTRAP_RESAMPLES:,}\n"
        "times), the range another draw of as many test faces would likely give.\n"
    )


def class_rows(per_class: dict[str, Any]) -> str:
    """A table row per class on FER2013 PrivateTest."""
    return "\n".join(
        f"| {c} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |"
        for c, v in per_class.items()
    )


def validation_rows(cal: CalibrationRecord) -> str:
    """A table row per post-hoc step on the validation split."""
    return "\n".join(
        f"| {label} | {v['accuracy']:.1%} | {v['macro_f1']:.3f} | {v['ece']:.3f} |"
        for label, v in steps_table(cal)
    )


def offsets_line(classes: list[str], cal: CalibrationRecord, faces: str = "fer2013") -> str:
    """The class offsets, or why there are none (``faces`` ``ferplus``: calibrated to a crowd)."""
    heldout = cal.class_offsets_heldout
    if heldout and not heldout.kept and faces == "ferplus":
        return (
            "no class offsets: they would move the readings away from the crowd's shares "
            f"(fitted on one half of validation, they changed macro-F1 on the other half from "
            f"{heldout.f1_without:.3f} to {heldout.f1_with:.3f})"
        )
    if heldout and not heldout.kept:
        return (
            "no class offsets (fitted on one half of validation, they changed macro-F1 on the "
            f"other half from {heldout.f1_without:.3f} to {heldout.f1_with:.3f})"
        )
    pairs = zip(classes, cal.class_offsets, strict=True)
    return "class offsets " + ", ".join(f"{c} {v:+.2f}" for c, v in pairs)


def head_line(refit: HeadRefit | None) -> str:
    """The last layer: as trained, or refitted (and whether the refit was kept)."""
    if refit and refit.kept:
        return (
            "refitted on the clean training images (a logistic regression on the features of "
            "every training face and its mirror image; kept because it raised validation accuracy)"
        )
    if refit:
        return "as trained (a refit on the training images was tried; it did not raise validation accuracy)"
    return "as trained"


def machines_line(machines: list[str] | None) -> str:
    """Where the models trained (older records: not recorded)."""
    if not machines:
        return "the machine that ran the pipeline (not recorded)"
    return " and ".join(machines)


def crop_line(crop: dict[str, Any]) -> str:
    """How faces are cut out for the model."""
    if not crop:
        return "the whole face image, resized"
    return (
        f"square around the detector's box, enlarged by {crop['margin']:.0%}, "
        f"{'eyes levelled' if crop['align'] else 'not rotated'}, contrast normalisation "
        f"{crop['contrast']}, {crop['size']}x{crop['size']} grayscale (`{crop['function']}`)"
    )


def lineage(start: dict[str, Any] | None) -> str:
    """Where the network's chain of runs started."""
    if not start:
        return "trained from scratch"
    if start.get("training_seconds"):
        return (
            f"continued from `{start['file']}` (sha256 `{start['sha256'][:16]}…`, trained from "
            f"scratch by its own profile in {start['training_seconds'] / 60:.1f} minutes)"
        )
    return f"continued from `{start['file']}`"


def trained_at(commit: str | None) -> str:
    """The code commit of the training run, where it recorded one."""
    if commit:
        return f"trained at code commit `{commit}`"
    return "whose training run did not record its commit"


def annotate_section(annotate: dict[str, Any]) -> str:
    """The test images read through ``capstone annotate``, where the record has them."""
    if not annotate:
        return ""
    rows = "\n".join(
        f"| {name} | {m['n']:,} | {m['face_found']:.1%} | {m['uncertain']:.1%} | "
        f"{m['accuracy']:.1%} | {m['macro_f1']:.3f} | "
        + (
            f"{m['accuracy_every_face']:.1%} / {m['macro_f1_every_face']:.3f} |"
            if "accuracy_every_face" in m
            else "not measured |"
        )
        for name, m in annotate.items()
    )
    return (
        "\n\nThe same test images read the way a user reads a picture, through `capstone "
        "annotate` (detect the faces, cut out the largest, classify it); a missed face or an "
        '"uncertain" reading counts as wrong. The last column shows the top class of every '
        "face found instead (`--uncertain-below 0`):\n\n"
        "| test set | images | face found | uncertain | accuracy | macro-F1 "
        "| every face labelled: accuracy / macro-F1 |\n"
        "|---|---|---|---|---|---|---|\n" + rows
    )


def layouts_section(layouts: list[dict[str, Any]] | None) -> str:
    """Faces found on the composed call layouts, where the record has them."""
    if not layouts:
        return ""
    rows = "\n".join(
        f"| {r['layout']} | {r['faces']} | {r['smallest face (px)']} | {r['true_positives']} "
        f"| {r['invented']} | {r['missed']} |"
        for r in layouts
    )
    found = sum(r["true_positives"] for r in layouts)
    total = sum(r["faces"] for r in layouts)
    return (
        f"\n\nOn the composed call layouts (one portrait tiled as video calls show people; "
        f"`capstone.synthetic.layouts`), annotation's detector ({layouts[0]['detector']}) found "
        f"{found} of {total} faces:\n\n"
        "| layout | faces | smallest face (px) | found | invented | missed |\n"
        "|---|---|---|---|---|---|\n" + rows
    )


def crowd_section(test: dict[str, Any], faces: str) -> str:
    """The readings against FER+'s crowd, where the record scored them, and what a reading
    means when the temperature was fitted to the crowd's vote shares (``faces`` ``ferplus``)."""
    m = test.get("ferplus", {}).get("crowd")
    if m is None:
        return ""
    meaning = (
        "\n\nThe readings are calibrated to the crowd's vote shares on FER+ Valid (PublicTest): "
        'a reading of "angry 42%" means that about 4 in 10 people would likely see the face as '
        "angry."
        if faces == "ferplus"
        else "\n\nThis model learned from FER2013's labels, one annotator's each; its readings "
        "are calibrated to those, not to how a crowd sees the faces."
    )
    agree = m.get("fer2013_labels_agree")
    if faces == "ferplus" and agree is not None:
        meaning += (
            " The `fer2013` row scores the same faces against FER2013's own labels, one "
            f"annotator's each, which are the crowd's majority for only {agree:.1%} of the "
            "clear-majority faces: a model that reads faces as the crowd does scores lower "
            "against them than one trained on them."
        )
    return (
        f"\n\nAgainst the crowd: the `ferplus` row is FER2013 PrivateTest as FER+ relabelled it "
        f"(10 taggers a face), its {m['n']:,} faces with a clear majority among the 7 classes. "
        f"The top reading is the crowd's most-voted class for {m['majority_accuracy']:.1%} of "
        f"them; the cross-entropy against the crowd's vote shares is {m['cross_entropy']:.3f} "
        f"(the crowd's own disagreement, the lowest possible: {m['crowd_entropy']:.3f}), and the "
        f"total variation {m['total_variation']:.3f} (0: the same shares as the crowd)." + meaning
    )


def validation_line(cal: CalibrationRecord) -> str:
    """Which validation faces calibration read (older records: FER2013 PublicTest alone)."""
    if not cal.validation_faces:
        return "FER2013 PublicTest"
    return ", ".join(
        f"{name}: {v['faces']:,} faces"
        + (f", each counted {v['repeat']} times" if v["repeat"] > 1 else "")
        for name, v in cal.validation_faces.items()
    )


def tta_line(cal: CalibrationRecord) -> str:
    """The model card's line on test-time augmentation."""
    views = ["the mirror image"] if cal.tta_flip else []
    if cal.tta_shift:
        views.append(f"copies shifted {cal.tta_shift} pixels up, down, left and right")
    if not views:
        return "none"
    return (
        "predictions average in " + " and ".join(views) + " (each kept only because it raised "
        "validation accuracy), inside the model's graph: callers pass the crops alone"
    )
