"""FER2013's one annotator against FER+'s crowd of 10, on the same faces.

FER+ relabelled FER2013's faces, but Kaggle's FER2013 files carry no row number: each FER+
face is found again among the FER2013 faces of its subset by nearest pixels
(:func:`capstone.data.ferplus.nearest`; FER+'s PNGs are lossless, Kaggle's JPEGs a grey level
or two off). On the faces where the crowd has a clear majority, :func:`compare` then says how
often FER2013's label is the crowd's, class by class, and where they part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from capstone.data import ferplus
from capstone.data.splits import SplitData
from capstone.data.store import Store
from capstone.labels import CLASSES
from capstone.params import CROWD

#: The largest RMS difference, in grey levels, at which two faces are taken to be one.
SAME_FACE_RMS = 4.0


@dataclass(frozen=True)
class LabelComparison:
    """FER2013's labels against the crowd's majority on ``n`` faces of one subset.

    ``crowd`` and ``fer2013`` are each face's class index by the crowd's majority and by
    FER2013's label; ``index`` is the face's row in the FER+ store. ``unmatched`` counts the
    clear-majority faces with no FER2013 face within :data:`SAME_FACE_RMS`.
    """

    subset: str
    index: np.ndarray
    crowd: np.ndarray
    fer2013: np.ndarray
    unmatched: int

    @property
    def n(self) -> int:
        return len(self.crowd)

    @property
    def agreement(self) -> float:
        """The share of faces whose FER2013 label is the crowd's majority."""
        return float((self.crowd == self.fer2013).mean())

    def summary(self) -> str:
        """One sentence: how often FER2013's label is the crowd's, on how many faces."""
        return (
            f"On {self.subset}'s {self.n:,} faces with a clear majority, FER2013's label is the "
            f"crowd's majority for **{self.agreement:.1%}** of them ({self.unmatched} faces not "
            "found again among FER2013's)."
        )

    def by_class(self) -> pd.DataFrame:
        """Per class: how many faces each side gives it, and how often the other agrees."""
        rows = []
        for i, name in enumerate(CLASSES):
            fer, crowd = self.fer2013 == i, self.crowd == i
            rows.append(
                {
                    "class": name,
                    "FER2013 says": int(fer.sum()),
                    "the crowd agrees": float((self.crowd[fer] == i).mean())
                    if fer.any()
                    else np.nan,
                    "the crowd says": int(crowd.sum()),
                    "FER2013 agrees": float((self.fer2013[crowd] == i).mean())
                    if crowd.any()
                    else np.nan,
                }
            )
        return pd.DataFrame(rows).set_index("class")

    def confusion(self) -> pd.DataFrame:
        """Faces by FER2013's label (rows) and the crowd's majority (columns)."""
        table = pd.crosstab(
            pd.Categorical(np.asarray(CLASSES)[self.fer2013], CLASSES),
            pd.Categorical(np.asarray(CLASSES)[self.crowd], CLASSES),
            dropna=False,
        )
        table.index.name, table.columns.name = "FER2013's label", "the crowd's majority"
        return table

    def disagreements(self, per_class: int = 4) -> pd.DataFrame:
        """Up to ``per_class`` faces of each FER2013 label where the crowd saw another class."""
        frame = pd.DataFrame(
            {
                "index": self.index,
                "FER2013": np.asarray(CLASSES)[self.fer2013],
                "crowd": np.asarray(CLASSES)[self.crowd],
            }
        )
        apart = frame[frame["FER2013"] != frame["crowd"]]
        return apart.groupby("FER2013", sort=False).head(per_class).reset_index(drop=True)


def compare(crowd: Store, fer2013: Store, subset: str = "PrivateTest") -> LabelComparison:
    """FER2013's labels against the crowd's majority on ``subset``'s clear-majority faces.

    ``crowd`` is the FER+ store (with votes), ``fer2013`` Kaggle's FER2013 store.
    """
    if crowd.votes is None:
        raise ValueError("the first store has no votes: pass the FER+ store")
    rows = np.flatnonzero((crowd.subset == subset) & ferplus.clear_majority(crowd.votes))
    pool = np.flatnonzero(fer2013.subset == subset)
    nearest, rms = ferplus.nearest(crowd.x[rows], fer2013.x[pool])
    same = rms <= SAME_FACE_RMS
    majority = ferplus.counts(crowd.votes[rows]).argmax(axis=1)
    return LabelComparison(
        subset=subset,
        index=rows[same],
        crowd=majority[same],
        fer2013=fer2013.y[pool[nearest[same]]],
        unmatched=int((~same).sum()),
    )


def of(data: SplitData) -> LabelComparison | None:
    """:func:`compare` on ``data``'s stores, or ``None`` where it holds no FER+."""
    if CROWD not in data.stores:
        return None
    return compare(data.stores[CROWD], data.stores["fer2013"])


def test_set(data: SplitData) -> tuple[np.ndarray, np.ndarray] | None:
    """FER+'s test faces with a clear majority and their vote shares, or ``None`` where
    ``data`` holds no FER+: the crowd's test set (3,349 faces on the real data)."""
    if CROWD not in data.stores:
        return None
    x, shares = data.soft_xy(CROWD, "test")
    all_votes = data.stores[CROWD].votes
    if all_votes is None:
        return None
    votes = all_votes[data.index[CROWD]["test"]]
    clear = ferplus.clear_majority(votes)
    return x[clear], shares[clear]
