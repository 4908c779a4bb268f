"""The embedded default: on first start with an empty folder, a demo library of composed
calls with their details and outcomes, so that a newcomer sees every page working.

The calls are recordings composed offline from matplotlib's portrait (:mod:`capstone.synthetic`),
four participants each: the rep (P1), two prospects (P2, P3) and a colleague (P4). Their rows
and jobs are written at once; a worker composes each recording, then annotates it, so the app
starts in seconds and the calls appear as they finish.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from capstone.app.database import Call, Meta, enqueue, session
from capstone.app.details import STAGES
from capstone.app.erasure import delete_calls
from capstone.calls.metadata import People, Person, StageTimes

DEMO_SECONDS = 16
DEMO = " (demo)"  # ends every demo rep's name; no real user may have such a name
RECORDING = "call.mp4"

#: (rep, stage, outcome, industry, offering, product, prospects' names, stakeholders)
CALLS: tuple[tuple[str, str, str, str, str, str, tuple[str, str], int], ...] = (
    (
        f"Ana{DEMO}",
        STAGES[0],
        "Moved to Next Stage",
        "Retail",
        "service",
        "analytics",
        ("Dana", "Sam"),
        2,
    ),
    (f"Ana{DEMO}", STAGES[3], "Closed Sale", "Retail", "service", "analytics", ("Lee", "Kim"), 2),
    (
        f"Ben{DEMO}",
        STAGES[1],
        "Disqualified Lead",
        "Healthcare",
        "good",
        "scanners",
        ("Jo", "Max"),
        3,
    ),
    (
        f"Ben{DEMO}",
        STAGES[3],
        "No Change (Objections Not Overcome)",
        "Healthcare",
        "good",
        "scanners",
        ("Ria", "Tom"),
        2,
    ),
    (f"Cy{DEMO}", STAGES[4], "Lost Sale", "Logistics", "service", "routing", ("Eva", "Raj"), 4),
    (
        f"Cy{DEMO}",
        STAGES[2],
        "Moved to Next Stage",
        "Logistics",
        "service",
        "routing",
        ("Ola", "Ned"),
        2,
    ),
)


def seed_demo(engine: Engine, folder: Path) -> int:
    """Add the demo calls and queue them, once, and only to an empty library; returns how
    many were added."""
    with session(engine) as s:
        seeded = s.get(Meta, "demo_seeded")
        if seeded is not None or s.scalar(select(func.count(Call.id))):
            return 0
        s.add(Meta(key="demo_seeded", value=dt.date.today().isoformat()))
        step = int(os.environ.get("CAPSTONE_APP_DEMO_SECONDS", DEMO_SECONDS)) / 4
        for i, (rep, stage, outcome, industry, offering, product, names, n) in enumerate(CALLS):
            call = Call(
                title=f"{product} with {names[0]} ({industry})",
                call_date=dt.date(2026, 11, 2) + dt.timedelta(days=3 * i),
                rep=rep,
                rep_role="Account Executive",
                team="a solutions engineer",
                stage=stage,
                outcome=outcome,
                stakeholders=n,
                industry=industry,
                offering=offering,
                product=product,
                share=True,
                use="customers",
                informed=True,
                people=People(
                    {
                        "P1": Person("rep", rep),
                        "P2": Person("prospect", names[0]),
                        "P3": Person("prospect", names[1]),
                        "P4": Person("staff", "SE"),
                    }
                ),
                stage_times=StageTimes(
                    {"intro": 0, "discovery": step, "demo": 2 * step, "close": 3 * step}
                ),
                media=[RECORDING],
                kind="recording",
                demo=True,
            )
            s.add(call)
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


def compose(path: Path, seed: int) -> Path:
    """Write a demo recording: the rep (P1) and the two prospects (P2, P3) taking turns, the
    colleague (P4) listening, with a voice-like track. ``CAPSTONE_APP_DEMO_SECONDS`` sets its
    length (default :data:`DEMO_SECONDS`)."""
    import numpy as np

    from capstone.synthetic.calls import write_call
    from capstone.synthetic.layouts import HOPPER_FACE, hopper, people

    seconds = int(os.environ.get("CAPSTONE_APP_DEMO_SECONDS", DEMO_SECONDS))
    rng = np.random.default_rng(seed)
    turns: list[tuple[int, float, float]] = []
    t, order = 0.0, [0, 1, 0, 2]
    while t < seconds - 1:
        length = float(rng.uniform(0.15, 0.3)) * seconds
        turns.append((order[len(turns) % 4], t, min(t + length, seconds)))
        t += length + 0.5
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.part{path.suffix}")
    write_call(people(hopper(), HOPPER_FACE), tmp, turns, seconds)
    tmp.replace(path)
    return path
