"""The contract between whoever asks for a call to be read (the CLI, the app's worker, the
app's first look) and the annotation: one typed request in, named output files out.

A :class:`CallRequest` holds the call's metadata (:class:`~capstone.calls.metadata.CallInfo`),
its use, and the :class:`ReadingOptions`: every default of how a call is read lives there,
once. :class:`CallOutputs` names the files one annotated input leaves, so that no caller
spells a file name of its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from capstone.calls.metadata import DEFAULT_USE, CallInfo, Use, check_use
from capstone.errors import CapstoneError

DETECTORS = ("mtcnn", "haar")
Kind = Literal["image", "video"]


class ReadingOptionsError(CapstoneError):
    """Reading options out of their range."""


@dataclass(frozen=True)
class ReadingOptions:
    """How a call is read.

    Parameters
    ----------
    fps : float
        Video frames sampled per second (above 0).
    detect_every : int
        Faces are looked for on every n-th sampled frame (and at every change of layout).
    detector : str
        The face detector, ``mtcnn`` or ``haar``.
    min_face : int
        The smallest face side, in pixels, whose expression is read.
    uncertain_below : float or None
        Readings below this top probability are called uncertain; ``None``: the model's
        calibrated threshold (:meth:`for_model`).
    crop : mapping
        How faces are cut out for the model (keyword arguments of
        :func:`capstone.faces.crop.crop_face`); filled from the model's record by
        :meth:`for_model`.
    """

    fps: float = 2.0
    detect_every: int = 4
    detector: str = "mtcnn"
    min_face: int = 24
    uncertain_below: float | None = None
    crop: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.fps) and self.fps > 0):
            raise ReadingOptionsError(f"fps must be a number above 0, got {self.fps}")
        if self.detect_every < 1:
            raise ReadingOptionsError(f"detect_every must be 1 or more, got {self.detect_every}")
        if self.detector not in DETECTORS:
            raise ReadingOptionsError(
                f"unknown face detector {self.detector!r}; use one of {', '.join(DETECTORS)}"
            )
        if self.min_face < 1:
            raise ReadingOptionsError(f"min_face must be 1 pixel or more, got {self.min_face}")
        if self.uncertain_below is not None and not 0 <= self.uncertain_below <= 1:
            raise ReadingOptionsError(
                f"uncertain_below must lie between 0 and 1, got {self.uncertain_below}"
            )

    @property
    def look_for(self) -> int:
        """The smallest face the detector looks for (smaller ones are never read)."""
        return max(12, self.min_face)

    def for_model(self, model_file: str | Path) -> ReadingOptions:
        """These options with the model's crop settings, and its calibrated threshold where
        :attr:`uncertain_below` is not given (:mod:`capstone.model.released`)."""
        from capstone.model.released import crop_settings_of, uncertain_below_of

        threshold = self.uncertain_below
        return replace(
            self,
            crop=crop_settings_of(model_file),
            uncertain_below=uncertain_below_of(model_file) if threshold is None else threshold,
        )

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "crop"}

    @classmethod
    def from_json(cls, record: Mapping[str, Any] | None) -> ReadingOptions:
        """Options as :meth:`to_json` wrote them (the model's crop is not kept: it is the
        model's, filled in by :meth:`for_model`)."""
        known = {f.name for f in fields(cls)} - {"crop"}
        return cls(**{k: v for k, v in (record or {}).items() if k in known})

    def classifying(self) -> dict[str, Any]:
        """The keyword arguments of :func:`capstone.reading.classify.classify_faces`."""
        chosen = {"min_face": self.min_face, "crop": dict(self.crop)}
        if self.uncertain_below is not None:
            chosen["uncertain_below"] = self.uncertain_below
        return chosen


@dataclass(frozen=True)
class CallRequest:
    """A call to read: who is who (``info``), whose expressions the ``use`` lets be read,
    and how (``options``). A use the metadata does not allow is refused here."""

    info: CallInfo = field(default_factory=CallInfo)
    use: Use = DEFAULT_USE
    options: ReadingOptions = field(default_factory=ReadingOptions)

    def __post_init__(self) -> None:
        check_use(self.info, self.use)


@dataclass(frozen=True)
class CallOutputs:
    """The files one annotated input left, relative to its library folder (``None``: not
    made for this kind of input).

    A screenshot leaves its labelled ``picture`` and its ``record`` (JSON); a recording a
    folder with its ``report``, ``video``, ``summary``, ``timeline`` (CSV) and figures.
    """

    kind: Kind
    name: str
    picture: str | None = None
    record: str | None = None
    report: str | None = None
    video: str | None = None
    summary: str | None = None
    summary_text: str | None = None
    timeline: str | None = None
    timeline_figure: str | None = None
    moments_figure: str | None = None
    participants_figure: str | None = None
    reactions_figure: str | None = None

    @classmethod
    def of_screenshot(cls, name: str) -> CallOutputs:
        """What :func:`capstone.calls.image.annotate_image` writes for output name ``name``."""
        return cls("image", name, picture=f"{name}_annotated.png", record=f"{name}.json")

    @classmethod
    def of_recording(cls, name: str) -> CallOutputs:
        """What :func:`capstone.calls.video.annotate_video` writes into ``name/``."""
        return cls(
            "video",
            name,
            report=f"{name}/report.html",
            video=f"{name}/annotated.mp4",
            summary=f"{name}/summary.json",
            summary_text=f"{name}/summary.md",
            timeline=f"{name}/timeline.csv",
            timeline_figure=f"{name}/timeline.png",
            moments_figure=f"{name}/moments.png",
            participants_figure=f"{name}/participants.png",
            reactions_figure=f"{name}/reactions.png",
        )

    @property
    def main(self) -> str:
        """The file to open first: the report of a recording, the picture of a screenshot."""
        return str(self.report or self.picture)

    def _named(self) -> dict[str, str]:
        """Each file field that names a file, and the file."""
        return {
            f.name: value
            for f in fields(self)
            if f.name not in ("kind", "name") and (value := getattr(self, f.name)) is not None
        }

    @property
    def files(self) -> tuple[str, ...]:
        """Every file named here, as it is named (relative to the library or a folder above)."""
        return tuple(self._named().values())

    def under(self, folder: str) -> CallOutputs:
        """The same files, relative to a folder above the library (``folder`` / each)."""
        moved: dict[str, Any] = {key: f"{folder}/{value}" for key, value in self._named().items()}
        return replace(self, **moved)

    def to_json(self) -> dict[str, Any]:
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> CallOutputs:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in record.items() if k in known})
