from __future__ import annotations

from capstone.calls.result import CallResult
from capstone.calls.summary import (
    call_table,
    duration,
    headline,
    reaction_table,
    stage_table,
    talk_table,
)

USE = {"mode": "customers", "informed": True, "read": ["P2"], "not_read": ["P1"], "note": ""}
#: A summary as written before there was a schema version (1): still read.
RECORD = {
    "input": "call.mp4",
    "duration_s": 120.0,
    "use": USE,
    "participants": {
        "P1": {
            "samples": 10,
            "classified": 0,
            "role": "rep",
            "expressions_read": False,
            "shares": {},
            "per_stage": {},
            "talk_seconds": 8.0,
            "talk_share": 0.4,
            "longest_monologue_s": 5.0,
        },
        "P2": {
            "samples": 10,
            "classified": 8,
            "role": "prospect (Dana)",
            "expressions_read": True,
            "shares": {"happy": 0.625, "sad": 0.375},
            "talk_seconds": 72.4,
            "talk_share": 0.6,
            "longest_monologue_s": 7.0,
            "per_stage": {"intro": {"happy": 1.0}, "pricing": {"sad": 0.75, "happy": 0.25}},
        },
    },
    "talk": {
        "talk_listen_ratio": 0.4,
        "patience_s": None,
        "speaker_switches_per_min": 6.0,
        "known_share": 1.0,
    },
    "reactions": {
        "P2": {
            "while_rep_speaks": {"all": {"happy": 0.5, "sad": 0.5}},
            "while_speaking": {"all": {"happy": 1.0}},
        },
    },
}
SUMMARY = CallResult.from_json(RECORD)


def test_the_tables_say_it_in_words_percentages_and_durations() -> None:
    talk = talk_table(SUMMARY)
    assert list(talk.index) == ["P1, rep", "P2, prospect (Dana)"]
    assert talk.loc["P1, rep"].to_dict() == {
        "expressions read": "no",
        "talked": "8 s",
        "share of the talk": "40%",
        "longest monologue": "5 s",
    }
    assert talk.loc["P2, prospect (Dana)", "talked"] == "1 min 12 s"
    call = call_table(SUMMARY)["the call"].to_dict()
    assert call == {
        "the rep's share of the talk": "40%",
        "turns a minute (who speaks changes)": "6.0",
    }
    reactions = reaction_table(SUMMARY)
    assert reactions.loc[("P2, prospect (Dana)", "while the rep speaks"), "sad"] == "50%"
    assert reactions.loc[("P2, prospect (Dana)", "while speaking"), "sad"] == "0%"  # not seen
    stages = stage_table(SUMMARY)
    assert list(stages.index) == [
        ("P2, prospect (Dana)", "intro"),
        ("P2, prospect (Dana)", "pricing"),
    ]
    assert stages.loc[("P2, prospect (Dana)", "pricing"), "sad"] == "75%"
    assert not any("_" in str(c) for frame in (talk, reactions, stages) for c in frame.columns)


def test_the_headline_says_how_each_prospect_looked_and_what_rose() -> None:
    assert headline(SUMMARY) == (
        "Dana looked mostly happy (62% of the readings); sad readings rose from 0% in the "
        "intro to 75% in the pricing."
    )
    unread = CallResult.from_json(RECORD | {"participants": {"P1": RECORD["participants"]["P1"]}})
    assert "No prospect's expressions were read" in headline(unread)


def test_durations_read_as_minutes_and_seconds() -> None:
    assert [duration(s) for s in (None, 0.4, 59.6, 60, 3725)] == [
        "",
        "0 s",
        "1 min 0 s",
        "1 min 0 s",
        "62 min 5 s",
    ]


def test_a_summary_without_reactions_gives_empty_tables() -> None:
    empty = CallResult.from_json(RECORD | {"participants": {}, "reactions": {}, "talk": {}})
    assert reaction_table(empty).empty and stage_table(empty).empty and talk_table(empty).empty
    assert call_table(empty).empty


def test_a_summary_reads_back_as_it_was_written_in_either_schema() -> None:
    written = SUMMARY.to_json()
    assert written["schema_version"] == 2
    assert written["participants"]["P2"]["role"] == "prospect (Dana)"
    assert CallResult.from_json(written) == SUMMARY
    p2 = SUMMARY.participants["P2"]
    assert (p2.role, p2.name, p2.who, p2.called) == ("prospect", "Dana", "prospect (Dana)", "Dana")


def test_a_summary_from_a_newer_version_is_refused_with_what_to_do() -> None:
    import pytest

    with pytest.raises(ValueError, match="upgrade capstone"):
        CallResult.from_json(RECORD | {"schema_version": 99})


def test_tables_name_their_columns_keep_the_pitchs_order_and_say_what_is_not_known() -> None:
    dana = RECORD["participants"]["P2"]
    late_first = {"close": {"happy": 1.0}, "demo": {"sad": 1.0}, "intro": {"happy": 1.0}}
    record = RECORD | {
        "stages": {"intro": 0.0, "demo": 60.0, "close": 100.0},
        "participants": {"P2": dana | {"per_stage": late_first}},  # as a table once sorted
        "reactions": {"P2": {"while_rep_speaks": {"all": {"happy": 1.0}}, "while_speaking": {}}},
    }
    summary = CallResult.from_json(record)
    stages = stage_table(summary)
    assert list(stages.index.names) == ["participant", "stage"]
    assert [stage for _, stage in stages.index] == ["intro", "demo", "close"]
    reactions = reaction_table(summary)
    assert list(reactions.index.names) == ["participant", "while"]
    assert [when for _, when in reactions.index] == ["while the rep speaks"]  # never spoke
    unheard = CallResult.from_json(record | {"talk": RECORD["talk"] | {"known_share": 0.0}})
    talk = talk_table(unheard)
    assert talk.index.name == "participant"
    assert set(talk.loc["P2, prospect (Dana)", ["talked", "share of the talk"]]) == {"not known"}


def test_a_self_review_speaks_to_the_rep_of_the_reps_own_face() -> None:
    rep = RECORD["participants"]["P1"] | {"expressions_read": True, "classified": 10}
    rep |= {"shares": {"neutral": 0.7, "happy": 0.3}}
    mine = USE | {"mode": "self-review", "read": ["P1", "P2"], "not_read": []}
    review = CallResult.from_json(RECORD | {"use": mine, "participants": {"P1": rep}})
    assert headline(review).startswith("You looked mostly neutral (70% of your readings)")
    assert "Dana" not in headline(review)
