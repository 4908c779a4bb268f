"""A call's summary (:func:`capstone.calls.timeline.summarise`) in the words a manager reads: tables
with plain headings, percentages and durations, and one sentence on how the prospects'
faces likely came across. For notebooks and reports; the raw figures stay in the summary."""

from __future__ import annotations

import pandas as pd

from capstone.calls.metadata import SELF_REVIEW, use_lines
from capstone.calls.result import CallResult, Participant, ScreenshotResult, Talk

NOT_KNOWN = "not known"  # what a table says where nothing measured a figure
MIN_REACTION = 0.05  # summary.md leaves out reaction moments that changed less than this
TALK_KEYS = ("talk_seconds", "talk_share", "longest_monologue_s")


def percent(share: float | None) -> str:
    """``0.243`` -> ``24%``; nothing known -> an empty string."""
    return "" if share is None else f"{share:.0%}"


def duration(seconds: float | None) -> str:
    """``72.4`` -> ``1 min 12 s``; ``8.2`` -> ``8 s``; nothing known -> an empty string."""
    if seconds is None:
        return ""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def who(pid: str, participant: Participant | None) -> str:
    """``P2, prospect (Dana)``, or ``P3`` for a participant nobody named."""
    return f"{pid}, {participant.who}" if participant and participant.who else pid


def talk_table(summary: CallResult) -> pd.DataFrame:
    """One row per participant: whether their expressions were read, how long they talked,
    their share of the talk and their longest monologue ("not known" throughout where
    nothing in the call told who was speaking: no voice and no active-speaker outline)."""
    known = summary.talk.known_share > 0
    rows = {
        who(pid, p): {
            "expressions read": "yes" if p.expressions_read else "no",
            "talked": duration(p.talk_seconds) if known else NOT_KNOWN,
            "share of the talk": percent(p.talk_share) if known else NOT_KNOWN,
            "longest monologue": duration(p.longest_monologue_s) if known else NOT_KNOWN,
        }
        for pid, p in summary.participants.items()
    }
    return _named(pd.DataFrame.from_dict(rows, orient="index"), "participant")


def call_table(summary: CallResult) -> pd.DataFrame:
    """The call's talk metrics that could be measured, one row each, in words."""
    rows = {
        m.words: m.show(value)
        for m in Talk.metrics()
        if (value := getattr(summary.talk, m.name)) is not None
    }
    return pd.DataFrame({"the call": rows}) if rows else pd.DataFrame()


def reaction_table(summary: CallResult) -> pd.DataFrame:
    """The prospects' perceived expressions over the call, as percentages of their readings:
    one row per prospect and ``while the rep speaks`` / ``while speaking`` (a row only where
    there were readings then: a prospect who never spoke has no "while speaking" row)."""
    names = {"while_rep_speaks": "while the rep speaks", "while_speaking": "while speaking"}
    rows = {
        (who(pid, summary.participants.get(pid)), names[when]): shares["all"]
        for pid, seen in summary.reactions.items()
        for when, shares in seen.to_json().items()
        if shares.get("all")
    }
    return _percentages(_rows(rows, ("participant", "while")))


def stage_table(summary: CallResult) -> pd.DataFrame:
    """Each read participant's perceived expressions in each stage of the pitch, in the
    pitch's order, as percentages of their readings there."""
    order = {stage: i for i, stage in enumerate(summary.stages)}
    rows = {
        (who(pid, p), stage): p.per_stage[stage]
        for pid, p in summary.participants.items()
        for stage in sorted(p.per_stage, key=lambda s: order.get(s, len(order)))
    }
    return _percentages(_rows(rows, ("participant", "stage")))


def _rows(rows: dict[tuple[str, str], dict[str, float]], names: tuple[str, str]) -> pd.DataFrame:
    """A table of ``rows`` in the order given (never sorted), its two index levels named."""
    if not rows:
        return pd.DataFrame()
    index = pd.MultiIndex.from_tuples(list(rows), names=list(names))
    return pd.DataFrame(list(rows.values()), index=index)


def _named(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    frame.index.name = name
    return frame


def headline(summary: CallResult) -> str:
    """How the prospects' faces likely came across, in a sentence or two: for each prospect
    whose expressions were read, the expression seen most, and the one that rose most from
    the first stage to the last (where the call has stages and it rose by 10 points). A
    self-review speaks to the rep, of the rep's own face."""
    if summary.use.mode == SELF_REVIEW:
        return _to_the_rep(summary)
    sentences = []
    for p in summary.prospects:
        if not p.expressions_read or not p.shares:
            continue
        top, share = max(p.shares.items(), key=lambda item: item[1])
        sentence = f"{p.called} looked mostly {top} ({share:.0%} of the readings)"
        stages = list(p.per_stage.items())
        if len(stages) >= 2:
            (first, before), (last, after) = stages[0], stages[-1]
            rises = {c: after.get(c, 0.0) - before.get(c, 0.0) for c in after}
            rose = max(rises, key=lambda c: rises[c]) if rises else None
            if rose is not None and rises[rose] >= 0.10:
                sentence += (
                    f"; {rose} readings rose from {before.get(rose, 0.0):.0%} in the {first} "
                    f"to {after[rose]:.0%} in the {last}"
                )
        sentences.append(sentence + ".")
    if not sentences:
        return "No prospect's expressions were read in this call (name them with --call)."
    return " ".join(sentences)


def _to_the_rep(summary: CallResult) -> str:
    rep = next((p for p in summary.participants.values() if p.role == "rep"), None)
    if rep is None or not rep.shares:
        return "Your face was not read in this call (it may have been too small or turned away)."
    top, share = max(rep.shares.items(), key=lambda item: item[1])
    return (
        f"You looked mostly {top} ({share:.0%} of your readings): how your face likely came "
        "across, for you alone."
    )


def picture_shares(results: list[ScreenshotResult]) -> dict[str, dict[str, float]]:
    """Per prospect read in a set of screenshots (by name, else id), the shares of their
    perceived expressions over the pictures."""
    seen: dict[str, list[str]] = {}
    for result in results:
        for face in result.faces:
            if face.role == "prospect" and face.status == "ok" and face.expression:
                seen.setdefault(face.name or face.participant, []).append(face.expression)
    return {
        who: {
            label: labels.count(label) / len(labels)
            for label in sorted(set(labels), key=labels.count, reverse=True)
        }
        for who, labels in seen.items()
    }


def picture_headline(results: list[ScreenshotResult]) -> str:
    """How the prospects' faces likely came across in a call's screenshots, in a sentence."""
    said = [
        f"{who} looked mostly {top} ({share:.0%} of the pictures)"
        if len(results) > 1
        else f"{who} looked {top}"
        for who, shares in picture_shares(results).items()
        for top, share in [next(iter(shares.items()))]
    ]
    if not said:
        return "No prospect's expressions were read in these pictures (name them as prospects)."
    return "; ".join(said) + "."


def _percentages(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.fillna(0.0).map(percent) if len(frame) else frame


def summary_markdown(summary: CallResult) -> str:
    """The summary as a short markdown report."""
    lines = [f"# {summary.input}", "", f"*{summary.note}.*", ""]
    if summary.reading_means:
        lines += [summary.reading_means, ""]
    lines += [*use_lines(summary.use, summary.roles()), ""]
    if not summary.participants:
        lines.append("No faces were found in this recording.")
    lines += _participant_lines(summary.participants)
    lines += _talk_lines(summary)
    lines += _reaction_lines(summary)
    if summary.moments:
        lines += ["", "Largest shifts:"]
        lines += [
            f"- {m.participant} at {m.time:.1f} s: {m.was} -> {m.now}" for m in summary.moments
        ]
    return "\n".join(lines) + "\n"


def _participant_lines(participants: dict[str, Participant]) -> list[str]:
    lines = []
    for pid, p in participants.items():
        role = f" ({p.who})" if p.who else ""
        if not p.expressions_read:
            lines.append(f"- **{pid}**{role}: {p.samples} samples; expressions not read")
            continue
        top = ", ".join(f"{k} {v:.0%}" for k, v in list(p.shares.items())[:3]) or "not classified"
        lines.append(f"- **{pid}**{role}: {p.classified} of {p.samples} samples classified; {top}")
        for stage, shares in p.per_stage.items():
            best = ", ".join(f"{k} {v:.0%}" for k, v in list(shares.items())[:2])
            lines.append(f"  - {stage}: {best}")
    return lines


def _talk_lines(summary: CallResult) -> list[str]:
    talk = summary.talk
    if not talk.known_share:
        return []
    lines = ["", "Talk:"]
    for pid, p in summary.participants.items():
        share = "" if p.talk_share is None else f" ({p.talk_share:.0%} of the talk)"
        lines.append(
            f"- {pid}: {p.talk_seconds:.0f} s{share}, longest monologue "
            f"{p.longest_monologue_s:.0f} s"
        )
    ratio, patience = talk.talk_listen_ratio, talk.patience_s
    if ratio is not None:
        lines.append(f"- the rep's talk-listen ratio: {ratio:.0%} : {1 - ratio:.0%}")
    if patience is not None:
        lines.append(f"- patience (pause before the rep answers): {patience:.1f} s")
    lines.append(f"- speaker switches per minute: {talk.speaker_switches_per_min}")
    return lines


def _reaction_lines(summary: CallResult) -> list[str]:
    lines = (
        ["", "The prospects' perceived expressions, by who speaks:"] if summary.reactions else []
    )
    for pid, reactions in summary.reactions.items():
        seen = reactions.to_json()
        for key, when in (
            ("while_rep_speaks", "while the rep speaks"),
            ("while_speaking", "while speaking"),
        ):
            shares = seen[key].get("all", {})
            if shares:
                top = ", ".join(f"{k} {v:.0%}" for k, v in list(shares.items())[:3])
                lines.append(f"- {pid} {when}: {top}")
    shifted = [m for m in summary.reaction_moments if m.change >= MIN_REACTION]
    if shifted:
        lines += ["", "Reactions (largest shifts after the rep speaks up or a stage starts):"]
        lines += [
            f"- {m.participant} after {m.event} at {m.time:.1f} s: "
            f"{m.was} -> {m.now} (change {m.change:.2f})"
            for m in shifted
        ]
    return lines
