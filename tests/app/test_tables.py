"""Tables as a person reads them: a missing value says why, numbers keep their form."""

from __future__ import annotations

import pandas as pd

from capstone.app.tables import NOT_MEASURED, in_words


def test_a_missing_value_says_why_and_the_columns_numbers_keep_their_format() -> None:
    table = pd.DataFrame({"call": ["a", "b"], "talk (%)": [42.0, None], "turns": [3, 4]})
    shown = in_words(table, formats={"talk (%)": "%.0f%%"})
    assert list(shown["talk (%)"]) == ["42%", NOT_MEASURED]
    assert shown["turns"].tolist() == [3, 4] and pd.api.types.is_numeric_dtype(shown["turns"])
    assert table["talk (%)"].isna().sum() == 1  # the table given is left as it was


def test_rows_as_mappings_and_other_words_for_a_gap() -> None:
    shown = in_words([{"stage": "demo", "share": None}, {"stage": "close", "share": 7}], "few")
    assert shown.to_dict("records") == [
        {"stage": "demo", "share": "few"},
        {"stage": "close", "share": "7"},
    ]
    assert not shown.isna().to_numpy().any()
