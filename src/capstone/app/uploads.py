"""Checking an upload before anything is kept: its size, its type read from its bytes (never
from its name), and that it decodes, within limits.

A picture's size is read from its header before it is decoded, so a decompression bomb (a
small file that opens into billions of pixels) is refused unread. A recording is probed by
FFmpeg in a subprocess with a timeout and a memory cap, so a hostile file can stall or exhaust
only that subprocess. Stored names are a number and the suffix of the type found
(:func:`stored_name`).
"""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from capstone.errors import CapstoneError
from capstone.formats import IMAGE_SUFFIXES, VIDEO_SUFFIXES, listed
from capstone.media import MAX_PIXELS

PROBE_TIMEOUT_S = 60.0
PROBE_MEMORY = 2 * 1024**3  # bytes of address space the probing FFmpeg may use
MAX_HOURS = 4.0  # the longest recording the app takes


class UploadError(CapstoneError):
    """An upload the app cannot take: empty, too large, not media, unreadable, or mixed."""


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the name the user gave it and its bytes."""

    name: str
    data: bytes


#: (offset, the bytes there, the suffix): the signatures of the media the app takes, the more
#: specific first.
SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", ".png"),
    (0, b"\xff\xd8\xff", ".jpg"),
    (8, b"WEBP", ".webp"),  # after RIFF and a length
    (8, b"AVI ", ".avi"),
    (4, b"ftypqt  ", ".mov"),
    (4, b"ftyp", ".mp4"),
    (0, b"\x1a\x45\xdf\xa3", ".mkv"),  # Matroska; WebM is Matroska with "webm" inside
    (0, b"BM", ".bmp"),
)


def sniff(data: bytes) -> str | None:
    """The suffix of the media type the bytes are (``.png``, ``.mp4``, ...), or ``None``."""
    head = data[:64]
    for offset, signature, suffix in SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            if offset == 8 and not head.startswith(b"RIFF"):
                continue
            return ".webm" if suffix == ".mkv" and b"webm" in head else suffix
    return None


def check_uploads(uploads: list[Upload], max_mb: int) -> str:
    """``recording`` or ``screenshots``; refuses, saying what to do, an empty upload, one over
    ``max_mb``, one that is not media (by its content), one that does not decode, and a
    recording mixed with other files."""
    if not uploads:
        raise UploadError("choose a recording or one or more screenshots to upload")
    suffixes = [_check_one(up, max_mb) for up in uploads]
    videos = [s in VIDEO_SUFFIXES for s in suffixes]
    if any(videos) and len(uploads) > 1:
        raise UploadError("upload one recording at a time, or screenshots only")
    return "recording" if any(videos) else "screenshots"


def _check_one(up: Upload, max_mb: int) -> str:
    if not up.data:
        raise UploadError(f"{up.name} is empty (0 bytes); upload the file again")
    if len(up.data) > max_mb * 1_000_000:
        raise UploadError(
            f"{up.name} is {len(up.data) / 1e6:.0f} MB, over the {max_mb} MB the app takes; "
            "cut the recording shorter or lower its resolution"
        )
    suffix = sniff(up.data)
    if suffix in IMAGE_SUFFIXES:
        _check_picture(up)
    elif suffix in VIDEO_SUFFIXES:
        _check_recording(up, suffix)
    else:
        raise UploadError(
            f"{up.name} is not a screenshot or a recording (read from its content, whatever "
            f"its name); the app takes pictures ({listed(IMAGE_SUFFIXES)}) and recordings "
            f"({listed(VIDEO_SUFFIXES)})"
        )
    return str(suffix)


def _check_picture(up: Upload) -> None:
    too_large = UploadError(
        f"{up.name} opens into more pixels than the app takes "
        f"({MAX_PIXELS // 1_000_000} megapixels); resize it"
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            width, height = Image.open(io.BytesIO(up.data)).size  # the header only
    except Image.DecompressionBombError as err:
        raise too_large from err
    except (OSError, ValueError) as err:
        raise UploadError(f"{up.name} is not a picture that can be read; export it again") from err
    if width * height > MAX_PIXELS:
        raise too_large
    if cv2.imdecode(np.frombuffer(up.data, np.uint8), cv2.IMREAD_COLOR) is None:
        raise UploadError(f"{up.name} is not a picture that can be read; export it again")


def _check_recording(up: Upload, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(up.data)
        probe = probe_recording(path)
    if probe.frames < 1:
        raise UploadError(
            f"{up.name} is not a recording that can be read (or it is cut short); "
            "export it again from the call app"
        )
    if probe.width * probe.height > MAX_PIXELS:
        raise UploadError(f"{up.name} is {probe.width} x {probe.height}: too large a picture")
    if probe.seconds > MAX_HOURS * 3600:
        raise UploadError(f"{up.name} is longer than {MAX_HOURS:.0f} hours; cut it shorter")


@dataclass(frozen=True)
class Probe:
    """What FFmpeg found in a recording's header and its first seconds."""

    width: int
    height: int
    seconds: float
    frames: int  # decoded from its first seconds


def probe_recording(path: Path, timeout_s: float = PROBE_TIMEOUT_S) -> Probe:
    """Decode the first seconds of a recording in an FFmpeg subprocess with a timeout and a
    memory cap; a recording that stalls it is an :class:`UploadError`."""
    from imageio_ffmpeg import get_ffmpeg_exe

    # the shell caps the address space, then becomes FFmpeg (safe in a threaded server,
    # unlike a preexec_fn)
    limit = f'ulimit -v {PROBE_MEMORY // 1024} && exec "$0" "$@"'
    command = ["/bin/sh", "-c", limit, get_ffmpeg_exe(), "-nostdin", "-hide_banner"]
    command += ["-threads", "1", "-i", str(path), "-map", "0:v:0", "-t", "5", "-f", "null", "-"]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as err:
        raise UploadError(
            f"{path.name}: reading it took over {timeout_s:.0f} s; export it again"
        ) from err
    said = done.stderr.decode(errors="replace")
    size = re.search(r"Video: .*?(\d{2,5})x(\d{2,5})", said)
    length = re.search(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", said)
    frames = re.findall(r"frame=\s*(\d+)", said)
    return Probe(
        width=int(size[1]) if size else 0,
        height=int(size[2]) if size else 0,
        seconds=int(length[1]) * 3600 + int(length[2]) * 60 + float(length[3]) if length else 0,
        frames=int(frames[-1]) if frames and done.returncode == 0 else 0,
    )


def stored_name(up: Upload, index: int) -> str:
    """The name a file is kept under: a number and the suffix of its content's type, never
    anything of the user's name (no path can reach outside the call's folder)."""
    return f"{index + 1:02d}{sniff(up.data) or '.bin'}"
