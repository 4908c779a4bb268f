"""The released model's results, read from stored records only: the book's Results chapter.

Two kinds of record feed it, and nothing else:

- the model's own record, ``fer_cnn.json`` beside ``fer_cnn.keras`` (written by
  ``capstone release``; it ships with the package): the test sets, the crowd, the calibration;
- the benchmarks' records under ``benchmarks/results/`` (:mod:`capstone.provenance`):
  ``crowd_agreement`` (FER+ PrivateTest: what a reading means, and the ``fer`` peer on the same
  faces, against the crowd and against FER2013's own labels) and ``wild_annotate`` (SFEW 2.0 val
  through ``capstone annotate``, ours and the peer's).

A benchmark record made with another model file is not used: its figures describe an older
release. Whatever is missing is said in :attr:`ReleasedResults.missing`, never made up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from capstone.metrics import wilson_interval
from capstone.model.released import record_of
from capstone.paths import released_model
from capstone.provenance import BenchmarkRecord, benchmark_file, load_benchmark

#: The peer's name as a reader sees it.
PEER = "fer (mini-Xception)"
OURS = "this project's model"
#: The expressions a sales manager most needs to see: unhappy, worried or put off.
NEGATIVE = ("angry", "disgust", "fear", "sad")


@dataclass(frozen=True)
class ClassAgreement:
    """How often faces the crowd saw as ``expression`` were read as it: ``hits`` of ``faces``
    (95% ``interval``), and the expression read ``instead`` most often, with its ``share``."""

    expression: str
    faces: int
    hits: int
    interval: tuple[float, float]
    instead: str
    instead_share: float

    @property
    def share(self) -> float:
        return self.hits / self.faces if self.faces else 0.0


def crowd_test(record: dict[str, Any]) -> dict[str, Any]:
    """A model record's FER+ PrivateTest scores (``test.ferplus``), ``{}`` where it has none."""
    return record.get("test", {}).get("ferplus", {})


def confusion_counts(record: dict[str, Any]) -> np.ndarray:
    """Faces by the crowd's majority (rows) and the model's top reading (columns), from a
    model record (empty where it has no FER+ test).

    The record keeps each row's shares (to 4 decimals) and the row's number of faces, which
    give back the counts exactly for rows of under 5,000 faces.
    """
    test = crowd_test(record)
    shares, k = np.asarray(test.get("confusion", []), dtype=float), len(record["classes"])
    if shares.shape != (k, k):
        return np.zeros((0, 0), dtype=int)
    faces = np.array([test["per_class"][c]["support"] for c in record["classes"]])
    return np.rint(shares * faces[:, None]).astype(int)


def per_class(record: dict[str, Any]) -> list[ClassAgreement]:
    """Each expression the crowd named: how often the model read it as such."""
    classes, counts = record["classes"], confusion_counts(record)
    rows = []
    for i in range(len(counts)):
        faces, hits = int(counts[i].sum()), int(counts[i, i])
        others = counts[i].copy()
        others[i] = -1
        j = int(others.argmax())
        low, high = wilson_interval(hits, faces)
        instead = counts[i, j] / max(faces, 1)
        rows.append(ClassAgreement(classes[i], faces, hits, (low, high), classes[j], instead))
    return rows


def failures(record: dict[str, Any]) -> list[str]:
    """Where a model's readings fail against the crowd, in plain words: how many negative
    faces it reads as neutral, then each expression it reads as itself less than 60% of the
    time, worst first, with what it reads instead. Empty for a record without FER+."""
    rows = per_class(record)
    weak = sorted((c for c in rows if c.share < 0.6), key=lambda c: c.share)
    negative = [c for c in rows if c.expression in NEGATIVE]
    faces = sum(c.faces for c in negative)
    counts, classes = confusion_counts(record), record["classes"]
    as_neutral = sum(
        int(counts[classes.index(c.expression), classes.index("neutral")]) for c in negative
    )
    share, names = as_neutral / max(faces, 1), ", ".join(c.expression for c in negative)
    neutral = (
        f"**Negative faces read as neutral**: of {faces:,} faces most people saw as "
        f"{names}, the model read {share:.0%} as neutral."
    )
    lines = [neutral] if faces else []
    return lines + [
        f"**{c.expression}**: of {c.faces:,} faces most people saw as {c.expression}, the "
        f"model read {c.share:.0%} as {c.expression} (95% interval {c.interval[0]:.0%}-"
        f"{c.interval[1]:.0%}) and {c.instead_share:.0%} as {c.instead}."
        for c in weak
    ]


#: The limits every release shares, whatever its figures.
STANDING_LIMITS = (
    (
        "**No contempt**: the model reads seven expressions. FER+'s crowd rarely calls a face "
        "contempt; those faces were left out of training and testing, so a smirk is read as "
        "something else."
    ),
    (
        "**Film stills and photos, not webcams**: no test set is webcam video. Faces in calls "
        "are smaller, blurrier and lit worse; the in-the-wild figures are the nearest measure."
    ),
    (
        "**No breakdown by age, sex or skin tone**: none of the datasets records them, so how "
        "the readings differ between groups of people is not known. FER2013's faces are "
        "mostly frontal and adult."
    ),
)


def limits(record: dict[str, Any]) -> list[str]:
    """What a manager should read as the limits of the readings, in plain words (markdown):
    :func:`failures`, then how rarely "uncertain" fires, and :data:`STANDING_LIMITS`."""
    calibration = record["calibration"]
    uncertain = 1.0 - float(calibration["shown_share"])
    rarely = (
        f'**"Uncertain" rarely fires**: readings whose top share is below '
        f'{calibration["uncertain_below"]:.0%} are shown as "uncertain", {uncertain:.2%} of '
        'validation faces. A low top share ("neutral 38%") is itself the sign that people '
        "would disagree about the face."
    )
    return [*failures(record), rarely, *STANDING_LIMITS]


@dataclass(frozen=True)
class PeerRow:
    """One test on which the released model (``ours``) and the peer (``theirs``) were both
    scored: a share read right (``share``), or another figure (the cross-entropy: lower is
    better). ``None``: no record holds the figure."""

    test: str
    short: str
    ours: float | None
    theirs: float | None
    share: bool = True
    higher_is_better: bool | None = None

    @property
    def higher(self) -> bool:
        return self.share if self.higher_is_better is None else self.higher_is_better

    def text(self, value: float | None) -> str:
        if value is None:
            return "not measured"
        return f"{value:.1%}" if self.share else f"{value:.3f}"

    def better(self) -> str:
        """Which reads better on this test: ours, the peer's, ``even``, or ``""`` (unknown)."""
        if self.ours is None or self.theirs is None:
            return ""
        if self.ours == self.theirs:
            return "even"
        return OURS if (self.ours > self.theirs) == self.higher else PEER


@dataclass(frozen=True)
class ReleasedResults:
    """The released model's record, and the benchmark records made with that same file.

    Build it with :meth:`load`. ``record`` is ``fer_cnn.json``; ``crowd`` and ``wild`` are
    the benchmark records (``None`` where absent or made with another model file);
    ``missing`` says, in words, each figure the chapter cannot show and why.
    """

    model: Path
    record: dict[str, Any]
    crowd: BenchmarkRecord | None
    wild: BenchmarkRecord | None
    missing: tuple[str, ...]

    @classmethod
    def load(cls, root: str | Path = ".") -> ReleasedResults:
        """The released model of the project at ``root`` and its records."""
        model = released_model(root)
        record = record_of(model)
        missing: list[str] = []
        found = {}
        for name in ("crowd_agreement", "wild_annotate"):
            bench = load_benchmark(name, root)
            if bench is None:
                missing.append(
                    f"`{name}`: no record at {benchmark_file(name, root)}; run "
                    f"`python benchmarks/{name}.py` on the real data to make it"
                )
            elif bench.model_sha256 != record.get("model_sha256"):
                missing.append(
                    f"`{name}`: its record ({bench.date}) measured another model file; run "
                    f"`python benchmarks/{name}.py` again for this release"
                )
                bench = None
            found[name] = bench
        return cls(model, record, found["crowd_agreement"], found["wild_annotate"], tuple(missing))

    # -- the crowd (FER+ PrivateTest), from the model's record -------------------------------

    @property
    def crowd_test(self) -> dict[str, Any]:
        """The record's FER+ PrivateTest scores (``test.ferplus``)."""
        return crowd_test(self.record)

    @property
    def majority_accuracy(self) -> float:
        """How often the top reading is the crowd's most-voted expression, as recorded."""
        return float(self.crowd_test["crowd"]["majority_accuracy"])

    def confusion_counts(self) -> np.ndarray:
        """Faces by the crowd's majority (rows) and the model's top reading (columns)."""
        return confusion_counts(self.record)

    def per_class(self) -> list[ClassAgreement]:
        """Each expression the crowd named: how often the model read it as such."""
        return per_class(self.record)

    def failures(self) -> list[str]:
        """Where the readings fail, in plain words (:func:`failures`)."""
        return failures(self.record)

    def limits(self) -> list[str]:
        """The limits of the readings, in plain words (:func:`limits`)."""
        return limits(self.record)

    @property
    def uncertain_share(self) -> float:
        """The share of validation faces whose reading is "uncertain" (below the threshold)."""
        return 1.0 - float(self.record["calibration"]["shown_share"])

    # -- against the peer, from the benchmark records ----------------------------------------

    def reliability(self) -> dict[str, list[dict[str, Any]]]:
        """What a reading means: the crowd's share behind each bin of readings, per reader."""
        if self.crowd is None:
            return {}
        readers = self.crowd.results["readers"]
        names = {"ours": OURS, "fer": PEER}
        return {names[k]: readers[k]["crowd"]["reliability"] for k in names if k in readers}

    def peer_rows(self) -> list[PeerRow]:
        """The released model and the ``fer`` peer on the same faces, both ways: against the
        crowd, against FER2013's own labels (one annotator a face), and in the wild.

        Ours comes from the model's record; the peer's from the benchmarks' records (``None``
        where no record holds it).
        """
        readers = self.crowd.results["readers"] if self.crowd else {}
        peer = readers.get("fer", {})
        wild_peer = self.wild.results.get("fer network, same crops") if self.wild else None
        test, annotate = self.record["test"], self.record.get("annotate", {}).get("wild", {})
        crowd = self.crowd_test["crowd"]
        return [
            PeerRow(
                f"FER+ PrivateTest ({crowd['n']:,} faces): the crowd's most-voted expression",
                "FER+: the crowd's majority",
                crowd["majority_accuracy"],
                peer.get("crowd", {}).get("majority_accuracy"),
            ),
            PeerRow(
                "the same faces: cross-entropy to the crowd's shares (lower is better)",
                "FER+: cross-entropy",
                crowd["cross_entropy"],
                peer.get("crowd", {}).get("cross_entropy"),
                share=False,
            ),
            PeerRow(
                f"FER2013 PrivateTest ({test['fer2013']['n']:,} faces), its own labels: accuracy",
                "FER2013: its own labels",
                test["fer2013"]["accuracy"],
                peer.get("fer2013", {}).get("accuracy"),
            ),
            PeerRow(
                "the same, its own labels: macro-F1",
                "FER2013: macro-F1",
                test["fer2013"]["macro_f1"],
                peer.get("fer2013", {}).get("macro_f1"),
                share=False,
                higher_is_better=True,
            ),
            PeerRow(
                f"SFEW 2.0 val ({annotate.get('n', 0):,} film stills) through capstone "
                "annotate: accuracy",
                "SFEW film stills, through annotate",
                annotate.get("accuracy"),
                None if wild_peer is None else wild_peer["accuracy"],
            ),
        ]

    def against_peer(self) -> pd.DataFrame:
        """:meth:`peer_rows` as a table a person reads, saying which reads better."""
        return pd.DataFrame(
            {
                "test": row.test,
                OURS: row.text(row.ours),
                PEER: row.text(row.theirs),
                "reads better": row.better(),
            }
            for row in self.peer_rows()
        )

    def in_the_wild(self) -> pd.DataFrame:
        """SFEW 2.0 val (film stills): the faces as cut for training, and through annotation."""
        wild = self.record["test"].get("wild")
        annotate = self.record.get("annotate", {}).get("wild")
        rows = []
        if wild:
            rows.append(
                {
                    "how the faces were read": "cut out as for training (the record's test set)",
                    "images": f"{wild['n']:,}",
                    "face found": "",
                    "accuracy": _ranged(wild, "accuracy", "{:.1%}"),
                    "macro-F1": _ranged(wild, "macro_f1", "{:.3f}"),
                }
            )
        if annotate:
            rows.append(
                {
                    "how the faces were read": "through capstone annotate (a missed face "
                    "counts as wrong)",
                    "images": f"{annotate['n']:,}",
                    "face found": f"{annotate['face_found']:.1%}",
                    "accuracy": f"{annotate['accuracy']:.1%}",
                    "macro-F1": f"{annotate['macro_f1']:.3f}",
                }
            )
        return pd.DataFrame(rows)

    def provenance(self) -> pd.DataFrame:
        """Where each figure came from: the model, the data, the code and the machine."""
        r = self.record
        trained = (
            f"profile {r['profile']} ({r['params_file']}), run {r['source_model']}, "
            f"code commit {str(r.get('training_commit'))[:10]}"
        )
        rows = [
            ("the released model", f"{self.model.name}, sha256 {r['model_sha256'][:16]}…"),
            ("trained by", trained),
            ("on", ", ".join(r.get("training_machines") or ["an unrecorded machine"])),
            ("test figures", f"the release's own evaluation, code commit {r['commit'][:10]}"),
            ("data", r["data"]),
        ]
        for bench in (self.crowd, self.wild):
            if bench is not None:
                made = (
                    f"{bench.command} on {bench.date}, code commit {bench.commit[:10]}, "
                    f"{bench.machine}"
                )
                rows.append((f"benchmarks/results/{bench.name}.json", made))
        return pd.DataFrame(rows, columns=["what", "where it came from"])


def _ranged(scores: dict[str, Any], name: str, spec: str) -> str:
    low_high = scores.get(f"{name}_95ci")
    text = spec.format(scores[name])
    if low_high:
        text += f" ({spec.format(low_high[0])}-{spec.format(low_high[1])})"
    return text


def build_note(profile: str, synthetic: bool) -> str:
    """What the rest of this build of the book is, beside this chapter's real figures."""
    if synthetic:
        return (
            f"**This chapter reports the released model, measured on real faces.** The other "
            f"chapters of this build ran the `{profile}` profile on synthetic cartoon faces: a "
            "smoke run that proves every step of the code runs, not how well anything reads "
            "real faces. Their figures are not results."
        )
    return (
        f"**This chapter reports the released model, measured on real faces.** The other "
        f"chapters of this build ran the `{profile}` profile on the real data, and show how "
        "such a model is made."
    )
