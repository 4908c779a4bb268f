from __future__ import annotations

from capstone.summary_tables import reaction_table, stage_table, talk_table

SUMMARY = {
    "participants": {
        "P1": {
            "role": "rep",
            "expressions_read": False,
            "per_stage": {},
            "talk_seconds": 8.0,
            "talk_share": 0.4,
            "longest_monologue_s": 5.0,
        },
        "P2": {
            "role": "prospect (Dana)",
            "expressions_read": True,
            "talk_seconds": 12.0,
            "talk_share": 0.6,
            "longest_monologue_s": 7.0,
            "per_stage": {"intro": {"happy": 1.0}, "pricing": {"sad": 0.75, "happy": 0.25}},
        },
    },
    "reactions": {
        "P2": {
            "while_rep_speaks": {"all": {"happy": 0.5, "sad": 0.5}},
            "while_speaking": {"all": {"happy": 1.0}},
        },
    },
}


def test_the_tables_hold_the_summary_s_figures() -> None:
    talk = talk_table(SUMMARY)
    assert talk.loc["P1", "talk_seconds"] == 8.0 and not talk.loc["P1", "expressions read"]
    reactions = reaction_table(SUMMARY)
    assert reactions.loc[("P2", "while the rep speaks"), "sad"] == 0.5
    assert reactions.loc[("P2", "while speaking"), "sad"] == 0.0
    stages = stage_table(SUMMARY)
    assert list(stages.index) == [
        ("P2 prospect (Dana)", "intro"),
        ("P2 prospect (Dana)", "pricing"),
    ]
    assert stages.loc[("P2 prospect (Dana)", "pricing"), "sad"] == 0.75


def test_a_summary_without_reactions_gives_empty_tables() -> None:
    empty = {"participants": {}, "reactions": {}}
    assert reaction_table(empty).empty and stage_table(empty).empty and talk_table(empty).empty
