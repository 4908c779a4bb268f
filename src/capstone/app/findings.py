"""What the app keeps of a call's annotation, as one typed value stored on the call: the files
it left, the prospects' perceived expressions over the call, and the call's talk metrics.

The worker builds it from the results the annotation hands back (:func:`findings_of`); the
pages read it, and format it in words only when they show it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from capstone.calls.request import CallOutputs
from capstone.calls.result import CallResult, ScreenshotResult, Shares, Talk
from capstone.calls.summary import headline, picture_headline, picture_shares
from capstone.library.annotate import Annotated


@dataclass(frozen=True)
class Findings:
    """A call's annotation, in brief: its ``outputs`` (paths relative to the app's folder),
    the ``prospect_shares`` (each perceived expression's share of the prospects' readings),
    its ``talk`` metrics (a recording's) and its ``headline`` in words."""

    outputs: tuple[CallOutputs, ...] = ()
    prospect_shares: Shares = field(default_factory=dict)
    talk: Talk | None = None
    headline: str = ""

    @property
    def recordings(self) -> list[CallOutputs]:
        return [o for o in self.outputs if o.kind == "video"]

    @property
    def screenshots(self) -> list[CallOutputs]:
        return [o for o in self.outputs if o.kind == "image"]

    @property
    def prospects_reading(self) -> str:
        """The prospects' most frequent reading in words (``happy (42%)``), or ``not read``."""
        shares = self.prospect_shares
        if not shares:
            return "not read"
        top = max(shares, key=lambda k: shares[k])
        return f"{top} ({shares[top]:.0%})"

    def to_json(self) -> dict[str, Any]:  # JSON, as the database column keeps it
        return {
            "outputs": [o.to_json() for o in self.outputs],
            "prospect_shares": dict(self.prospect_shares),
            "talk": None if self.talk is None else self.talk.to_json(),
            "headline": self.headline,
        }

    @classmethod
    def from_json(cls, record: Mapping[str, Any] | None) -> Findings:
        record = record or {}
        talk = record.get("talk")
        return cls(
            outputs=tuple(CallOutputs.from_json(o) for o in record.get("outputs", [])),
            prospect_shares=dict(record.get("prospect_shares") or {}),
            talk=None if talk is None else Talk.from_json(talk),
            headline=record.get("headline", ""),
        )


def prospect_shares(result: CallResult) -> Shares:
    """The prospects' perceived expressions over the call: each one's share of all the
    prospects' readings."""
    counts: dict[str, float] = {}
    for p in result.prospects:
        for label, share in p.shares.items():
            counts[label] = counts.get(label, 0.0) + share * p.classified
    total = sum(counts.values())
    return {k: round(v / total, 4) for k, v in counts.items()} if total else {}


def _pooled(shares: list[Shares]) -> Shares:
    """The mean of several prospects' shares."""
    pooled: dict[str, float] = {}
    for one in shares:
        for label, share in one.items():
            pooled[label] = pooled.get(label, 0.0) + share / len(shares)
    return pooled


def findings_of(read: Mapping[str, Annotated], folder: str) -> Findings:
    """The findings of a call whose inputs were read as ``read`` (output name -> result and
    files, relative to ``folder``): a recording's headline, shares and talk where the call
    has one, else its screenshots' pooled."""
    names = sorted(read)
    outputs = tuple(read[n].outputs.under(folder) for n in names)
    results = [read[n].result for n in names]
    recordings = [r for r in results if isinstance(r, CallResult)]
    if recordings:
        first = recordings[0]
        return Findings(outputs, prospect_shares(first), first.talk, headline(first))
    pictures = [r for r in results if isinstance(r, ScreenshotResult)]
    if not pictures:
        return Findings(outputs)
    shares = _pooled(list(picture_shares(pictures).values()))
    return Findings(outputs, shares, None, picture_headline(pictures))


def legacy_findings(
    results: dict[str, Any],  # the JSON a schema-2 database kept, read once to migrate it
    headline: str,
    talk_ratio: float | None,
) -> Findings:
    """The :class:`Findings` of a call's results as schema 2 kept them: lists of files by
    kind (relative to the app's folder), the prospects' shares, and columns of their own."""
    recordings = [Path(f).parent for f in results.get("summaries", [])]
    pictures = [Path(f) for f in results.get("pictures", [])]
    outputs = [CallOutputs.of_recording(f.name).under(f.parent.as_posix()) for f in recordings]
    outputs += [
        CallOutputs.of_screenshot(f.name.removesuffix("_annotated.png")).under(f.parent.as_posix())
        for f in pictures
    ]
    return Findings(
        tuple(outputs),
        results.get("prospect_shares") or {},
        Talk(talk_listen_ratio=talk_ratio) if recordings else None,
        headline or "",
    )
