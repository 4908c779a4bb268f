"""Find images and their labels in a raw dataset tree.

FER2013 (Kaggle) is ``{train,test}/<class>/{Training,PublicTest,PrivateTest}_<n>.jpg``;
AffectNet-HQ is ``<class>/<file>``; SFEW is ``{train,val}/<class>/<file>``. Folder names
differ between datasets (``anger`` vs ``angry``), so labels are normalised to
:data:`capstone.params.CLASSES`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from capstone.errors import DataError
from capstone.formats import IMAGE_SUFFIXES
from capstone.labels import CLASSES

FER2013_SUBSETS = ("Training", "PublicTest", "PrivateTest")

#: Folder names seen in facial-expression datasets, mapped to our class names.
#: ``None`` means the class is deliberately left out (we have no ``contempt``).
LABEL_ALIASES: dict[str, str | None] = {
    **{c: c for c in CLASSES},
    "anger": "angry",
    "disgusted": "disgust",
    "fearful": "fear",
    "happiness": "happy",
    "sadness": "sad",
    "surprised": "surprise",
    "contempt": None,
}


def normalise_label(folder: str) -> str | None:
    """Map a class folder name to one of ``CLASSES``, or ``None`` for a class we leave out.

    Raises
    ------
    DataError
        If the name is not a known expression class.
    """
    key = folder.strip().lower()
    if key not in LABEL_ALIASES:
        raise DataError(
            f"unknown class folder {folder!r}; expected one of {', '.join(sorted(LABEL_ALIASES))}"
        )
    return LABEL_ALIASES[key]


@dataclass
class Scan:
    """What :func:`scan` found.

    ``table`` has one row per usable image: ``path`` (relative, posix), ``label`` and
    ``subset`` (FER2013's ``Training``/``PublicTest``/``PrivateTest`` from the file name,
    else the top folder ``train``/``val``/``test``, else ``""``). ``dropped`` counts images of
    classes left out on purpose (contempt); ``ignored`` lists files that are not images.
    """

    table: pd.DataFrame
    dropped: dict[str, int] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


def scan(folder: str | Path) -> Scan:
    """List every image under ``folder`` with its label and the subset its name implies.

    Raises
    ------
    DataError
        If a class folder has an unknown name, or nothing under ``folder`` looks like
        ``<class>/<image>``; the message shows what was found.
    """
    folder = Path(folder)
    rows, ignored = [], []
    dropped: Counter[str] = Counter()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder)
        if rel.name == "manifest.json":
            continue
        if path.suffix.lower() not in IMAGE_SUFFIXES or len(rel.parts) < 2:
            ignored.append(rel.as_posix())
            continue
        try:
            label = normalise_label(rel.parent.name)
        except DataError as err:
            raise DataError(f"{folder}: {rel.as_posix()}: {err}") from None
        if label is None:
            dropped[rel.parent.name.lower()] += 1
            continue
        prefix = rel.name.split("_", 1)[0]
        if prefix in FER2013_SUBSETS:
            subset = prefix
        elif len(rel.parts) > 2 and rel.parts[0].lower() in {"train", "val", "test"}:
            subset = rel.parts[0].lower()
        else:
            subset = ""
        rows.append((rel.as_posix(), label, subset))
    if not rows:
        found = sorted({p.relative_to(folder).parts[0] for p in folder.iterdir()})
        raise DataError(
            f"no labelled images found under {folder}: it holds {found or 'nothing'}. Expected "
            f"<class>/<image> or <split>/<class>/<image>, with classes {', '.join(CLASSES)} "
            "(or their aliases, e.g. anger, happiness)."
        )
    return Scan(pd.DataFrame(rows, columns=["path", "label", "subset"]), dict(dropped), ignored)
