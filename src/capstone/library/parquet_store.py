"""What every annotated call measured, in one queryable store beside the reports.

``store/timelines/<call>.parquet`` holds each recording's timeline with a ``call`` column
(read them all with ``pd.read_parquet("store/timelines")``, or in DuckDB with
``SELECT * FROM 'store/timelines/*.parquet'``); ``store/calls.parquet`` one row per call
and participant (role, whether their expressions were read, samples, talk metrics,
expression shares, the call's talk metrics); ``store/reactions.parquet`` the prospects'
expression shares by who speaks and stage, one row per share. Each file is replaced
atomically as each call finishes, so a reader never sees half a file.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pandas as pd

from capstone.artefacts import atomic_path
from capstone.calls.result import CallResult, Talk
from capstone.calls.summary import TALK_KEYS

CALL_KEYS = ("duration_s", *(m.name for m in Talk.metrics()))
PARTICIPANT_KEYS = ("samples", "classified", *TALK_KEYS)


def participant_rows(name: str, summary: CallResult) -> pd.DataFrame:
    """One row per participant of a call, with the call's own figures."""
    call = {"duration_s": summary.duration_s, **summary.talk.to_json()}
    rows = [
        {
            "call": name,
            "participant": pid,
            "role": p.role or "unnamed",
            "name": p.name,
            "expressions_read": p.expressions_read,
            **{k: getattr(p, k) for k in PARTICIPANT_KEYS},
            **{f"share_{label}": share for label, share in p.shares.items()},
            **{k: call.get(k) for k in CALL_KEYS},
            "use": summary.use.mode,
            "informed": summary.use.informed,
        }
        for pid, p in summary.participants.items()
    ]
    return pd.DataFrame(rows)


def reaction_rows(name: str, summary: CallResult) -> pd.DataFrame:
    """The prospects' shares by who speaks (``while``) and stage (``all``: the whole call)."""
    rows = [
        {
            "call": name,
            "participant": pid,
            "while": when,
            "stage": stage,
            "label": label,
            "share": share,
        }
        for pid, seen in summary.reactions.items()
        for when, stages in seen.to_json().items()
        for stage, shares in stages.items()
        for label, share in shares.items()
    ]
    columns = ["call", "participant", "while", "stage", "label", "share"]
    return pd.DataFrame(rows, columns=columns)


class CallStore:
    """The store in ``folder``; :meth:`add` puts one call in it, replacing an older copy."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def add(self, name: str, summary: CallResult, timeline: pd.DataFrame) -> None:
        """Store a call's timeline, participants and reactions under ``name``."""
        (self.folder / "timelines").mkdir(parents=True, exist_ok=True)
        with atomic_path(self.folder / "timelines" / f"{quote(name, safe='')}.parquet") as tmp:
            timeline.assign(call=name).to_parquet(tmp, index=False)
        self._replace("calls.parquet", name, participant_rows(name, summary))
        self._replace("reactions.parquet", name, reaction_rows(name, summary))

    def calls(self) -> pd.DataFrame:
        """Every call's participants (empty when no call is stored yet)."""
        return self._read("calls.parquet")

    def reactions(self) -> pd.DataFrame:
        """Every call's prospects' reaction shares."""
        return self._read("reactions.parquet")

    def _read(self, file: str) -> pd.DataFrame:
        path = self.folder / file
        return pd.read_parquet(path) if path.is_file() else pd.DataFrame(columns=["call"])

    def _replace(self, file: str, name: str, rows: pd.DataFrame) -> None:
        old = self._read(file)
        parts = [part for part in (old[old["call"] != name], rows) if len(part)]
        table = pd.concat(parts, ignore_index=True) if parts else rows
        with atomic_path(self.folder / file) as tmp:
            table.sort_values("call", kind="stable").to_parquet(tmp, index=False)
