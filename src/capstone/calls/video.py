"""Annotate a call recording: sample frames, track participants, timelines, moments, H.264.

For each sampled frame the faces are classified (as in :mod:`capstone.reading.classify`), and
faces are linked across frames into participants ``P1``, ``P2``, ... by how they and their
tile look and where they are (:mod:`capstone.calls.tracking`), so that a participant keeps their
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
``report.html`` (all of it on one page, :mod:`capstone.calls.report`). Nothing is kept per
sample but the timeline's row: the thumbnails are read again from the video at the end.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from capstone.artefacts import write_json, write_text
from capstone.calls.audio import read_audio, voice_activity, voiced_at
from capstone.calls.figures import figures
from capstone.calls.image import draw
from capstone.calls.metadata import CallInfo
from capstone.calls.numbering import FrameNumbering, NumberedFace
from capstone.calls.report import write_report
from capstone.calls.request import CallRequest
from capstone.calls.result import CallResult
from capstone.calls.speakers import attribute, highlighted_tile
from capstone.calls.summary import summary_markdown
from capstone.calls.timeline import summarise, timeline_frame, write_timeline
from capstone.calls.video_io import even, frame_count, h264_writer, prefetched, sample_frames
from capstone.labels import CLASSES
from capstone.media import MediaError, check_input_file
from capstone.reading.classify import classify_faces
from capstone.reading.face_reading import FaceReading

SCENE_CUT = 12.0  # mean change of a 64x36 grayscale glance (0-255) that means a new layout


def annotate_video(  # noqa: PLR0913 -- an entry point; every option is keyword-only
    path: str | Path,
    model: Any,
    out_dir: str | Path,
    *,
    request: CallRequest | None = None,
    progress: bool = True,
    on_progress: Callable[[float], None] | None = None,
    name: str | None = None,
    speakers: bool = True,
    meaning: str = "",
) -> CallResult:
    """Annotate one recording; returns its :class:`~capstone.calls.result.CallResult` (also
    written as ``summary.json`` and ``summary.md``; :meth:`CallOutputs.of_recording` names
    every file).

    The request's call metadata names the participants and its use decides whose
    expressions are read (:mod:`capstone.calls.metadata`; by default only the named
    prospects'): the others are tracked and their speaking measured, but they are never
    classified. Its :class:`~capstone.calls.request.ReadingOptions` say how: frames sampled
    per second (above the video's own frame rate, every frame once), how often faces are
    looked for, the detector, the smallest face read, the model's crop and threshold.

    The outputs go to ``out_dir/<name>`` (default: the video's stem). If the recording
    cannot be read, nothing is left behind. ``speakers=False`` skips telling who speaks and
    links faces by position alone (for measuring what that work costs). ``meaning`` says
    what a reading means, in plain words (:func:`capstone.model.released.reading_meaning`);
    the summary and the report carry it.
    """
    path = Path(path)
    request = request or CallRequest()
    check_input_file(path)
    out = Path(out_dir) / (name or path.stem)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        frames, native_fps = frame_count(path)
        fps = min(request.options.fps, native_fps) if native_fps > 0 else request.options.fps
        known = native_fps > 0 and frames > 0
        expected = math.ceil(frames / native_fps * fps) if known else None
        audio = read_audio(path) if speakers else None
        reader = _Reader(
            model,
            request,
            speakers,
            voiced=voice_activity(audio)[1] if audio is not None else None,
            numbering=FrameNumbering(request.options, by_look=speakers),
        )
        rows = _annotate_into(
            out, path, reader, fps, progress=progress, expected=expected, on_progress=on_progress
        )
        return _write_results(out, path, rows, reader, fps, meaning=meaning)
    except BaseException:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        raise


@dataclass(frozen=True)
class _Look:
    """What looking at sampled frame ``n`` (at ``t`` seconds) found: the faces, numbered,
    whether they were just detected, and who speaks."""

    n: int
    t: float
    frame: np.ndarray
    faces: list[NumberedFace]
    detected: bool
    speaking: list[tuple[bool | None, str]]


@dataclass
class _Reader:
    """What one pass over a recording reads each sampled frame with, and what it has seen:
    the participants numbered at the last detection, the last glance.

    A frame goes through two stages, which run on two threads so that the faces of one
    frame are read while the next is looked at: :meth:`look` (detect, number, who speaks)
    and :meth:`read` (classify, timeline rows).
    """

    model: Any
    request: CallRequest
    speakers: bool
    voiced: np.ndarray | None
    numbering: FrameNumbering
    seen: np.ndarray | None = None

    @property
    def call(self) -> CallInfo:
        return self.request.info

    def look(self, n: int, t: float, frame: np.ndarray) -> _Look:
        """Sampled frame ``n``'s faces, numbered: detected again every ``detect_every``-th
        frame or when the picture changes at once, otherwise the last detection's boxes."""
        glance = cv2.cvtColor(cv2.resize(frame, (64, 36)), cv2.COLOR_BGR2GRAY).astype(float)
        cut = self.seen is not None and np.abs(glance - self.seen).mean() > SCENE_CUT
        self.seen = glance
        detected = n % self.request.options.detect_every == 0 or cut
        if detected:  # a new layout: look for the faces again now
            self.numbering.number(frame, new_layout=n == 0 or cut)
        faces = self.numbering.faces  # between detections the boxes, and ids, stay put
        speaking: list[tuple[bool | None, str]] = [(None, "")] * len(faces)
        if self.speakers:
            heard = voiced_at(np.array([t]), self.voiced)[0] if self.voiced is not None else None
            speaking = attribute([f.box for f in faces], highlighted_tile(frame), heard)
        return _Look(n, t, frame, faces, detected, speaking)

    def read(self, look: _Look) -> tuple[list[list[Any]], list[FaceReading]]:
        """The timeline rows of a frame looked at, and its faces read."""
        ids = [f.participant for f in look.faces]
        faces = classify_faces(
            look.frame,
            self.model,
            # a face just found is cut out by its landmarks; between detections by its box
            boxes=[f.detection if look.detected else f.box for f in look.faces],
            read=[self.call.reads(pid, self.request.use) for pid in ids],
            **self.request.options.classifying(),
        )
        faces = [
            face.on_call(pid, self.call.role(pid), self.call.name(pid))
            for pid, face in zip(ids, faces, strict=True)
        ]
        rows = [
            _row(look.t, face, self.call, speech)
            for face, speech in zip(faces, look.speaking, strict=True)
        ]
        return rows, faces


def _annotate_into(
    out: Path,
    path: Path,
    reader: _Reader,
    fps: float,
    *,
    progress: bool,
    expected: int | None,
    on_progress: Callable[[float], None] | None = None,
) -> list[list[Any]]:
    """Read every sampled frame of ``path`` into timeline rows, and write ``annotated.mp4``
    (``expected``: how many sampled frames the progress bar counts to, if known; ``on_progress``
    hears the share done after each frame, where that is known)."""
    video_tmp, writer, rows = out / ".annotated.part.mp4", None, []
    try:
        bar = tqdm(total=expected, desc=f"annotate {path.name}", unit="frame", disable=not progress)
        frames = enumerate(prefetched(sample_frames(path, fps)))
        for look in prefetched(reader.look(n, t, frame) for n, (t, frame) in frames):
            new_rows, faces = reader.read(look)
            rows += new_rows
            writer = writer or h264_writer(video_tmp, look.frame.shape, fps)
            writer.send(even(draw(look.frame, faces)))
            bar.update()
            if on_progress is not None and expected:
                on_progress(min(1.0, (look.n + 1) / expected))
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
    out: Path, path: Path, rows: list[list[Any]], reader: _Reader, fps: float, *, meaning: str
) -> CallResult:
    """The timeline, the summary, the figures and the report of a recording read."""
    timeline = timeline_frame(rows)
    write_timeline(timeline, out / "timeline.csv")
    result = summarise(
        path.name,
        timeline,
        reader.call,
        fps=fps,
        use=reader.request.use,
        audio_track=reader.voiced is not None,
        meaning=meaning,
    )
    result.folder = out
    moments = figures(out, path, timeline, reader.call, summary=result)
    write_json(out / "summary.json", result.to_json())
    write_text(out / "summary.md", summary_markdown(result))
    write_report(out, result, moments)
    return result


def _row(t: float, face: FaceReading, call: CallInfo, speech: tuple[bool | None, str]) -> list[Any]:
    """A timeline row (:data:`capstone.calls.timeline.COLUMNS`) of one face at ``t`` seconds."""
    speaking, source = speech
    return [
        round(t, 3),
        face.participant,
        *face.box,
        face.status,
        face.label,
        face.probability,
        call.stage_at(t),
        speaking,
        source,
        *[face.probs.get(c, np.nan) for c in CLASSES],
    ]
