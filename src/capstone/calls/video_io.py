"""Reading and writing recordings: frames sampled a few times a second (decoded by FFmpeg in a
process of its own, and read ahead on a thread), the frame count a file declares, and an H.264
writer that browsers play."""

from __future__ import annotations

import contextlib
import queue
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from capstone.media import MediaError, check_input_file

X264_FAST = ["-preset", "veryfast", "-x264-params", "me=dia:subme=1"]
SKIP_BELOW = 4  # sampling at most 1/4 of the frame rate, frames nothing refers to are skipped


def sample_frames(path: str | Path, fps: float) -> Iterator[tuple[float, np.ndarray]]:
    """Yield ``(time in seconds, BGR frame)`` ``fps`` times per second of video: the frame
    shown at each tick ``0, 1/fps, 2/fps, ...`` (above the video's own frame rate, every
    frame once).

    FFmpeg decodes in a process of its own and hands over only the sampled frames (its
    ``fps`` filter), so that decoding runs beside the reading of faces. Sampling at most a
    quarter of the video's frame rate, it skips the frames no other frame is decoded from
    (``-skip_frame noref``: H.264's B-frames, where the encoder wrote them), so a tick may
    show the frame one or two before it (under 0.1 s at 30 frames per second).
    """
    path = Path(path)
    check_input_file(path)
    native, width, height = _stream(path)
    fps = min(fps, native)
    skip = ["-skip_frame", "noref"] if fps * SKIP_BELOW <= native else []
    command = [ffmpeg_exe(), "-v", "error", "-nostdin", "-threads", "2", *skip, "-i", str(path)]
    # rounding up, a tick takes the frame shown at it (not the one nearest to it)
    command += ["-map", "0:v:0", "-vf", f"fps={fps!r}:round=up,scale={width}:{height}"]
    command += ["-pix_fmt", "bgr24", "-f", "rawvideo", "-"]
    size, n = width * height * 3, 0
    with (
        tempfile.TemporaryFile() as log,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log) as ffmpeg,
    ):
        try:
            while (frame := _read_frame(ffmpeg.stdout, size)) is not None:
                yield n / fps, np.frombuffer(frame, np.uint8).reshape(height, width, 3)
                n += 1
        finally:
            if ffmpeg.poll() is None:  # stopped early: FFmpeg need not decode the rest
                ffmpeg.kill()
        if n == 0 and ffmpeg.wait() != 0:
            log.seek(0)
            said = log.read().decode(errors="replace").strip().splitlines()
            reason = said[-1] if said else "FFmpeg could not decode it"
            raise MediaError(f"{path}: cannot decode the video ({reason})")


def _stream(path: Path) -> tuple[float, int, int]:
    """The frame rate and the (upright) width and height of a video's picture."""
    _, native, width, height = _declared(path)
    if not native or native <= 0 or width <= 0 or height <= 0:
        raise MediaError(f"{path}: cannot open as a video (truncated, empty or not a video)")
    return native, width, height


def _declared(path: str | Path) -> tuple[int, float, int, int]:
    """What a video's container declares: frames, frames per second, width and height (0 where
    it cannot be opened or does not say)."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            return 0, 0.0, 0, 0
        props = (cv2.CAP_PROP_FRAME_COUNT, cv2.CAP_PROP_FPS)
        frames, fps = (capture.get(prop) for prop in props)
        width, height = (
            capture.get(prop) for prop in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT)
        )
        return int(frames), float(fps), int(width), int(height)
    finally:
        capture.release()


def _read_frame(pipe: Any, size: int) -> bytearray | None:
    """The next ``size`` bytes from ``pipe``, or None at its end (a part-frame is dropped)."""
    frame = bytearray(size)
    view, got = memoryview(frame), 0
    while got < size:
        more = pipe.readinto(view[got:])
        if not more:
            return None
        got += more
    return frame


def ffmpeg_exe() -> str:
    """The FFmpeg program that ``imageio-ffmpeg`` ships."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


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


def frame_count(path: str | Path) -> tuple[int, float]:
    """The number of frames and frames per second a video declares (0 if unknown)."""
    frames, fps, _, _ = _declared(path)
    return frames, fps


def even(frame: np.ndarray) -> np.ndarray:
    """The frame cut to an even width and height (what H.264's 4:2:0 colour needs)."""
    h, w = frame.shape[:2]
    return np.ascontiguousarray(frame[: h - h % 2, : w - w % 2])


def h264_writer(path: Path, shape: tuple[int, ...], fps: float) -> Any:
    """A started generator that writes the BGR frames sent to it as H.264 to ``path``."""
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
        # veryfast, with its motion search cut to the simplest (diamond, one refinement): less
        # CPU time for slightly larger files at the same quality (benchmarks/encoding.py)
        output_params=[*X264_FAST, "-movflags", "+faststart"],
    )
    writer.send(None)
    return writer
