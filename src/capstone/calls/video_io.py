"""Reading and writing recordings: frames sampled a few times a second (decoded ahead on a
thread of its own), the frame count a file declares, and an H.264 writer that browsers play."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from capstone.media import MediaError, check_input_file


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


def frame_count(path: str | Path) -> tuple[int, float]:
    """The number of frames and frames per second a video declares (0 if unknown)."""
    capture = cv2.VideoCapture(str(path))
    try:
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), float(capture.get(cv2.CAP_PROP_FPS))
    finally:
        capture.release()


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
        output_params=["-preset", "veryfast", "-movflags", "+faststart"],  # a third of the CPU
    )
    writer.send(None)
    return writer
