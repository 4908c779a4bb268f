"""The Calls table and the seed's benchmarks, computed from the library's calls.

Every figure comes with its count and a 95% interval, and a group with fewer than
:data:`MIN_CALLS` calls says "too few calls to say" instead of a figure. Only calls shared for
the benchmarks count, and never a self-review call (it belongs to the rep alone). The
recommendations are coaching prompts, shown only where the intervals of two groups do not
overlap; they describe calls, never people.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from capstone.app.database import Call
from capstone.app.details import FORWARD, STAGES
from capstone.calls.metadata import SELF_REVIEW
from capstone.calls.result import Talk

#: How the Calls table shows a call metric of each kind (Streamlit's number formats).
SHOWN = {"percent": "%.0f%%", "seconds": "%.1f s", "number": "%.1f"}
MIN_CALLS = 5  # fewer calls than this in a group: "too few calls to say"
TOO_FEW = "too few calls to say"
Z95 = 1.96


def wilson(successes: int, n: int) -> tuple[float, float]:
    """The 95% Wilson interval of a rate (``(0, 1)`` for no calls)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n**2)) / (1 + Z95**2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def counted(calls: Iterable[Call]) -> list[Call]:
    """The calls the benchmarks may count: shared, finished, and not a self-review; the demo
    calls only until there are :data:`MIN_CALLS` real ones (:func:`demo_counted` says which)."""
    pool = [c for c in calls if c.share and c.use != SELF_REVIEW and c.outcome]
    real = [c for c in pool if not c.demo]
    return pool if len(real) < MIN_CALLS else real


def demo_counted(calls: Iterable[Call]) -> bool:
    """Whether :func:`counted` still counts the demo calls (fewer real calls than
    :data:`MIN_CALLS`)."""
    return any(c.demo for c in counted(calls))


def calls_table(calls: Iterable[Call], states: dict[int, str]) -> pd.DataFrame:
    """The Calls page's table: one row per call, in words (``states``: call id -> status),
    with a column per call metric (:meth:`capstone.calls.result.Talk.metrics`; a percentage
    as a number from 0 to 100)."""
    metrics = Talk.metrics()
    rows = []
    for c in calls:
        talk = c.results.talk or Talk()
        row = {
            "id": c.id,
            "date": c.call_date or c.created_at.date(),
            "call": c.title,
            "status": states.get(c.id, ""),  # beside the title: seen without scrolling
            "rep": c.rep,
            "stage": c.stage,
            "outcome": c.outcome,
            "prospects looked": c.results.prospects_reading if c.results.outputs else "",
        }
        for m in metrics:
            value = getattr(talk, m.name)
            row[m.words] = value * 100 if value is not None and m.shown == "percent" else value
        rows.append(row)
    columns = ["id", "date", "call", "status", "rep", "stage", "outcome", "prospects looked"]
    return pd.DataFrame(rows, columns=[*columns, *(m.words for m in metrics)])


def filtered(table: pd.DataFrame, **chosen: list[str]) -> pd.DataFrame:
    """The rows whose value in each named column is one of the chosen (none chosen: all)."""
    keep = pd.Series(True, index=table.index)
    for column, values in chosen.items():
        if values:
            keep &= table[column].isin(values)
    return table[keep]


def team_make_up(call: Call) -> str:
    """The team on the call, in words: the rep alone, or with others."""
    return "rep with colleagues" if call.team.strip() else "rep alone"


def stakeholder_group(call: Call) -> str:
    n = call.stakeholders
    return "1 stakeholder" if n <= 1 else ("2-3 stakeholders" if n <= 3 else "4 or more")


GROUPINGS = {
    "stage": lambda c: c.stage or "not said",
    "industry": lambda c: c.industry or "not said",
    "number of stakeholders": stakeholder_group,
    "team make-up": team_make_up,
}


def outcomes_by(calls: Iterable[Call], grouping: str) -> pd.DataFrame:
    """Per group: calls, calls that moved forward, the rate and its 95% interval (percent),
    or "too few calls to say"."""
    key = GROUPINGS[grouping]
    groups: dict[str, list[Call]] = {}
    for c in counted(calls):
        groups.setdefault(key(c), []).append(c)
    order = [s for s in STAGES if s in groups] if grouping == "stage" else sorted(groups)
    order += [g for g in groups if g not in order]
    rows = []
    for name in order:
        members = groups[name]
        n, forward = len(members), sum(c.outcome in FORWARD for c in members)
        low, high = wilson(forward, n)
        enough = n >= MIN_CALLS
        rows.append(
            {
                grouping: name,
                "calls": n,
                "moved forward": forward,
                "share moved forward (%)": round(100 * forward / n) if enough else None,
                "95% interval (%)": f"{100 * low:.0f}-{100 * high:.0f}" if enough else TOO_FEW,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[grouping, "calls", "moved forward", "share moved forward (%)", "95% interval (%)"],
    )


def forward_in_words(table: pd.DataFrame, grouping: str) -> str:
    """:func:`outcomes_by`'s table as a sentence (a chart and a grid are not read aloud)."""
    said = [
        f"{row[grouping]}: {row['share moved forward (%)']:.0f}% moved forward "
        f"(95% interval {row['95% interval (%)']}%, {_calls(row['calls'])})"
        if pd.notna(row["share moved forward (%)"])
        else f"{row[grouping]}: {TOO_FEW} ({_calls(row['calls'])})"
        for _, row in table.iterrows()
    ]
    return "; ".join(said) + "." if said else "no calls yet."


@dataclass(frozen=True)
class Reading:
    """The mean share of one perceived expression among prospects' readings in a group."""

    stage: str
    forward: bool
    expression: str
    calls: int
    mean: float
    low: float
    high: float


def reactions_by_stage(calls: Iterable[Call], expression: str = "happy") -> list[Reading]:
    """Per pipeline stage, the prospects' share of ``expression`` readings in calls that moved
    forward and in those that did not, with a 95% interval of the mean over calls."""
    found: dict[tuple[str, bool], list[float]] = {}
    for c in counted(calls):
        if not c.results.outputs:  # not annotated yet
            continue
        shares = c.results.prospect_shares
        found.setdefault((c.stage, c.outcome in FORWARD), []).append(shares.get(expression, 0.0))
    readings = []
    for (stage, forward), values in sorted(found.items()):
        n = len(values)
        mean = sum(values) / n
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.5
        half = Z95 * sd / math.sqrt(n)
        readings.append(
            Reading(
                stage, forward, expression, n, mean, max(0.0, mean - half), min(1.0, mean + half)
            )
        )
    return readings


def _calls(n: int) -> str:
    return "1 call" if n == 1 else f"{n} calls"


def readings_in_words(readings: list[Reading]) -> str:
    """:func:`reactions_by_stage` as a sentence."""
    said = [
        f"{r.stage}, calls that {'moved forward' if r.forward else 'did not'}: "
        + (
            f"{r.mean:.0%} {r.expression} (95% interval {100 * r.low:.0f}-{100 * r.high:.0f}%, "
            f"{_calls(r.calls)})"
            if r.calls >= MIN_CALLS
            else f"{TOO_FEW} ({_calls(r.calls)})"
        )
        for r in readings
    ]
    return "; ".join(said) + "." if said else "no finished call yet."


def recommendations(calls: Iterable[Call]) -> list[str]:
    """Coaching prompts in the seed's words, only where the data support them."""
    pool = counted(calls)
    said = []
    for stage in STAGES:
        at = [c for c in pool if c.stage == stage]
        forward = [c for c in at if c.outcome in FORWARD]
        if len(forward) >= MIN_CALLS:
            sizes = sorted(c.stakeholders for c in forward)
            said.append(
                f"At {stage}, most calls that moved forward had {sizes[len(sizes) // 2]} "
                f"stakeholder(s) ({len(forward)} calls)."
            )
        for expression in ("happy", "neutral", "surprise", "sad"):
            groups = {r.forward: r for r in reactions_by_stage(at, expression)}
            yes, no = groups.get(True), groups.get(False)
            if not (yes and no and min(yes.calls, no.calls) >= MIN_CALLS):
                continue
            if yes.low > no.high:
                said.append(
                    f"At {stage}, calls that moved forward are the ones where the prospects "
                    f"appeared {expression} more often ({yes.mean:.0%} of readings against "
                    f"{no.mean:.0%}; {yes.calls} and {no.calls} calls). Worth reviewing what "
                    "the rep did in those calls."
                )
    return said
