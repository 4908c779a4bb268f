"""Annotate a call recording: sample frames, track participants, timelines, moments, H.264.

For each sampled frame the faces are classified (as in :mod:`capstone.annotation`), and
faces are linked across frames into participants ``P1``, ``P2``, ... by how they and their
tile look and where they are (:mod:`capstone.identity`), so that a participant keeps their
id when tiles reorder or the layout changes. Detection, the slow step, runs on every
``detect_every``-th sampled frame and whenever the picture changes at once (tiles reorder,
the view switches); in between, the participants' last boxes are classified again.

Outputs, in ``out_dir/<video stem>/``: ``timeline.csv`` (time, participant, box, label,
probabilities), ``timeline.png`` (smoothed, one panel per participant, with the call's
stages), ``moments.png`` (where each participant's expression shifts most),
``participants.png`` (each participant's id with a thumbnail, to name them in the call
metadata), ``reactions.png`` (the prospects' faces at their largest shifts after the rep
speaks up or a stage starts; with call metadata naming them),
``annotated.mp4`` (H.264, plays in browsers), ``summary.json``, ``summary.md`` and
``report.html`` (all of it on one page, :mod:`capstone.report`). Nothing is kept per
sample but the timeline's row: the thumbnails are read again from the video at the end.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

from capstone.annotation import MediaError, check_input_file, classify_faces, draw
from capstone.artefacts import atomic_path, write_json, write_text
from capstone.call_info import DEFAULT_USE, CallInfo, check_use, use_lines, use_record
from capstone.faces import DETECT_PAD, detect
from capstone.identity import Tracker
from capstone.params import CLASSES
from capstone.report import write_report
from capstone.speakers import attribute, highlighted_tile
from capstone.speech import read_audio, voice_activity, voiced_at
from capstone.talk import talk_metrics

SMOOTH_S = 5.0  # seconds of the rolling mean the moments and figures are read from
MIN_REACTION = 0.05  # summary.md leaves out reaction moments that changed less than this
NEAR_FRAMES = 120  # thumbnails this many frames ahead are read on to, farther ones sought
SCENE_CUT = 12.0  # mean change of a 64x36 grayscale glance (0-255) that means a new layout
PROB_COLUMNS = [f"p_{c}" for c in CLASSES]


def sample_frames(path: str | Path, fps: float) -> Iterator[tuple[float, np.ndarray]]:
    """Yield ``(time in seconds, BGR frame)`` about ``fps`` times per second of video."""
    path = Path(path)
    check_input_file(path)
    capture = cv2.VideoCapture(str(path))
    try:
        native = capture.get(cv2.CAP_PROP_FPS)
        if not capture.isOpened() or not native or native <= 0:
            raise MediaError(f"{path}: cannot open as a video (truncated, empty or not a video)")
        index, next_t = 0, 0.0
        while capture.grab():
            t = index / native
            if t + 1e-9 >= next_t:
                ok, frame = capture.retrieve()
                if ok:
                    yield t, frame
                next_t += 1 / fps
            index += 1
    finally:
        capture.release()


def prefetched(items: Iterator[Any], ahead: int = 4) -> Iterator[Any]:
    """``items``, produced by a background thread up to ``ahead`` in advance, so that
    decoding the video (OpenCV lets go of Python while it decodes) overlaps the rest of
    the work. An error in producing them is raised here."""
    q: queue.Queue[Any] = queue.Queue(ahead)
    end, stop = object(), threading.Event()

    def produce() -> None:
        try:
            for item in items:
                q.put(item)
                if stop.is_set():
                    return
            q.put(end)
        except BaseException as err:  # noqa: BLE001 -- handed to the consumer, raised there
            q.put(err)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while (item := q.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting to put
            with contextlib.suppress(queue.Empty):
                q.get_nowait()
            thread.join(0.01)


def find_faces(
    frame: np.ndarray, known: list[Any], new_layout: bool, min_face: int, detector: str
) -> list[Any]:
    """The faces of a frame. On a new layout (the first frame, a scene cut), or with no
    face known, every face from ``min_face`` pixels on, with the padded pass for a face
    that fills the picture (:func:`capstone.faces.detect`). Otherwise the faces already
    there are looked for again, cheaply: from half the smallest known face's size on, and
    with the padded pass only while a known face is taller than 40% of the frame."""
    if new_layout or not known:
        return detect(frame, min_size=min_face, detector=detector)
    smallest = min(min(box[2:]) for box in known)
    large = max(box[3] for box in known) > 0.4 * frame.shape[0]
    return detect(
        frame,
        min_size=max(min_face, smallest // 2),
        detector=detector,
        pad=DETECT_PAD if large else 0.0,
    )


def frame_count(path: str | Path) -> tuple[int, float]:
    """The number of frames and frames per second a video declares (0 if unknown)."""
    capture = cv2.VideoCapture(str(path))
    try:
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), float(capture.get(cv2.CAP_PROP_FPS))
    finally:
        capture.release()


def annotate_video(  # noqa: PLR0913 -- an entry point; every option is keyword-only
    path: str | Path,
    model: Any,
    out_dir: str | Path,
    *,
    fps: float = 2.0,
    detect_every: int = 4,
    call: CallInfo | None = None,
    progress: bool = True,
    name: str | None = None,
    speakers: bool = True,
    use: str = DEFAULT_USE,
    meaning: str = "",
    **options: Any,
) -> dict[str, Any]:
    """Annotate one recording; returns the summary (also written as JSON and markdown).

    ``call`` names the participants and ``use`` decides whose expressions are read
    (:mod:`capstone.call_info`; by default only the named prospects'): the others are
    tracked and their speaking measured, but they are never classified.

    ``options`` go to :func:`capstone.annotation.classify_faces` (``detector``,
    ``min_face``, ``uncertain_below``, ``crop``). The outputs go to ``out_dir/<name>``
    (default: the video's stem). ``fps`` above the video's own frame rate samples every
    frame once. If the recording cannot be read, nothing is left behind. ``speakers=False``
    skips telling who speaks and links faces by position alone (for measuring what that
    work costs). ``meaning`` says what a reading means, in plain words
    (:func:`capstone.inference.reading_meaning`); the summary and the report carry it.
    """
    path = Path(path)
    if not (math.isfinite(fps) and fps > 0) or detect_every < 1:
        raise ValueError(f"need fps > 0 and detect_every >= 1, got {fps} and {detect_every}")
    check_input_file(path)
    call = call or CallInfo()
    check_use(call, use)
    out = Path(out_dir) / (name or path.stem)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        frames, native_fps = frame_count(path)
        if native_fps > 0:
            fps = min(fps, native_fps)
        known = native_fps > 0 and frames > 0
        expected = math.ceil(frames / native_fps * fps) if known else None
        audio = read_audio(path) if speakers else None
        reader = _Reader(
            model,
            call,
            use,
            speakers,
            detect_every,
            options,
            voiced=voice_activity(audio)[1] if audio is not None else None,
            detector=options.pop("detector", "mtcnn"),
        )
        rows = _annotate_into(out, path, reader, fps, progress=progress, expected=expected)
        return _write_results(out, path, rows, reader, fps, meaning=meaning)
    except BaseException:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        raise


@dataclass
class _Reader:
    """What one pass over a recording reads each sampled frame with, and what it has seen:
    the faces found at the last detection, the participants they are, the last glance."""

    model: Any
    call: CallInfo
    use: str
    speakers: bool
    detect_every: int
    options: dict[str, Any]
    voiced: np.ndarray | None
    detector: str = "mtcnn"
    tracker: Tracker = field(default_factory=Tracker)
    known_boxes: list[Any] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    seen: np.ndarray | None = None

    def read(self, n: int, t: float, frame: np.ndarray) -> tuple[list[dict[str, Any]], list]:
        """The timeline rows of sampled frame ``n`` (at ``t`` seconds) and its faces."""
        glance = cv2.cvtColor(cv2.resize(frame, (64, 36)), cv2.COLOR_BGR2GRAY).astype(float)
        cut = self.seen is not None and np.abs(glance - self.seen).mean() > SCENE_CUT
        self.seen = glance
        found = self.known_boxes  # between detections the boxes, and so the ids, stay put
        if n % self.detect_every == 0 or cut:  # a new layout: find the faces again now
            look_for = max(12, self.options.get("min_face", 24))  # smaller ones are not read
            found = find_faces(frame, self.known_boxes, n == 0 or cut, look_for, self.detector)
            self.known_boxes = [d.box for d in found]
            self.ids = self.tracker.assign(self.known_boxes, frame if self.speakers else None)
        read = [self.call.reads(pid, self.use) for pid in self.ids]
        faces = classify_faces(frame, self.model, boxes=found, read=read, **self.options)
        speaking = [(None, "")] * len(faces)
        if self.speakers:
            heard = voiced_at([t], self.voiced)[0] if self.voiced is not None else None
            speaking = attribute(self.known_boxes, highlighted_tile(frame), heard)
        rows = []
        for pid, face, speech in zip(self.ids, faces, speaking, strict=True):
            face["participant"] = pid
            rows.append(_row(t, pid, face, self.call, speech))
        return rows, faces


def _annotate_into(
    out: Path, path: Path, reader: _Reader, fps: float, *, progress: bool, expected: int | None
) -> list[dict[str, Any]]:
    """Read every sampled frame of ``path`` into timeline rows, and write ``annotated.mp4``
    (``expected``: how many sampled frames the progress bar counts to, if known)."""
    video_tmp, writer, rows = out / ".annotated.part.mp4", None, []
    try:
        bar = tqdm(total=expected, desc=f"annotate {path.name}", unit="frame", disable=not progress)
        for n, (t, frame) in enumerate(prefetched(sample_frames(path, fps))):
            new_rows, faces = reader.read(n, t, frame)
            rows += new_rows
            labelled = [{**f, "label": f"{f['participant']} {f['label']}"} for f in faces]
            writer = writer or _h264_writer(video_tmp, frame.shape, fps)
            writer.send(_even(draw(frame, labelled)))
            bar.update()
        bar.close()
        if writer is None:
            raise MediaError(f"{path}: no frames could be read (empty or truncated video)")
        writer.close()
        video_tmp.replace(out / "annotated.mp4")
    finally:
        if writer is not None:
            writer.close()  # stops ffmpeg, which would otherwise write the file again later
        video_tmp.unlink(missing_ok=True)
    return rows


def _write_results(
    out: Path, path: Path, rows: list[dict[str, Any]], reader: _Reader, fps: float, *, meaning: str
) -> dict[str, Any]:
    """The timeline, the summary, the figures and the report of a recording read."""
    timeline = pd.DataFrame(rows, columns=_columns())
    with atomic_path(out / "timeline.csv") as tmp:
        timeline.to_csv(tmp, index=False)
    summary = summarise(path.name, timeline, reader.call, fps=fps, use=reader.use)
    summary["audio_track"] = reader.voiced is not None
    summary["reading_means"] = meaning
    moments = _figures(out, path, timeline, reader.call, summary=summary)
    write_json(out / "summary.json", summary)
    write_text(out / "summary.md", summary_markdown(summary))
    write_report(out, summary, moments)
    return summary


def smoothed(timeline: pd.DataFrame, seconds: float) -> pd.DataFrame:
    """Per participant, probabilities averaged over a centred window of ``seconds``."""
    parts = []
    read = timeline[timeline["status"].isin(["ok", "uncertain"])]
    for pid, group in read.groupby("participant"):
        g = group.set_index(pd.to_timedelta(group["time"], unit="s"))[PROB_COLUMNS]
        g = g.rolling(pd.Timedelta(seconds=seconds), center=True, min_periods=1).mean()
        parts.append(
            g.reset_index(drop=True).assign(time=group["time"].to_numpy(), participant=pid)
        )
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["time", "participant", *PROB_COLUMNS])
    )


def shifts(smooth: pd.DataFrame, top: int = 3, min_gap: float = 10.0) -> list[dict[str, Any]]:
    """Per participant, the ``top`` moments where the smoothed expression changes most and
    the top reading changes with it.

    The change at a time is the total-variation distance between the smoothed probabilities
    there and at the previous sample; the top reading is compared half a gap before and half
    a gap after, and a moment where it stays the same is not one (nothing a viewer would see
    change). Moments closer than ``min_gap`` seconds are merged.
    """
    moments = []
    for pid, g in smooth.groupby("participant"):
        probs = g[PROB_COLUMNS].to_numpy()
        if len(probs) < 2:
            continue
        change = 0.5 * np.abs(np.diff(probs, axis=0)).sum(axis=1)
        all_times = g["time"].to_numpy()
        times = all_times[1:]
        picked: dict[int, tuple[str, str]] = {}
        for i in np.argsort(-change, kind="stable"):
            if any(abs(times[i] - times[j]) < min_gap for j in picked):
                continue
            before = int(np.searchsorted(all_times, times[i] - min_gap / 2))
            after = int(np.searchsorted(all_times, times[i] + min_gap / 2, side="right")) - 1
            was = CLASSES[int(probs[min(before, i)].argmax())]
            now = CLASSES[int(probs[max(after, i + 1)].argmax())]
            if was != now:
                picked[int(i)] = (was, now)
            if len(picked) == top:
                break
        moments += [
            {
                "participant": pid,
                "time": float(times[i]),
                "change": round(float(change[i]), 4),
                "from": was,
                "to": now,
            }
            for i, (was, now) in sorted(picked.items())
        ]
    return moments


def summarise(
    name: str,
    timeline: pd.DataFrame,
    call: CallInfo,
    *,
    fps: float = 2.0,
    use: str = DEFAULT_USE,
    smooth_s: float = SMOOTH_S,
) -> dict[str, Any]:
    """Participants, their expression shares overall and per stage, the shift moments, the
    talk metrics of :func:`capstone.talk.talk_metrics` (``fps``: the sampling rate), and
    the ``use`` record of :func:`capstone.call_info.use_record`."""
    classified = timeline[timeline["status"].isin(["ok", "uncertain"])]
    speaking = timeline[["time", "participant"]].assign(
        speaking=timeline["speaking"].map({"true": True, "false": False}).astype(object)
    )
    speaking.loc[speaking["speaking"].isna(), "speaking"] = None
    talk = talk_metrics(speaking, fps, call.rep, list(call.prospects))
    participants = {}
    for pid, g in timeline.groupby("participant"):
        c = classified[classified["participant"] == pid]
        shares = c["label"].value_counts(normalize=True).round(3).to_dict()
        per_stage = {
            stage: s["label"].value_counts(normalize=True).round(3).to_dict()
            for stage, s in c.groupby("stage", sort=False)
            if stage
        }
        participants[pid] = {
            "role": call.role(pid),
            "expressions_read": call.reads(str(pid), use),
            "samples": len(g),
            "classified": len(c),
            "shares": shares,
            "per_stage": per_stage,
            **talk["participants"].get(pid, {}),
        }
    return {
        "input": name,
        "note": "labels are perceived facial expressions, not felt emotions",
        "use": use_record(call, use, [str(p) for p in participants]),
        "duration_s": float(timeline["time"].max()) if len(timeline) else 0.0,
        "participants": participants,
        "stages": call.stages,
        "moments": shifts(smoothed(timeline, smooth_s)),
        "talk": talk["call"],
        "reactions": reactions(timeline, call),
        "reaction_moments": reaction_moments(timeline, call),
    }


def speaking_spans(timeline: pd.DataFrame) -> dict[str, list[tuple[float, float]]]:
    """Per participant, the ``(start, end)`` seconds of each run of samples marked speaking."""
    times = np.sort(timeline["time"].unique())
    step = float(np.median(np.diff(times))) if len(times) > 1 else 1.0
    spans: dict[str, list[tuple[float, float]]] = {}
    for pid, g in timeline[timeline["speaking"] == "true"].groupby("participant"):
        runs = spans.setdefault(str(pid), [])
        for t in np.sort(g["time"].to_numpy()):
            if runs and t - runs[-1][1] < step / 2:
                runs[-1] = (runs[-1][0], float(t) + step)
            else:
                runs.append((float(t), float(t) + step))
    return spans


def reaction_moments(
    timeline: pd.DataFrame, call: CallInfo, window_s: float = 4.0, top: int = 3
) -> list[dict[str, Any]]:
    """Per prospect, the ``top`` largest shifts of their perceived expression in the
    ``window_s`` seconds after the rep starts speaking or a stage starts, where the top
    reading changed.

    The shift is the total-variation distance between the prospect's mean probabilities in
    the ``window_s`` before the event and in the ``window_s`` after it. Each moment has
    the ``participant``, the ``event`` (``rep speaks`` or ``stage <name>``), its ``time``,
    the ``change``, the top class ``from`` and ``to``, and ``at``, the time of the
    prospect's sample the thumbnail shows (the middle of the window after). Empty without
    a rep or prospects.
    """
    if call.rep is None or not call.prospects:
        return []
    events = [(start, "rep speaks") for start, _ in speaking_spans(timeline).get(call.rep, [])]
    events += [(start, f"stage {name}") for name, start in call.stages.items() if start > 0]
    read = timeline[timeline["status"].isin(["ok", "uncertain"])]
    moments = []
    for pid in call.prospects:
        own = read[read["participant"] == pid]
        found = []
        for t, event in events:
            before = own[(own["time"] >= t - window_s) & (own["time"] < t)][PROB_COLUMNS]
            after = own[(own["time"] >= t) & (own["time"] < t + window_s)]
            if before.empty or after.empty:
                continue
            p, q = before.mean().to_numpy(), after[PROB_COLUMNS].mean().to_numpy()
            middle = after["time"].iloc[len(after) // 2]
            found.append(
                {
                    "participant": pid,
                    "event": event,
                    "time": float(t),
                    "change": round(float(0.5 * np.abs(q - p).sum()), 4),
                    "from": CLASSES[int(p.argmax())],
                    "to": CLASSES[int(q.argmax())],
                    "at": float(middle),
                }
            )
        changed = [m for m in found if m["from"] != m["to"]]  # a reading a viewer sees change
        moments += sorted(changed, key=lambda m: -m["change"])[:top]
    return moments


def reactions(timeline: pd.DataFrame, call: CallInfo) -> dict[str, Any]:
    """For each prospect, the shares of their perceived expressions while the rep speaks and
    while they speak themselves, over the call (``all``) and per stage.

    The rep's speaking counts whether or not the rep's face is read. Empty without a rep.
    """
    if call.rep is None:
        return {}
    rep = (timeline["participant"] == call.rep) & (timeline["speaking"] == "true")
    rep_times = set(timeline.loc[rep, "time"])
    classified = timeline[timeline["status"].isin(["ok", "uncertain"])]
    out: dict[str, Any] = {}
    for pid in call.prospects:
        own = classified[classified["participant"] == pid]
        while_rep = own[own["time"].isin(rep_times)]
        while_self = own[own["speaking"] == "true"]
        out[pid] = {
            "while_rep_speaks": _shares_by_stage(while_rep),
            "while_speaking": _shares_by_stage(while_self),
        }
    return out


def _shares_by_stage(samples: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Label shares of ``samples`` over all of them and per non-empty stage."""
    shares = {"all": samples["label"].value_counts(normalize=True).round(3).to_dict()}
    for stage, g in samples.groupby("stage", sort=False):
        if stage:
            shares[str(stage)] = g["label"].value_counts(normalize=True).round(3).to_dict()
    return {k: v for k, v in shares.items() if v}


def summary_markdown(summary: dict[str, Any]) -> str:
    """The summary as a short markdown report."""
    lines = [f"# {summary['input']}", "", f"*{summary['note']}.*", ""]
    if summary.get("reading_means"):
        lines += [summary["reading_means"], ""]
    roles = {pid: p["role"] for pid, p in summary["participants"].items()}
    lines += [*use_lines(summary["use"], roles), ""]
    if not summary["participants"]:
        lines.append("No faces were found in this recording.")
    lines += _participant_lines(summary["participants"])
    lines += _talk_lines(summary)
    lines += _reaction_lines(summary)
    if summary["moments"]:
        lines += ["", "Largest shifts:"]
        lines += [
            f"- {m['participant']} at {m['time']:.1f} s: {m['from']} -> {m['to']}"
            for m in summary["moments"]
        ]
    return "\n".join(lines) + "\n"


def _participant_lines(participants: dict[str, Any]) -> list[str]:
    lines = []
    for pid, p in participants.items():
        role = f" ({p['role']})" if p["role"] else ""
        if not p["expressions_read"]:
            lines.append(f"- **{pid}**{role}: {p['samples']} samples; expressions not read")
            continue
        top = (
            ", ".join(f"{k} {v:.0%}" for k, v in list(p["shares"].items())[:3]) or "not classified"
        )
        lines.append(
            f"- **{pid}**{role}: {p['classified']} of {p['samples']} samples classified; {top}"
        )
        for stage, shares in p["per_stage"].items():
            best = ", ".join(f"{k} {v:.0%}" for k, v in list(shares.items())[:2])
            lines.append(f"  - {stage}: {best}")
    return lines


def _talk_lines(summary: dict[str, Any]) -> list[str]:
    talk = summary.get("talk") or {}
    if not talk.get("known_share"):
        return []
    lines = ["", "Talk:"]
    for pid, p in summary["participants"].items():
        share = "" if p.get("talk_share") is None else f" ({p['talk_share']:.0%} of the talk)"
        lines.append(
            f"- {pid}: {p.get('talk_seconds', 0):.0f} s{share}, longest monologue "
            f"{p.get('longest_monologue_s', 0):.0f} s"
        )
    ratio, patience = talk.get("talk_listen_ratio"), talk.get("patience_s")
    if ratio is not None:
        lines.append(f"- the rep's talk-listen ratio: {ratio:.0%} : {1 - ratio:.0%}")
    if patience is not None:
        lines.append(f"- patience (pause before the rep answers): {patience:.1f} s")
    lines.append(f"- speaker switches per minute: {talk['speaker_switches_per_min']}")
    return lines


def _reaction_lines(summary: dict[str, Any]) -> list[str]:
    lines = (
        ["", "The prospects' perceived expressions, by who speaks:"]
        if summary.get("reactions")
        else []
    )
    for pid, seen in (summary.get("reactions") or {}).items():
        for key, when in (
            ("while_rep_speaks", "while the rep speaks"),
            ("while_speaking", "while speaking"),
        ):
            shares = seen[key].get("all", {})
            if shares:
                top = ", ".join(f"{k} {v:.0%}" for k, v in list(shares.items())[:3])
                lines.append(f"- {pid} {when}: {top}")
    shifted = [m for m in summary.get("reaction_moments", []) if m["change"] >= MIN_REACTION]
    if shifted:
        lines += ["", "Reactions (largest shifts after the rep speaks up or a stage starts):"]
        lines += [
            f"- {m['participant']} after {m['event']} at {m['time']:.1f} s: "
            f"{m['from']} -> {m['to']} (change {m['change']:.2f})"
            for m in shifted
        ]
    return lines


def _columns() -> list[str]:
    return [
        "time",
        "participant",
        "x",
        "y",
        "w",
        "h",
        "status",
        "label",
        "probability",
        "stage",
        "speaking",
        "speaking_source",
        *PROB_COLUMNS,
    ]


def _row(
    t: float, pid: str, face: dict[str, Any], call: CallInfo, speech: tuple[bool | None, str]
) -> list[Any]:
    probs = [face["probs"].get(c, np.nan) for c in CLASSES]
    speaking, source = speech
    return [
        round(t, 3),
        pid,
        *face["box"],
        face["status"],
        face["label"],
        face["probability"],
        call.stage_at(t),
        "" if speaking is None else str(speaking).lower(),
        source,
        *probs,
    ]


def _even(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    return np.ascontiguousarray(frame[: h - h % 2, : w - w % 2])


def _h264_writer(path: Path, shape: tuple[int, ...], fps: float) -> Any:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise MediaError(
            "writing the annotated video needs imageio-ffmpeg: pip install imageio-ffmpeg"
        ) from None

    h, w = shape[0] - shape[0] % 2, shape[1] - shape[1] % 2
    writer = imageio_ffmpeg.write_frames(
        str(path),
        (w, h),
        fps=fps,
        codec="libx264",
        pix_fmt_in="bgr24",  # OpenCV's frames as they are: no copy to RGB per frame
        pix_fmt_out="yuv420p",
        macro_block_size=1,
        ffmpeg_log_level="error",  # its notes on guessed layouts and rates are not for users
        output_params=["-preset", "veryfast", "-movflags", "+faststart"],  # a third of the CPU
    )
    writer.send(None)
    return writer


def face_crops_at(
    path: str | Path, wanted: list[tuple[float, tuple[int, int, int, int]]], side: int = 96
) -> list[np.ndarray | None]:
    """The ``(x, y, w, h)`` box of the frame at each time (seconds), as a ``side`` x ``side``
    thumbnail, read again from the video (so nothing is kept per sample while annotating);
    ``None`` where the frame cannot be read. Each frame is read once, in order: by reading
    on when it is near (a seek decodes from the last key frame, some 100 frames' work)."""
    capture = cv2.VideoCapture(str(path))
    native = capture.get(cv2.CAP_PROP_FPS) or 1.0
    by_frame: dict[int, list[int]] = {}
    for i, (t, _) in enumerate(wanted):
        by_frame.setdefault(round(t * native), []).append(i)
    crops: list[np.ndarray | None] = [None] * len(wanted)
    position = 0  # the index of the frame the next read returns
    try:
        for index in sorted(by_frame):
            if not 0 <= index - position < NEAR_FRAMES:
                capture.set(cv2.CAP_PROP_POS_FRAMES, index)
                position = index
            while position < index and capture.grab():
                position += 1
            ok, frame = capture.read()
            position += 1
            for i in by_frame[index] if ok else []:
                x, y, w, h = wanted[i][1]
                face = frame[max(0, y) : y + h, max(0, x) : x + w]
                crops[i] = cv2.resize(face, (side, side)) if face.size else None
    finally:
        capture.release()
    return crops


def _figures(
    out: Path,
    path: Path,
    timeline: pd.DataFrame,
    call: CallInfo,
    *,
    summary: dict[str, Any],
) -> list[dict[str, Any]]:
    """Write the figures; return the moments and reactions with their thumbnails (for the
    report)."""
    from capstone import plots

    smooth = smoothed(timeline, SMOOTH_S)
    fig = plots.timelines(
        smooth,
        call.stages,
        {p: call.role(p) for p in smooth["participant"].unique()},
        speaking_spans(timeline),
    )
    with atomic_path(out / "timeline.png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    first = timeline.groupby("participant", sort=True).head(1)
    wanted = [(m["participant"], m["time"]) for m in summary["moments"]]
    wanted += [(m["participant"], m["at"]) for m in summary["reaction_moments"]]
    wanted += [(r.participant, r.time) for r in first.itertuples()]
    images = dict(
        zip(wanted, face_crops_at(path, [_box_at(timeline, *w) for w in wanted]), strict=True)
    )
    moments = [{**m, "image": images[(m["participant"], m["time"])]} for m in summary["moments"]]
    fig = plots.moments([m for m in moments if m["image"] is not None])
    with atomic_path(out / "moments.png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    reacted = [
        {
            **m,
            "participant": f"{m['participant']} after {m['event']}",
            "time": m["at"],
            "image": images[(m["participant"], m["at"])],
        }
        for m in summary["reaction_moments"]
    ]
    if reacted:
        fig = plots.moments([m for m in reacted if m["image"] is not None])
        with atomic_path(out / "reactions.png") as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    roles = {p: call.role(p) or "not named" for p in first["participant"]}
    for p in summary["use"]["not_read"]:
        roles[p] = f"{roles.get(p, 'not named')}, not read"
    fig = plots.participants(
        [
            {
                "participant": r.participant,
                "role": roles[r.participant],
                "image": images[(r.participant, r.time)],
            }
            for r in first.itertuples()
            if images[(r.participant, r.time)] is not None
        ]
    )
    with atomic_path(out / "participants.png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    import matplotlib.pyplot as plt

    plt.close("all")
    return [{**m, "label": f"{m['from']} -> {m['to']}"} for m in moments + reacted]


def _box_at(timeline: pd.DataFrame, pid: str, t: float) -> tuple[float, tuple[int, int, int, int]]:
    """The time and box of participant ``pid``'s sample nearest ``t``."""
    own = timeline[timeline["participant"] == pid]
    r = own.iloc[int(np.abs(own["time"].to_numpy() - t).argmin())]
    return float(r["time"]), (int(r["x"]), int(r["y"]), int(r["w"]), int(r["h"]))
