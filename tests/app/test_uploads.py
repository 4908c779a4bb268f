"""Hostile uploads: the type read from the content, names never used, sizes capped, bombs and
stalling recordings refused."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from capstone.app import uploads
from capstone.app.uploads import Upload, UploadError, check_uploads, sniff, stored_name


def _png(width: int = 64, height: int = 48) -> bytes:
    ok, encoded = cv2.imencode(".png", np.full((height, width, 3), 128, np.uint8))
    assert ok
    return encoded.tobytes()


def _bomb(side: int) -> bytes:
    """A PNG header of side x side pixels before a small stream of zeros: a file of a few
    kilobytes that a decoder would open into side**2 pixels."""
    body = zlib.compress(b"\x00" * 1_000_000, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def test_the_type_is_read_from_the_content_not_the_name() -> None:
    picture = _png()
    assert check_uploads([Upload("call.mp4", picture)], 500) == "screenshots"
    assert stored_name(Upload("call.mp4", picture), 0) == "01.png"
    with pytest.raises(UploadError, match="read from its content"):
        check_uploads([Upload("shot.png", b"#!/bin/sh\nrm -rf /\n")], 500)
    with pytest.raises(UploadError, match="read from its content"):
        check_uploads([Upload("shot.png", b"<html><script>alert(1)</script></html>")], 500)


def test_a_decompression_bomb_is_refused_before_it_is_decoded() -> None:
    for side in (7_000, 60_000):  # above the app's cap; above Pillow's own bomb limit
        bomb = _bomb(side)
        assert len(bomb) < 10_000
        with pytest.raises(UploadError, match="more pixels than the app takes"):
            check_uploads([Upload("tiny.png", bomb)], 500)


def test_a_cut_recording_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "call.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for _ in range(20):
        writer.write(np.full((48, 64, 3), 90, np.uint8))
    writer.release()
    whole = path.read_bytes()
    assert check_uploads([Upload("call.mp4", whole)], 500) == "recording"
    with pytest.raises(UploadError, match="cut short"):
        check_uploads([Upload("call.mp4", whole[: len(whole) // 3])], 500)


def test_a_recording_that_stalls_the_decoder_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = tmp_path / "ffmpeg"
    slow.write_text("#!/bin/sh\nsleep 30\n")
    slow.chmod(0o755)
    monkeypatch.setattr("imageio_ffmpeg.get_ffmpeg_exe", lambda: str(slow))
    with pytest.raises(UploadError, match="took over 1 s"):
        uploads.probe_recording(tmp_path / "x.mp4", timeout_s=1)


def test_a_recording_mixed_with_other_files_and_an_oversized_upload_are_refused() -> None:
    with pytest.raises(UploadError, match="choose a recording"):
        check_uploads([], 500)
    with pytest.raises(UploadError, match="over the 1 MB the app takes"):
        check_uploads([Upload("big.png", b"x" * 2_000_000)], 1)
    with pytest.raises(UploadError, match="is empty"):
        check_uploads([Upload("empty.png", b"")], 1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(max_size=120), data=st.binary(max_size=3000), cap=st.integers(0, 2))
def test_any_name_and_any_bytes_are_refused_or_kept_under_a_number(
    name: str, data: bytes, cap: int
) -> None:
    """Whatever the name (``../../etc/passwd``, NUL, any script) and the bytes: either a clear
    refusal, or a stored name that is a number and a media suffix."""
    up = Upload(name, data)
    try:
        kind = check_uploads([up], cap)
    except UploadError as err:
        assert str(err)
    else:
        assert kind in ("recording", "screenshots")
    stored = stored_name(up, 3)
    assert stored[:2] == "04" and "/" not in stored and "\\" not in stored and ".." not in stored
    assert Path("/calls/7", stored).parent == Path("/calls/7")


@given(st.sampled_from([".png", ".jpg", ".webp", ".bmp"]), st.text(max_size=40))
@settings(max_examples=20, deadline=None)
def test_real_pictures_are_kept_whatever_they_are_called(suffix: str, name: str) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "grey").save(buffer, format=Image.registered_extensions()[suffix])
    data = buffer.getvalue()
    assert sniff(data) == suffix
    assert check_uploads([Upload(name, data)], 1) == "screenshots"
