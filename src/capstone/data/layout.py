"""Find images and their labels in a raw dataset tree.

FER2013 (Kaggle) is ``{train,test}/<class>/{Training,PublicTest,PrivateTest}_<n>.jpg``;
AffectNet-HQ is ``<class>/<file>``. Folder names differ between datasets (``anger`` vs
``angry``), so labels are normalised to :data:`capstone.params.CLASSES`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from capstone.errors import DataError
from capstone.params import CLASSES

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})

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


def scan(folder: str | Path) -> pd.DataFrame:
    """List every image under ``folder`` with its label and the subset its name implies.

    Returns
    -------
    pandas.DataFrame
        Columns ``path`` (relative to ``folder``, posix), ``label``, ``subset`` (FER2013's
        ``Training``/``PublicTest``/``PrivateTest`` from the file name, else the top folder
        ``train``/``test``, else ``""``), sorted by path. Left-out classes are dropped.
    """
    folder = Path(folder)
    rows = []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
            continue
        rel = path.relative_to(folder)
        label = normalise_label(rel.parent.name)
        if label is None:
            continue
        prefix = rel.name.split("_", 1)[0]
        if prefix in {"Training", "PublicTest", "PrivateTest"}:
            subset = prefix
        elif len(rel.parts) > 2 and rel.parts[0].lower() in {"train", "test", "val"}:
            subset = rel.parts[0].lower()
        else:
            subset = ""
        rows.append((rel.as_posix(), label, subset))
    if not rows:
        raise DataError(
            f"no labelled images found under {folder}; expected <class>/<image> folders "
            f"with classes {', '.join(CLASSES)}"
        )
    return pd.DataFrame(rows, columns=["path", "label", "subset"])
