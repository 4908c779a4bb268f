"""Property-based tests: odd bytes, truncated files, wrong names. Load, or fail with our error.

Every loader that reads user files gets random bytes, truncated copies of valid files,
wrong extensions and unicode or spaces in paths. Each case must either load or raise the
project's own error type (a subclass of CapstoneError, with the file named), in bounded time.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capstone import params
from capstone.annotation import load_image
from capstone.data.sources import fetch
from capstone.errors import CapstoneError
from capstone.params import DatasetSource, SampleSpec
from capstone.video import sample_frames

CASES = settings(
    max_examples=40, deadline=5000, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
NAMES = st.sampled_from(["face", "fäce ünïcode", "with space", "日本"])


def valid_png() -> bytes:
    _, png = cv2.imencode(
        ".png", np.random.default_rng(0).integers(0, 255, (40, 30, 3), dtype=np.uint8)
    )
    return png.tobytes()


def valid_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("train/happy/Training_1.png", valid_png())
        zf.writestr("test/sad/PrivateTest_1.png", valid_png())
    return buf.getvalue()


PNG, ZIP = valid_png(), valid_zip()


def truncated(data: bytes) -> st.SearchStrategy[bytes]:
    return st.integers(0, len(data) - 1).map(lambda n: data[:n])


def write(folder: Path, name: str, suffix: str, data: bytes) -> Path:
    path = folder / f"{name}{suffix}"
    path.write_bytes(data)
    return path


@CASES
@given(
    data=st.one_of(st.binary(max_size=2000), truncated(PNG)),
    name=NAMES,
    suffix=st.sampled_from([".png", ".jpg", ".webp", ".txt", ""]),
)
def test_image_loader(data: bytes, name: str, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), name, suffix, data)
        try:
            image = load_image(path)
        except CapstoneError as err:
            assert path.name in str(err)
        else:
            assert image.ndim == 3


def test_image_declaring_huge_dimensions_is_refused_before_decoding(tmp_path: Path) -> None:
    # a valid PNG header that claims 100,000 x 100,000 pixels (a decompression bomb)
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")
    path = write(tmp_path, "bomb", ".png", bomb)
    with pytest.raises(CapstoneError, match=r"larger than|cannot decode"):
        load_image(path)


@CASES
@given(data=st.binary(max_size=4000), name=NAMES, suffix=st.sampled_from([".mp4", ".webm", ".mov"]))
def test_video_reader(data: bytes, name: str, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), name, suffix, data)
        try:
            frames = list(sample_frames(path, fps=2))
        except CapstoneError as err:
            assert path.name in str(err)
        else:
            assert all(f.ndim == 3 for _, f in frames)


@CASES
@given(data=st.one_of(st.binary(max_size=2000), truncated(ZIP)), name=NAMES)
def test_archive_loader(data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        archive = write(Path(tmp), name, ".zip", data)
        spec = DatasetSource(source="local", path=archive.name)
        try:
            manifest = fetch(
                "fer2013",
                spec,
                Path(tmp) / "raw",
                root=Path(tmp),
                sample_dir=Path(tmp) / "sample",
                sample_spec=SampleSpec(),
                seed=0,
            )
        except CapstoneError as err:
            assert archive.name in str(err) or "fer2013" in str(err)
        else:
            assert manifest["file_count"] >= 0


YAML_VALUES = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


@CASES
@given(
    edit=st.tuples(
        st.sampled_from(["seed", "download", "baseline", "demo", "eda", "nonsense"]), YAML_VALUES
    ),
    raw=st.one_of(st.none(), st.text(max_size=200)),
)
def test_params_loader(edit, raw) -> None:
    import yaml

    repo = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.yaml"
        if raw is not None:
            path.write_text(raw, encoding="utf-8")
        else:
            data = yaml.safe_load((repo / "params/sample.yaml").read_text())
            data[edit[0]] = edit[1]
            path.write_text(yaml.safe_dump(data), encoding="utf-8")
        try:
            params.load(path, tmp)
        except CapstoneError as err:
            assert "p.yaml" in str(err)
