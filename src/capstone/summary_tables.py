"""A call's summary (:func:`capstone.video.summarise`) in the words a manager reads: tables
with plain headings, percentages and durations, and one sentence on how the prospects'
faces likely came across. For notebooks and reports; the raw figures stay in the summary."""

from __future__ import annotations

from typing import Any

import pandas as pd

TALK_KEYS = ("talk_seconds", "talk_share", "longest_monologue_s")

#: The call's talk metrics (:mod:`capstone.talk`), in words, with how to show each.
CALL_WORDS = {
    "talk_listen_ratio": "the rep's share of the talk",
    "patience_s": "the rep's pause before answering a prospect",
    "speaker_switches_per_min": "turns a minute (who speaks changes)",
}


def percent(share: float | None) -> str:
    """``0.243`` -> ``24%``; nothing known -> an empty string."""
    return "" if share is None else f"{share:.0%}"


def duration(seconds: float | None) -> str:
    """``72.4`` -> ``1 min 12 s``; ``8.2`` -> ``8 s``; nothing known -> an empty string."""
    if seconds is None:
        return ""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def who(pid: str, participant: dict[str, Any]) -> str:
    """``P2, prospect (Dana)``, or ``P3`` for a participant nobody named."""
    return f"{pid}, {participant['role']}" if participant.get("role") else pid


def talk_table(summary: dict[str, Any]) -> pd.DataFrame:
    """One row per participant: whether their expressions were read, how long they talked,
    their share of the talk and their longest monologue."""
    rows = {
        who(pid, p): {
            "expressions read": "yes" if p["expressions_read"] else "no",
            "talked": duration(p.get("talk_seconds")),
            "share of the talk": percent(p.get("talk_share")),
            "longest monologue": duration(p.get("longest_monologue_s")),
        }
        for pid, p in summary["participants"].items()
    }
    return pd.DataFrame.from_dict(rows, orient="index")


def call_table(summary: dict[str, Any]) -> pd.DataFrame:
    """The call's talk metrics that could be measured, one row each, in words."""
    talk = summary.get("talk") or {}
    shown = {
        "talk_listen_ratio": percent,
        "patience_s": lambda s: f"{s:.1f} s",
        "speaker_switches_per_min": lambda n: f"{n:.1f}",
    }
    rows = {CALL_WORDS[k]: show(talk[k]) for k, show in shown.items() if talk.get(k) is not None}
    return pd.DataFrame({"the call": rows}) if rows else pd.DataFrame()


def reaction_table(summary: dict[str, Any]) -> pd.DataFrame:
    """The prospects' perceived expressions over the call, as percentages of their readings:
    one row per prospect and ``while the rep speaks`` / ``while speaking``."""
    names = {"while_rep_speaks": "while the rep speaks", "while_speaking": "while speaking"}
    rows = {
        (who(pid, summary["participants"].get(pid, {})), names[when]): shares.get("all", {})
        for pid, seen in summary["reactions"].items()
        for when, shares in seen.items()
    }
    return _percentages(pd.DataFrame.from_dict(rows, orient="index"))


def stage_table(summary: dict[str, Any]) -> pd.DataFrame:
    """Each read participant's perceived expressions in each stage of the pitch, as
    percentages of their readings there."""
    rows = {
        (who(pid, p), stage): shares
        for pid, p in summary["participants"].items()
        for stage, shares in p["per_stage"].items()
    }
    return _percentages(pd.DataFrame.from_dict(rows, orient="index"))


def headline(summary: dict[str, Any]) -> str:
    """How the prospects' faces likely came across, in a sentence or two: for each prospect
    whose expressions were read, the expression seen most, and the one that rose most from
    the first stage to the last (where the call has stages and it rose by 10 points)."""
    sentences = []
    for pid, p in summary["participants"].items():
        if not p.get("role", "").startswith("prospect") or not p["expressions_read"]:
            continue
        if not p["shares"]:
            continue
        name = p["role"].partition(" (")[2].rstrip(")") or pid
        top, share = max(p["shares"].items(), key=lambda item: item[1])
        sentence = f"{name} looked mostly {top} ({share:.0%} of the readings)"
        stages = list(p["per_stage"].items())
        if len(stages) >= 2:
            (first, before), (last, after) = stages[0], stages[-1]
            rises = {c: after.get(c, 0.0) - before.get(c, 0.0) for c in after}
            rose = max(rises, key=rises.get) if rises else None
            if rose is not None and rises[rose] >= 0.10:
                sentence += (
                    f"; {rose} readings rose from {before.get(rose, 0.0):.0%} in the {first} "
                    f"to {after[rose]:.0%} in the {last}"
                )
        sentences.append(sentence + ".")
    if not sentences:
        return "No prospect's expressions were read in this call (name them with --call)."
    return " ".join(sentences)


def _percentages(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.fillna(0.0).map(percent) if len(frame) else frame
