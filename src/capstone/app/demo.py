"""The embedded default: on first start with an empty folder, a demo library of composed
calls with their details and outcomes, so that a newcomer sees every page working.

The library has :data:`DEMO_CALLS` calls (``CAPSTONE_APP_DEMO_CALLS``): three demo reps at
four pipeline stages, half of the calls moving forward, in four industries. Each is a
recording composed offline (:func:`compose`) of the faces of :mod:`capstone.synthetic.portraits`
(two public-domain portraits and a smile made from one): the rep (P1), two prospects (P2, P3)
and, on half of the calls, a colleague (P4). In the calls that moved forward the first
prospect begins to smile within the first two thirds of the call, and the second is often the
smiling astronaut; in the others the smile comes late or not at all. The readings are the
model's own. The rows and jobs are written at once; a worker composes each recording, then
annotates it, so the app starts in seconds and the calls appear as they finish.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from capstone.app.database import Call, Meta, enqueue, session
from capstone.app.details import FORWARD, STAGES
from capstone.app.erasure import delete_calls
from capstone.calls.metadata import People, Person, StageTimes

DEMO_SECONDS = 12
DEMO_CALLS = 48
DEMO = " (demo)"  # ends every demo rep's name; no real user may have such a name
RECORDING = "call.mp4"
REPS = tuple(f"{name}{DEMO}" for name in ("Ana", "Ben", "Cy"))
#: (industry, offering, product)
MARKETS = (
    ("Retail", "service", "analytics"),
    ("Healthcare", "good", "scanners"),
    ("Logistics", "service", "routing"),
    ("Finance", "service", "risk reports"),
)
PROSPECTS = ("Dana", "Sam", "Lee", "Kim", "Jo", "Max", "Ria", "Tom", "Eva", "Raj", "Ola", "Ned")
#: Outcomes by stage: (moved forward, did not).
OUTCOMES_AT = {
    STAGES[1]: (("Moved to Next Stage",), ("Disqualified Lead",)),
    STAGES[2]: (("Moved to Next Stage",), ("No Change (Objections Not Overcome)",)),
    STAGES[3]: (("Moved to Next Stage",), ("No Change (Objections Not Overcome)", "Lost Sale")),
    STAGES[4]: (("Closed Sale", "Moved to Next Stage"), ("Lost Sale",)),
}


@dataclass(frozen=True)
class DemoCall:
    """One demo call's details."""

    rep: str
    stage: str
    outcome: str
    industry: str
    offering: str
    product: str
    prospects: tuple[str, str]
    stakeholders: int
    colleague: bool
    date: dt.date


def demo_plan(n: int = DEMO_CALLS, seed: int = 46) -> list[DemoCall]:
    """The demo library's calls, the same every time: a quarter of :data:`DEMO_CALLS` at each
    stage in turn, every other call of a stage's first ten moving forward (so that the first
    ten already make one stage's figures and prompts) and its last two as the stage's rate
    has it, the reps in turn, markets, people and dates drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    stages = list(OUTCOMES_AT)
    per_stage = DEMO_CALLS // len(stages)
    plan = []
    for i in range(n):
        stage = stages[(i // per_stage) % len(stages)]
        j = i % per_stage  # the call's place at its stage: the last two set the stage's rate
        forward = j % 2 == 0 if j < 10 else j - 10 < (2, 1, 0, 1)[stages.index(stage)]
        industry, offering, product = MARKETS[int(rng.integers(len(MARKETS)))]
        first, second = rng.choice(len(PROSPECTS), size=2, replace=False)
        plan.append(
            DemoCall(
                rep=REPS[i % len(REPS)],
                stage=stage,
                outcome=str(rng.choice(OUTCOMES_AT[stage][0 if forward else 1])),
                industry=industry,
                offering=offering,
                product=product,
                prospects=(PROSPECTS[first], PROSPECTS[second]),
                stakeholders=int(rng.integers(1, 6)),
                colleague=bool(rng.random() < 0.5),
                date=dt.date(2026, 9, 1) + dt.timedelta(days=int(rng.integers(90))),
            )
        )
    return plan


def seed_demo(engine: Engine, folder: Path) -> int:
    """Add the demo calls and queue them, once, and only to an empty library; returns how
    many were added."""
    with session(engine) as s:
        seeded = s.get(Meta, "demo_seeded")
        if seeded is not None or s.scalar(select(func.count(Call.id))):
            return 0
        s.add(Meta(key="demo_seeded", value=dt.date.today().isoformat()))
        step = int(os.environ.get("CAPSTONE_APP_DEMO_SECONDS", DEMO_SECONDS)) / 4
        plan = demo_plan(int(os.environ.get("CAPSTONE_APP_DEMO_CALLS", DEMO_CALLS)))
        for c in plan:
            people = {
                "P1": Person("rep", c.rep),
                "P2": Person("prospect", c.prospects[0]),
                "P3": Person("prospect", c.prospects[1]),
            }
            if c.colleague:
                people["P4"] = Person("staff", "SE")
            s.add(
                Call(
                    title=f"{c.product} with {c.prospects[0]} ({c.industry})",
                    call_date=c.date,
                    rep=c.rep,
                    rep_role="Account Executive",
                    team="a solutions engineer" if c.colleague else "",
                    stage=c.stage,
                    outcome=c.outcome,
                    stakeholders=c.stakeholders,
                    industry=c.industry,
                    offering=c.offering,
                    product=c.product,
                    share=True,
                    use="customers",
                    informed=True,
                    people=People(people),
                    stage_times=StageTimes(
                        {"intro": 0, "discovery": step, "demo": 2 * step, "close": 3 * step}
                    ),
                    media=[RECORDING],
                    kind="recording",
                    demo=True,
                )
            )
    added = _demo_calls(engine)
    for call in added:
        enqueue(engine, call.id)
    return len(added)


def remove_demo(engine: Engine, folder: Path) -> list[int]:
    """Remove the demo library (an admin's action): its calls, jobs, media and results, for
    good (it is not added again); returns the calls' ids."""
    return delete_calls(engine, folder, demo_ids(engine))


def demo_ids(engine: Engine) -> list[int]:
    """The demo calls' ids (none once an admin removed them)."""
    return [c.id for c in _demo_calls(engine)]


def _demo_calls(engine: Engine) -> list[Call]:
    with session(engine) as s:
        return list(s.scalars(select(Call).where(Call.demo.is_(True)).order_by(Call.id)))


def compose(path: Path, call: Call) -> Path:
    """Write the demo recording of ``call``: the rep (P1) and the two prospects (P2, P3)
    taking turns, the colleague (P4, on a call with one) listening, with a voice-like track;
    the first prospect starts to smile early in a call that moved forward, late or never in
    one that did not. ``CAPSTONE_APP_DEMO_SECONDS`` sets its length (default
    :data:`DEMO_SECONDS`)."""
    from capstone.synthetic.calls import write_call
    from capstone.synthetic.layouts import people
    from capstone.synthetic.portraits import astronaut_portrait, hopper_portrait, smiling

    seconds = int(os.environ.get("CAPSTONE_APP_DEMO_SECONDS", DEMO_SECONDS))
    rng = np.random.default_rng(call.id)
    forward = call.outcome in FORWARD
    hopper = hopper_portrait()
    looks = people(hopper.image, hopper.face)  # four lights and framings of one portrait
    smiles = people(smiling(hopper).image, hopper.face)
    if forward and rng.random() < 0.4:
        astronaut = astronaut_portrait()
        looks[2] = smiles[2] = (astronaut.image, astronaut.face)
    smile_at = rng.uniform(0.25, 0.6) if forward else rng.uniform(0.8, 1.6)  # past 1: never
    changes = [(float(smile_at * seconds), 1, smiles[1])] if smile_at < 1 else []
    turns: list[tuple[int, float, float]] = []
    t, order = 0.0, [0, 1, 0, 2]
    while t < seconds - 1:
        length = float(rng.uniform(0.15, 0.3)) * seconds
        turns.append((order[len(turns) % 4], t, min(t + length, seconds)))
        t += length + 0.5
    tiles = [0, 1, 2, 3] if "P4" in call.people.by_id else [0, 1, 2]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.part{path.suffix}")
    write_call(looks, tmp, turns, seconds, scenes=[(0.0, "gallery", tiles)], changes=changes)
    tmp.replace(path)
    return path
