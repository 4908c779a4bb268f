"""A call's summary (:func:`capstone.video.summarise`) as pandas tables, for notebooks and
reports: who talked how much, how the prospects looked by who spoke, and per stage."""

from __future__ import annotations

from typing import Any

import pandas as pd

TALK_KEYS = ("talk_seconds", "talk_share", "longest_monologue_s")


def talk_table(summary: dict[str, Any]) -> pd.DataFrame:
    """One row per participant: role, whether their expressions were read, and the talk
    metrics (``talk_seconds``, ``talk_share``, ``longest_monologue_s``)."""
    rows = {
        pid: {
            "role": p["role"],
            "expressions read": p["expressions_read"],
            **{k: p.get(k) for k in TALK_KEYS},
        }
        for pid, p in summary["participants"].items()
    }
    return pd.DataFrame.from_dict(rows, orient="index")


def reaction_table(summary: dict[str, Any]) -> pd.DataFrame:
    """The prospects' perceived-expression shares over the call, one row per prospect and
    ``while the rep speaks`` / ``while speaking``, one column per expression."""
    names = {"while_rep_speaks": "while the rep speaks", "while_speaking": "while speaking"}
    rows = {
        (pid, names[when]): shares.get("all", {})
        for pid, seen in summary["reactions"].items()
        for when, shares in seen.items()
    }
    return pd.DataFrame.from_dict(rows, orient="index").fillna(0.0).round(2)


def stage_table(summary: dict[str, Any]) -> pd.DataFrame:
    """Each read participant's perceived-expression shares in each stage of the pitch."""
    rows = {
        (f"{pid} {p['role']}".strip(), stage): shares
        for pid, p in summary["participants"].items()
        for stage, shares in p["per_stage"].items()
    }
    return pd.DataFrame.from_dict(rows, orient="index").fillna(0.0).round(2)
