"""Load a YAML params profile and validate it into frozen dataclasses, one per stage.

Validation is strict and fast (no TensorFlow import): an unknown key, a value of the
wrong type or a missing input file fails at once with a message that names the file
and the dotted key, e.g. ``params/sample.yaml: baseline.runs[0].epochs: expected int, got 'ten'``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from capstone.errors import ParamsError
from capstone.labels import SIZE
from capstone.profiles import MUST_EXIST, build, read_profile, renamed_keys

#: The datasets every profile has, by their key under ``download`` (:class:`Download`).
DATASETS: tuple[str, ...] = ("fer2013", "wild")

#: A dataset a profile may add: FER+, the crowd's votes for the FER2013 faces.
CROWD = "ferplus"


#: What a video call does to a face, imitated while training (capstone.model.augmentation).
Degradation = Literal["blur", "jpeg", "noise", "low_light", "cast", "downscale"]


@dataclass(frozen=True)
class DatasetSource:
    """Where one dataset comes from.

    ``source`` is ``sample`` (generated offline), ``kaggle`` (official client, needs
    credentials) or ``local`` (a zip or folder at ``path`` in the Kaggle layout; for FER+,
    FERPlus's layout: see :mod:`capstone.data.ferplus`). ``crop``
    names the face detector whose largest face :func:`capstone.faces.crop.crop_face` cuts out of
    each image (``mtcnn`` or ``haar``), for a dataset that is not already cut like FER2013;
    ``none`` takes each image whole.
    """

    source: Literal["sample", "kaggle", "local"]
    kaggle: str = ""
    version: int | None = None
    path: str | None = field(default=None, metadata=MUST_EXIST)
    sha256: str | None = None
    crop: Literal["none", "mtcnn", "haar"] = "none"


@dataclass(frozen=True)
class SampleSpec:
    """Size of the synthetic sample (used by datasets whose source is ``sample``)."""

    fer_train: int = 1400
    fer_test: int = 250
    wild: int = 420
    wild_size: int = 96


@dataclass(frozen=True)
class SplitSpec:
    """How the images are split; see :mod:`capstone.data.splits` for the two protocols.

    ``wild_group`` is a regular expression on the second dataset's file names whose first
    group names a clip or person (e.g. ``^(.+)_\\d+$`` for SFEW's ``<movie>_<clip>_<frame>``);
    images of one group stay in one split, so near-identical frames cannot leak.
    """

    protocol: Literal["fer2013", "seed"] = "fer2013"
    remove_leakage: bool = True
    wild_val: float = 0.15
    wild_test: float = 0.15
    wild_group: str | None = None
    seed_fractions: list[float] = field(default_factory=lambda: [0.7, 0.2, 0.1])

    def __post_init__(self) -> None:
        if len(self.seed_fractions) != 3 or abs(sum(self.seed_fractions) - 1) > 1e-6:
            raise ValueError("seed_fractions must be three numbers (train, val, test) summing to 1")
        if not 0 <= self.wild_val < 1 or not 0 <= self.wild_test < 1:
            raise ValueError("wild_val and wild_test must be fractions in [0, 1)")
        if self.wild_group is not None:
            try:
                if re.compile(self.wild_group).groups < 1:
                    raise ValueError("wild_group needs one capture group, e.g. ^(.+)_\\d+$")
            except re.error as err:
                raise ValueError(f"wild_group is not a valid regular expression: {err}") from None


@dataclass(frozen=True)
class Download:
    """The datasets: ``fer2013``, ``wild`` (the in-the-wild colour faces) and, where a
    profile gives it, ``ferplus`` (FER+: 10 crowd taggers' votes for each FER2013 face).

    ``wild`` is AffectNet-HQ in the full profile and SFEW 2.0 in the shared one; profiles
    written before it was renamed call it ``affectnet`` (see :data:`capstone.profiles.RENAMED_KEYS`).
    """

    fer2013: DatasetSource
    wild: DatasetSource
    ferplus: DatasetSource | None = None
    sample: SampleSpec = field(default_factory=SampleSpec)
    image_size: int = SIZE
    splits: SplitSpec = field(default_factory=SplitSpec)

    def __post_init__(self) -> None:
        if self.image_size != SIZE:
            raise ValueError(
                f"image_size must be {SIZE}, the side of the crops every model reads "
                "(capstone.labels.SIZE); a phase of a run may train smaller (its image_size)"
            )

    def datasets(self) -> tuple[str, ...]:
        """The keys of the datasets this profile downloads."""
        return (*DATASETS, CROWD) if self.ferplus is not None else DATASETS


@dataclass(frozen=True)
class Eda:
    examples_per_class: int = 6


@dataclass(frozen=True)
class Phase:
    """One round of ``fit``: a later phase continues from the previous one's weights.

    ``image_size`` trains the phase on images resized to that many pixels square (a cheaper,
    lower-resolution warm-up); ``None`` keeps the stored size. ``degrade`` lists the webcam
    degradations applied after ``augment`` (:class:`capstone.model.augmentation.WebcamDegradation`). Validation stays at full size,
    where a low-resolution phase's scores are not comparable, so such a phase neither stops
    early nor saves checkpoints, and the last phase must be at full size.
    """

    epochs: int
    learning_rate: float = 1e-3
    augment: Literal["none", "flip", "light", "erase", "heavy"] = "light"
    image_size: int | None = None
    degrade: list[Degradation] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if self.image_size is not None and self.image_size < 16:
            raise ValueError(f"image_size must be at least 16 pixels, got {self.image_size}")


@dataclass(frozen=True)
class TrainRun:
    """One model trained by a stage: an architecture and its training recipe.

    ``init_from`` names a model trained by an earlier stage (e.g. ``baseline``) whose weights
    this run starts from instead of a random initialisation; ``init_file`` is a ``.keras``
    file of the same architecture to start from instead (with no ``phases``, the run adopts
    that network as it is). ``distribution`` is the
    TensorFlow strategy: ``default`` (one device) or ``mirrored`` (every local GPU).
    ``precision`` ``auto`` trains in ``mixed_bfloat16`` where bf16 is native (a GPU, or a CPU
    with AVX-512 BF16 or AMX) and in ``float32`` elsewhere; ``mixed_bfloat16`` asks for bf16
    but still falls back to ``float32`` where it would be emulated (many times slower).
    ``schedule`` ``inverse_time`` lowers the learning rate to ``lr / (1 + decay * step)``
    after each batch, as Keras 2's ``Adam(decay=...)`` did (the seed's notebook).
    """

    name: str
    architecture: Literal["seed_cnn", "compact_cnn", "residual_cnn"]
    phases: list[Phase]
    batch_size: int = 64
    optimizer: Literal["adam", "adamw"] = "adamw"
    schedule: Literal["constant", "cosine", "inverse_time"] = "cosine"
    decay: float = 0.0
    weight_decay: float = 1e-4
    label_smoothing: float = 0.0
    class_weight: bool = True
    patience: int = 5
    width: int = 32
    precision: Literal["auto", "float32", "mixed_bfloat16"] = "auto"
    # XLA for TensorFlow (off: slower on these CPUs). Under JAX the step is always jitted:
    # without it Keras dispatches and compiles every operation on its own (capstone.model.training).
    jit_compile: bool = False
    init_from: str | None = None
    init_file: str | None = field(default=None, metadata=MUST_EXIST)
    distribution: Literal["default", "mirrored"] = "default"

    def __post_init__(self) -> None:
        if self.init_from and self.init_file:
            raise ValueError("a run starts from init_from (a run) or init_file (a file), not both")
        if not self.phases and not self.init_file:
            raise ValueError("a run needs phases to train, or an init_file to adopt as it is")
        if self.architecture == "seed_cnn" and any(p.image_size for p in self.phases):
            raise ValueError("seed_cnn ends in Flatten and cannot train at another image_size")
        if self.phases and self.phases[-1].image_size is not None:
            raise ValueError(
                "the last phase must train at the stored image size (drop its image_size): "
                "validation and checkpoints are at that size"
            )

    def describe(self) -> dict[str, Any]:
        """The recipe as one flat row, for a table of runs."""
        phases = (
            "none: the network as it is"
            if not self.phases
            else "; ".join(
                f"{p.epochs} epochs at lr {p.learning_rate:g}, {p.augment} augmentation"
                + (f", {p.image_size} px" if p.image_size else "")
                for p in self.phases
            )
        )
        return {
            "architecture": self.architecture
            + (f" (width {self.width})" if self.architecture != "seed_cnn" else ""),
            "phases": phases,
            "optimizer": f"{self.optimizer}, {self.schedule} schedule",
            "batch": self.batch_size,
            "label smoothing": self.label_smoothing,
            "class weights": "balanced" if self.class_weight else "none",
            "precision": self.precision,
            "starts from": self.init_from or self.init_file or "random",
        }


@dataclass(frozen=True)
class Baseline:
    """Models trained on FER2013 alone."""

    runs: list[TrainRun]


@dataclass(frozen=True)
class Merged:
    """Models trained on FER2013 merged with the AffectNet-like (in-the-wild) source.

    ``wild_repeat``: how many times each in-the-wild training face appears per epoch (the
    set is small beside FER2013). ``wild_weight``: the in-the-wild faces' share of the
    validation score that keeps checkpoints and picks the model (their validation faces are
    repeated to that share); 0 counts every validation face once. ``faces``: which copy of
    FER2013's faces the runs train and validate on beside the in-the-wild ones: ``fer2013``
    (Kaggle's, one annotator's label each) or ``ferplus`` (FER+'s, the crowd's vote shares
    as soft targets; the profile must download FER+).
    """

    runs: list[TrainRun]
    wild_repeat: int = 1
    wild_weight: float = 0.0
    faces: Literal["fer2013", "ferplus"] = "fer2013"

    def __post_init__(self) -> None:
        if self.wild_repeat < 1 or not 0 <= self.wild_weight < 1:
            raise ValueError(
                f"need wild_repeat >= 1 and 0 <= wild_weight < 1, got {self.wild_repeat}, "
                f"{self.wild_weight}"
            )


@dataclass(frozen=True)
class Evaluation:
    batch_size: int = 256
    tta_flip: bool = True  # try flip test-time augmentation; kept only if it helps on validation
    tta_shift: int = 0  # pixels: try averaging in the face shifted up/down/left/right; 0: don't
    refit_head: bool = True  # refit the last layer on clean training images; kept if it helps
    extra_test_sets: list[str] = field(default_factory=list, metadata=MUST_EXIST)
    crop: Literal["none", "mtcnn", "haar"] = "mtcnn"  # how faces are cut from the extra sets

    def __post_init__(self) -> None:
        if not 0 <= self.tta_shift <= 8:
            raise ValueError(f"tta_shift must be 0 (off) to 8 pixels, got {self.tta_shift}")


@dataclass(frozen=True)
class Demo:
    """The demo's media and settings.

    ``model``: ``released`` (models/), ``final``, ``selected`` or a run name. ``media``:
    images and videos to annotate (empty: media composed from photos shipped with
    matplotlib). ``call``: call metadata YAML (rep, prospects, stages) for the videos.
    ``demo_seconds``: length of the composed demo recording. ``use``: whose expressions are
    read (:mod:`capstone.calls.metadata`).
    """

    model: str = "released"
    detector: Literal["mtcnn", "haar"] = "mtcnn"
    media: list[str] = field(default_factory=list, metadata=MUST_EXIST)
    call: str | None = field(default=None, metadata=MUST_EXIST)
    min_face: int = 24
    uncertain_below: float | None = None  # None: the model's record (from calibration)
    fps: float = 2.0
    detect_every: int = 4
    demo_seconds: int = 40
    use: Literal["customers", "self-review", "research"] = "customers"


SHARED_KEYS = ("profile", "description", "seed", "source_file")  # the rest: a stage each


@dataclass(frozen=True)
class Params:
    """A whole profile. ``profile`` and ``seed`` are shared by every stage."""

    profile: str
    description: str
    seed: int
    download: Download
    eda: Eda
    baseline: Baseline
    merged: Merged
    evaluation: Evaluation
    demo: Demo
    source_file: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.merged.faces == CROWD and self.download.ferplus is None:
            raise ValueError(
                "merged.faces: ferplus trains on FER+'s votes, but download.ferplus is not set"
            )

    def stage(self, name: str) -> dict[str, Any]:
        """The slice of the profile that stage ``name`` depends on, as plain data."""
        stages = [f.name for f in dataclasses.fields(self) if f.name not in SHARED_KEYS]
        if name not in stages:
            raise ParamsError(f"unknown stage {name!r}; stages are {', '.join(stages)}")
        return {
            "profile": self.profile,
            "seed": self.seed,
            name: dataclasses.asdict(getattr(self, name)),
        }

    def run(self, name: str) -> TrainRun:
        """The run called ``name`` in the merged stage, else in the baseline stage."""
        runs = self.merged.runs + self.baseline.runs
        for run in runs:
            if run.name == name:
                return run
        raise ParamsError(
            f"{self.source_file or 'params'}: no run called {name!r} in the baseline or merged "
            f"stage (runs: {', '.join(r.name for r in runs)}); were the params changed after "
            "training? Rerun the pipeline with these params"
        )

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("source_file")
        return data


def with_absolute_data_paths(params: Params, root: str | Path = ".") -> Params:
    """A copy of ``params`` whose local dataset paths are absolute (resolved against ``root``).

    For running a profile in another project folder, e.g. a temporary one.
    """
    dl = params.download
    fixed = {}
    for name in dl.datasets():
        source = getattr(dl, name)
        if source.path:
            source = dataclasses.replace(source, path=str((Path(root) / source.path).resolve()))
        fixed[name] = source
    return dataclasses.replace(params, download=dataclasses.replace(dl, **fixed))


def load(path: str | Path, root: str | Path = ".", *, check_files: bool = True) -> Params:
    """Read and validate the params profile at ``path``.

    Parameters
    ----------
    path
        The YAML file, e.g. ``params/sample.yaml``.
    root
        The project folder that relative data paths inside the profile are resolved against.
    check_files
        Whether the files the profile names (local datasets, networks to adopt) must exist.
        ``False`` reads a profile's recipe on a machine without its data, e.g. to compare
        two profiles; a stage that reads the files still needs them.

    Raises
    ------
    ParamsError
        If the file is missing or not YAML, a key is unknown or missing, a value has the
        wrong type, or a file the profile names does not exist.
    """
    path = Path(path)
    raw = renamed_keys(read_profile(path), str(path))
    checked_root = Path(root) if check_files else None
    return build(Params, {**raw, "source_file": str(path)}, "", str(path), checked_root)


def profile_yaml(params: Params) -> str:
    """The whole profile as YAML, every default and every section it extends written out."""
    header = f"# {params.source_file or 'a profile'}, written out whole (capstone.params)\n"
    return header + yaml.safe_dump(params.to_dict(), sort_keys=False)
