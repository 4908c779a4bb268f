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

import contextlib
import math
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from capstone.artefacts import write_json, write_text
from capstone.calls.audio import read_audio, voice_activity, voiced_at
from capstone.calls.figures import figures
from capstone.calls.image import draw
from capstone.calls.metadata import DEFAULT_USE, CallInfo, check_use
from capstone.calls.report import write_report
from capstone.calls.result import CallResult
from capstone.calls.speakers import attribute, highlighted_tile
from capstone.calls.summary import summary_markdown
from capstone.calls.timeline import summarise, timeline_frame, write_timeline
from capstone.calls.tracking import Tracker
from capstone.faces.detect import DETECT_PAD, detect
from capstone.labels import CLASSES
from capstone.media import MediaError, check_input_file
from capstone.reading.classify import classify_faces
from capstone.reading.result import FaceReading

SCENE_CUT = 12.0  # mean change of a 64x36 grayscale glance (0-255) that means a new layout


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
    that fills the picture (:func:`capstone.faces.detect.detect`). Otherwise the faces already
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
    on_progress: Callable[[float], None] | None = None,
    name: str | None = None,
    speakers: bool = True,
    use: str = DEFAULT_USE,
    meaning: str = "",
    **options: Any,
) -> CallResult:
    """Annotate one recording; returns its :class:`~capstone.calls.result.CallResult` (also
    written as ``summary.json`` and ``summary.md``).

    ``call`` names the participants and ``use`` decides whose expressions are read
    (:mod:`capstone.calls.metadata`; by default only the named prospects'): the others are
    tracked and their speaking measured, but they are never classified.

    ``options`` go to :func:`capstone.reading.classify.classify_faces` (``detector``,
    ``min_face``, ``uncertain_below``, ``crop``). The outputs go to ``out_dir/<name>``
    (default: the video's stem). ``fps`` above the video's own frame rate samples every
    frame once. If the recording cannot be read, nothing is left behind. ``speakers=False``
    skips telling who speaks and links faces by position alone (for measuring what that
    work costs). ``meaning`` says what a reading means, in plain words
    (:func:`capstone.model.released.reading_meaning`); the summary and the report carry it.
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
        rows = _annotate_into(
            out, path, reader, fps, progress=progress, expected=expected, on_progress=on_progress
        )
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

    def read(
        self, n: int, t: float, frame: np.ndarray
    ) -> tuple[list[list[Any]], list[FaceReading]]:
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
        speaking: list[tuple[bool | None, str]] = [(None, "")] * len(faces)
        if self.speakers:
            heard = voiced_at(np.array([t]), self.voiced)[0] if self.voiced is not None else None
            speaking = attribute(self.known_boxes, highlighted_tile(frame), heard)
        faces = [
            face.on_call(pid, self.call.role(pid), self.call.name(pid))
            for pid, face in zip(self.ids, faces, strict=True)
        ]
        rows = [
            _row(t, face, self.call, speech) for face, speech in zip(faces, speaking, strict=True)
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
        for n, (t, frame) in enumerate(prefetched(sample_frames(path, fps))):
            new_rows, faces = reader.read(n, t, frame)
            rows += new_rows
            writer = writer or _h264_writer(video_tmp, frame.shape, fps)
            writer.send(_even(draw(frame, faces)))
            bar.update()
            if on_progress is not None and expected:
                on_progress(min(1.0, (n + 1) / expected))
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
        use=reader.use,
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
