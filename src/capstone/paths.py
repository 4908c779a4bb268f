"""Where things live inside a project folder; every stage reads and writes through this."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from capstone.errors import CapstoneError, ModelError

MODEL_NAME = "fer_cnn"  # the released model: models/fer_cnn.keras, with fer_cnn.json beside it


@dataclass(frozen=True)
class ProjectPaths:
    """The layout of a project folder (the repository root, or a test's temporary copy)."""

    root: Path

    def __init__(self, root: str | Path = ".") -> None:
        object.__setattr__(self, "root", Path(root))

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def raw(self) -> Path:
        return self.data / "raw"

    @property
    def processed(self) -> Path:
        return self.data / "processed"

    @property
    def sample(self) -> Path:
        return self.data / "sample"

    @property
    def build(self) -> Path:
        return self.root / "build"

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def executed(self) -> Path:
        return self.build / "notebooks"

    @property
    def book(self) -> Path:
        return self.root / "book"

    @property
    def book_html(self) -> Path:
        return self.book / "_build" / "html"

    def stage(self, name: str) -> Path:
        """The output folder of pipeline stage ``name``, e.g. ``build/baseline``."""
        return self.build / name

    @property
    def splits(self) -> Path:
        """The split index files: for each dataset and split, the store rows it holds."""
        return self.processed / "splits.npz"

    def model(self, name: str) -> Path:
        """The model file a profile names: ``released`` (``models/fer_cnn.keras``),
        ``final`` (the evaluation stage's), ``selected`` (the merged stage's pick), or a run
        of the baseline or merged stage.

        Raises ``FileNotFoundError`` naming the places it looked (and :class:`CapstoneError`
        for ``selected`` before the merged stage has picked one).
        """
        if name == "released":
            return released_model(self.root)
        if name == "final":
            return self.stage("evaluation") / "final.keras"
        if name == "selected":
            name = self.selected()
        places = [self.stage(stage) / f"{name}.keras" for stage in ("merged", "baseline")]
        for path in places:
            if path.is_file():
                return path
        raise FileNotFoundError(
            f"no model called {name!r}: looked for {', '.join(map(str, places))}; "
            "is it one of the runs of the baseline or merged stage in the params?"
        )

    def selected(self) -> str:
        """The name of the run the merged stage picked (its ``selected.json``)."""
        path = self.stage("merged") / "selected.json"
        if not path.is_file():
            raise CapstoneError(
                f"{path} is missing: no model has been picked here yet. Run the merged stage first "
                "(`capstone pipeline --params <profile> --to merged`)."
            )
        return json.loads(path.read_text(encoding="utf-8"))["selected"]

    def store(self, dataset: str) -> Path:
        """The processed array store of ``dataset``."""
        return self.processed / f"{dataset}.npz"


def released_model(root: str | Path = ".") -> Path:
    """The released model file, ``fer_cnn.keras``.

    A project's own ``models/`` under ``root`` comes first; else the copy installed with the
    package (``pip install``: ``models/`` travels as ``capstone/released_model/``), else the
    source tree's ``models/`` (an editable install or a clone on the path).
    """
    for folder in (
        Path(root) / "models",
        Path(__file__).resolve().parent / "released_model",
        Path(__file__).resolve().parents[2] / "models",
    ):
        if (folder / f"{MODEL_NAME}.keras").is_file():
            return folder / f"{MODEL_NAME}.keras"
    raise ModelError(
        f"the released model {MODEL_NAME}.keras is missing: neither {Path(root) / 'models'} nor "
        "the installed package has it. Reinstall the package, or give a model with --model."
    )
