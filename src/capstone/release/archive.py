"""Every release of the model, by date and hash: ``models/archive/releases.yaml`` and the
record beside each file, as the book's "Every release" page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from capstone.artefacts import sha256_file
from capstone.errors import CapstoneError
from capstone.model.released import record_of

INDEX = Path("models") / "archive" / "releases.yaml"


@dataclass(frozen=True)
class Release:
    """One released model file: when and by which commit it was released, what it was, and
    its record (``fer_cnn.json`` beside it)."""

    date: str
    file: Path
    commit: str
    about: str
    record: dict[str, Any]

    @property
    def sha256(self) -> str:
        return str(self.record.get("model_sha256", ""))

    def figure(self, test: str, name: str) -> float | None:
        """A test figure its record holds (``None`` where it holds none)."""
        if test == "annotate":
            return self.record.get("annotate", {}).get("wild", {}).get(name)
        scores = self.record.get("test", {}).get(test, {})
        if name == "majority_accuracy":
            scores = scores.get("crowd", {})
        return scores.get(name)


def releases(root: str | Path = ".") -> list[Release]:
    """The releases ``releases.yaml`` lists under ``root``, oldest first.

    Raises :class:`CapstoneError` where a listed file is missing, or differs from its record.
    """
    root = Path(root)
    listed = yaml.safe_load((root / INDEX).read_text(encoding="utf-8"))
    found = []
    for entry in listed:
        file = root / entry["file"]
        if not file.is_file():
            raise CapstoneError(f"{INDEX}: {entry['file']} is missing")
        record = record_of(file)
        if record.get("model_sha256") != sha256_file(file):
            raise CapstoneError(f"{INDEX}: {entry['file']} is not the file its record describes")
        found.append(
            Release(str(entry["date"]), file, str(entry["commit"]), entry["about"], record)
        )
    return found


def releases_page(root: str | Path = ".") -> str:
    """The book's "Every release" page: one row a release, its figures from its record."""
    rows = []
    for r in releases(root):
        figures = [
            r.figure("fer2013", "accuracy"),
            r.figure("ferplus", "majority_accuracy"),
            r.figure("annotate", "accuracy"),
        ]
        shown = " | ".join("" if f is None else f"{f:.1%}" for f in figures)
        rows.append(
            f"| {r.date} | `{r.sha256[:12]}` | `{r.file.relative_to(root).as_posix()}` | "
            f"{r.commit} | {r.about} | {shown} |"
        )
    return (
        "# Every release\n\n"
        "Each model released so far, oldest first, named by the day it was released and the\n"
        "first 12 characters of its file's sha256; the lab log ({doc}`experiments`) names them\n"
        "the same way. Every file is kept with its record and card, and the figures are read from\n"
        "those records (blank: the record does not hold that figure). FER2013: accuracy against\n"
        "FER2013's own labels on PrivateTest; FER+: how often the top reading is the crowd's\n"
        "most-voted expression on the same faces; SFEW: the in-the-wild film stills through\n"
        "`capstone annotate`.\n\n"
        "| released | sha256 | file | commit | what it was | FER2013 | FER+ | SFEW |\n"
        "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )
