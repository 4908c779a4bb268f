"""Property-based tests over every boundary: load, or fail with our error, and lose nothing.

Every loader that reads user files gets random bytes, truncated copies of valid files,
wrong extensions and unicode or spaces in paths; the CLI's options, call metadata, params,
face boxes, model files and output names get random values. Each case must either give a
valid result or raise the boundary's own error type (a subclass of CapstoneError, with the
file named) or a usage error, never another exception, in bounded time.

The number of cases is set by the hypothesis profile (``tests/conftest.py``): ``ci`` by
default, ``thorough`` (ten times as many) with ``HYPOTHESIS_PROFILE=thorough``. The cases
each boundary ran are counted and printed at the end of the test session.
"""

from __future__ import annotations

import functools
import io
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capstone import params
from capstone.calls.video_io import sample_frames
from capstone.data.sources import fetch
from capstone.errors import CapstoneError
from capstone.media import load_image
from capstone.params import DatasetSource, SampleSpec

RAN: Counter[str] = Counter()  # cases run per boundary, printed by tests/conftest.py


def cases(share: float = 1.0, deadline: int | None = 5000) -> settings:
    """Settings of a property test: ``share`` of the hypothesis profile's examples."""
    return settings(
        max_examples=max(1, round(settings.default.max_examples * share)),
        deadline=deadline,
        suppress_health_check=[HealthCheck.too_slow],
        derandomize=True,
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


@cases()
@given(
    data=st.one_of(st.binary(max_size=2000), truncated(PNG)),
    name=NAMES,
    suffix=st.sampled_from([".png", ".jpg", ".webp", ".txt", ""]),
)
def test_image_loader(data: bytes, name: str, suffix: str) -> None:
    RAN["images"] += 1
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


@cases()
@given(data=st.binary(max_size=4000), name=NAMES, suffix=st.sampled_from([".mp4", ".webm", ".mov"]))
def test_video_reader(data: bytes, name: str, suffix: str) -> None:
    RAN["videos"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), name, suffix, data)
        try:
            frames = list(sample_frames(path, fps=2))
        except CapstoneError as err:
            assert path.name in str(err)
        else:
            assert all(f.ndim == 3 for _, f in frames)


@cases()
@given(data=st.one_of(st.binary(max_size=2000), truncated(ZIP)), name=NAMES)
def test_archive_loader(data: bytes, name: str) -> None:
    RAN["archives"] += 1
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


@cases()
@given(
    edit=st.tuples(
        st.sampled_from(["seed", "download", "baseline", "demo", "eda", "nonsense"]), YAML_VALUES
    ),
    raw=st.one_of(st.none(), st.text(max_size=200)),
)
def test_params_loader(edit, raw) -> None:
    RAN["params"] += 1
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


OPTION_TEXT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**6), 10**6).map(str),
    st.text(max_size=6),
)


@cases(3)
@given(
    option=st.sampled_from(["--fps", "--detect-every", "--min-face", "--uncertain-below"]),
    value=OPTION_TEXT,
)
def test_cli_options(option: str, value: str) -> None:
    import contextlib

    from capstone.cli import _parser

    RAN["CLI options"] += 1
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            args = _parser().parse_args(["annotate", "x.png", "--out", "o", option, value])
        except SystemExit as stop:  # a usage error, printed by argparse
            assert stop.code == 2
            assert option in err.getvalue()
            return
    parsed = vars(args)[option.lstrip("-").replace("-", "_")]
    assert np.isfinite(parsed)
    assert {"--fps": 0 < parsed <= 120, "--uncertain-below": 0 <= parsed <= 1}.get(
        option, parsed >= 1
    )


CALL_YAML = st.one_of(
    YAML_VALUES,
    st.fixed_dictionaries(
        {},
        optional={
            "rep": YAML_VALUES,
            "staff": st.one_of(YAML_VALUES, st.lists(YAML_VALUES, max_size=3)),
            "informed": YAML_VALUES,
            "prospects": YAML_VALUES,
            "stages": st.one_of(
                YAML_VALUES,
                st.dictionaries(
                    st.text(max_size=5), st.one_of(st.floats(), st.integers(), st.text(max_size=3))
                ),
            ),
        },
    ),
)


@cases(3)
@given(data=CALL_YAML, raw=st.one_of(st.none(), st.text(max_size=80)))
def test_call_metadata(data, raw) -> None:
    import math

    import yaml

    from capstone.calls.metadata import CallInfo, load_call_info

    RAN["call metadata"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "call.yaml"
        path.write_text(raw if raw is not None else yaml.safe_dump(data), encoding="utf-8")
        try:
            info = load_call_info(path)
        except CapstoneError as err:
            assert "call.yaml" in str(err)
        else:
            assert isinstance(info, CallInfo)
            assert info.informed in (None, True, False)
            assert not set(info.prospects) & {*info.staff, info.rep}  # staff are never read
            times = list(info.stages.values())
            assert all(math.isfinite(t) and t >= 0 for t in times) and times == sorted(times)


@cases(3)
@given(
    box=st.tuples(*[st.floats(-300, 300) | st.integers(-300, 300) | st.just(float("nan"))] * 4),
    shape=st.sampled_from([(60, 80), (60, 80, 3), (60, 80, 4), (1, 1), (60, 80, 1)]),
    depth=st.sampled_from([np.uint8, np.uint16, np.float32]),
    margin=st.floats(-0.5, 2.0),
)
def test_face_crops(box, shape, depth, margin) -> None:
    from capstone.faces.crop import crop_face

    RAN["face crops"] += 1
    image = np.full(shape, 7, depth)
    try:
        crop = crop_face(image, box, margin=margin)
    except CapstoneError as err:
        assert str(err)
    else:
        assert crop.shape == (48, 48) and crop.dtype == np.uint8


@cases(3)
@given(
    files=st.lists(
        st.tuples(
            st.sampled_from(["", "a", "b", "a/b", "日本", "with space"]),
            st.sampled_from(["call", "call.v2", "good", "x", "Call", ".hidden"]),
            st.sampled_from([".png", ".jpg", ".mp4", ".PNG", ".webm"]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_output_names(files) -> None:
    from capstone.calls.image import output_names

    RAN["output names"] += 1
    paths = list(
        dict.fromkeys(Path("/calls", folder, stem + suffix) for folder, stem, suffix in files)
    )
    names = output_names(paths)
    assert len(names) == len(paths) == len(set(names))
    assert all(name and "/" not in name and name not in (".", "..") for name in names)


@functools.cache
def valid_model() -> bytes:
    """A small model file that meets the contract, made once."""
    import keras

    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Dense(7, activation="softmax")(keras.layers.GlobalAveragePooling2D()(inputs))
    with tempfile.TemporaryDirectory() as tmp:
        keras.Model(inputs, x).save(Path(tmp) / "m.keras")
        return (Path(tmp) / "m.keras").read_bytes()


@cases(deadline=None)  # the first case builds the valid model file
@given(data=st.data())
def test_model_files(data) -> None:
    from capstone.model.released import load_model

    RAN["model files"] += 1
    model = valid_model()
    content = data.draw(st.one_of(st.binary(max_size=3000), truncated(model)))
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), data.draw(NAMES), ".keras", content)
        try:
            load_model(path)
        except CapstoneError as err:
            assert path.name in str(err)
