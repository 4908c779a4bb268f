"""Tables as a person reads them: no empty cell shows "None" or "nan".

Streamlit's grid writes "None" in every cell without a value, whatever the table's styling,
so a table goes through :func:`in_words` before it is shown: a column with a missing value
says why in words there (``missing``), and its numbers become text in the column's format.
Columns without a missing value keep their numbers, so that they still sort as numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

NOT_MEASURED = "not measured"


def in_words(
    table: pd.DataFrame | Sequence[Mapping[str, Any]],
    missing: str = NOT_MEASURED,
    formats: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """``table`` with every missing value replaced by ``missing``.

    Parameters
    ----------
    table
        A data frame, or its rows as mappings.
    missing
        The words in a cell without a value (why it has none).
    formats
        printf-style formats by column (``"%.0f%%"``), used for a column's numbers where that
        column becomes text; other numbers are written plainly (``7``, ``42.5``).

    Returns
    -------
    pandas.DataFrame
        A new table; ``table`` is left as it was.
    """
    shown = pd.DataFrame(table).copy()
    formats = formats or {}
    for column in shown.columns:
        gaps = shown[column].isna()
        if not gaps.any():
            continue
        form = formats.get(str(column))
        shown[column] = [
            missing if gap else form % value if form else _plain(value)
            for value, gap in zip(shown[column], gaps, strict=True)
        ]
    return shown


def _plain(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
