"""The Calls table in words: a column per call metric, from the metric's own words."""

from __future__ import annotations

import datetime as dt

import pytest

from capstone.app.database import Call
from capstone.app.findings import Findings
from capstone.app.insights import MIN_CALLS, calls_table
from capstone.calls.request import CallOutputs
from capstone.calls.result import Talk


def test_the_calls_table_has_a_column_per_call_metric_in_words() -> None:
    talk = Talk(talk_listen_ratio=0.43, patience_s=1.25, speaker_switches_per_min=3.0)
    found = Findings(
        (CallOutputs.of_recording("01").under("results/1"),), {"happy": 0.25, "neutral": 0.75}, talk
    )
    done, waiting = (
        Call(id=n, title=title, created_at=dt.datetime(2026, 1, n), rep="Ana", results=result)
        for n, title, result in ((1, "Demo with Acme", found), (2, "New", Findings()))
    )
    table = calls_table([done, waiting], {1: "done", 2: "waiting to start"})
    words = [m.words for m in Talk.metrics()]
    assert list(table.columns) == [
        "id",
        "date",
        "call",
        "status",
        "rep",
        "stage",
        "outcome",
        "prospects looked",
        *words,
    ]
    first, second = table.to_dict("records")
    assert first["prospects looked"] == "neutral (75%)"
    assert first["the rep's share of the talk"] == pytest.approx(43.0)  # a percentage
    assert first["the rep's pause before answering a prospect"] == 1.25
    assert second["prospects looked"] == "" and second["status"] == "waiting to start"
    assert all(second[w] is None or second[w] != second[w] for w in words)  # nothing measured


def test_the_demo_calls_count_only_until_the_team_has_enough_of_its_own() -> None:
    from capstone.app.insights import counted, demo_counted

    def shared(n: int, demo: bool) -> list[Call]:
        return [
            Call(id=i, share=True, use="customers", outcome="Closed Sale", demo=demo)
            for i in range(n)
        ]

    demo, few, enough = shared(6, True), shared(MIN_CALLS - 1, False), shared(MIN_CALLS, False)
    assert counted([*demo, *few]) == [*demo, *few] and demo_counted([*demo, *few])
    assert counted([*demo, *enough]) == enough and not demo_counted([*demo, *enough])


def test_the_demo_plan_gives_every_benchmark_group_enough_calls() -> None:
    from capstone.app.demo import DEMO_CALLS, demo_plan
    from capstone.app.details import FORWARD

    plan = demo_plan()
    assert len(plan) == DEMO_CALLS and plan == demo_plan()  # the same every time
    for key in (
        lambda c: (c.stage, c.outcome in FORWARD),  # the readings by stage, both sides
        lambda c: c.industry,
        lambda c: c.colleague,
        lambda c: "1" if c.stakeholders <= 1 else "2-3" if c.stakeholders <= 3 else "4+",
        lambda c: c.rep,
    ):
        groups: dict[object, int] = {}
        for c in plan:
            groups[key(c)] = groups.get(key(c), 0) + 1
        assert len(groups) > 1 and min(groups.values()) >= MIN_CALLS, groups


def test_the_benchmarks_in_words_give_each_figure_its_interval_or_say_too_few() -> None:
    from capstone.app.insights import (
        Reading,
        forward_in_words,
        outcomes_by,
        readings_in_words,
    )

    calls = [
        Call(stage="4. Demo/Pitch", outcome="Closed Sale" if i < 3 else "Lost Sale", share=True)
        for i in range(MIN_CALLS)
    ] + [Call(stage="5. Negotiation", outcome="Lost Sale", share=True)]
    said = forward_in_words(outcomes_by(calls, "stage"), "stage")
    assert said == (
        "4. Demo/Pitch: 60% moved forward (95% interval 23-88%, 5 calls); "
        "5. Negotiation: too few calls to say (1 call)."
    )
    readings = [Reading("4. Demo/Pitch", True, "happy", MIN_CALLS, 0.42, 0.3, 0.55)]
    assert readings_in_words(readings) == (
        "4. Demo/Pitch, calls that moved forward: 42% happy (95% interval 30-55%, 5 calls)."
    )
    assert readings_in_words([]) == "no finished call yet."
