"""Annotating recordings: sampling, tracking, timelines, H.264 output, call metadata, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from matplotlib import cbook

from capstone.calls.metadata import CallInfo, CallInfoError
from capstone.calls.request import CallOutputs, CallRequest, ReadingOptions
from capstone.calls.result import SCHEMA_VERSION, CallResult
from capstone.calls.timeline import PROB_COLUMNS, read_timeline
from capstone.calls.video import annotate_video
from capstone.calls.video_io import sample_frames
from capstone.media import MediaError, load_image
from capstone.synthetic.layouts import gallery_frame


class ShiftingModel:
    """Stands in for a Keras model: 'neutral' for the first two seconds' calls, then 'happy'."""

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, x: np.ndarray, batch_size: int = 32, verbose: int = 0) -> np.ndarray:
        self.calls += 1
        probs = np.full((len(x), 7), 0.02)
        probs[:, 4 if self.calls <= 4 else 3] = 0.88
        return probs


def write_video(path: Path, frames: list[np.ndarray], fps: int = 10) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="module")
def call_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    frame = gallery_frame([hopper, cv2.flip(hopper, 1)], cols=2, tile=(320, 240))
    return write_video(tmp_path_factory.mktemp("video") / "call.mp4", [frame] * 40)  # 4 s


def test_a_recording_gives_participants_timelines_and_a_browser_video(
    call_video: Path, tmp_path: Path
) -> None:
    call = CallInfo(rep="P1", prospects={"P2": "Dana"}, stages={"intro": 0.0, "pricing": 2.0})
    summary = annotate_video(
        call_video,
        ShiftingModel(),
        tmp_path,
        request=CallRequest(call, options=ReadingOptions(fps=2, detect_every=2)),
        progress=False,
    )
    out = tmp_path / "call"
    named = CallOutputs.of_recording("call").to_json()
    made = {str(p.relative_to(tmp_path)) for p in out.iterdir()}
    assert made == {v for k, v in named.items() if k not in ("kind", "name")}  # every file named
    timeline = pd.read_csv(out / "timeline.csv")
    assert sorted(timeline["participant"].unique()) == ["P1", "P2"]
    assert len(timeline) == 2 * 8  # two faces, 2 samples per second for 4 seconds
    assert set(timeline["stage"]) == {"intro", "pricing"}
    assert summary.participants["P1"].role == "rep"
    assert (summary.participants["P2"].role, summary.participants["P2"].name) == (
        "prospect",
        "Dana",
    )
    assert summary.participants["P2"].per_stage["pricing"] == {"happy": 1.0}
    assert {m.now for m in summary.moments} == {"happy"}
    written = json.loads((out / "summary.json").read_text())
    assert written == summary.to_json() and written["schema_version"] == SCHEMA_VERSION
    assert CallResult.from_json(written) == summary  # read back, field for field
    pd.testing.assert_frame_equal(read_timeline(out / "timeline.csv"), summary.timeline)
    assert "P2** (prospect (Dana))" in (out / "summary.md").read_text()
    for name in ("timeline.png", "moments.png", "participants.png"):
        assert (out / name).stat().st_size > 0
    head = (out / "annotated.mp4").read_bytes()[:4096]
    assert b"ftyp" in head and b"avc1" in (out / "annotated.mp4").read_bytes()  # H.264
    _, first = next(sample_frames(out / "annotated.mp4", fps=2))
    _, source = next(sample_frames(call_video, fps=2))
    kept, swapped = (np.abs(first.astype(int) - s).mean() for s in (source, source[..., ::-1]))
    assert kept < swapped / 2  # the colours in their order, the boxes drawn on them aside
    assert not list(out.glob(".*part*"))
    # no audio track and no tile outlined: who speaks is unknown, and said so
    assert timeline["speaking"].isna().all() and summary.audio_track is False
    assert summary.talk.known_share == 0.0
    # the rep is tracked but their expressions are never read (the default use)
    rep = timeline[timeline["participant"] == "P1"]
    assert set(rep["status"]) == {"not_read"} and rep[PROB_COLUMNS].isna().all().all()
    p1 = summary.participants["P1"]
    assert (p1.role, p1.expressions_read, p1.samples) == ("rep", False, 8)
    assert (p1.classified, p1.shares, p1.per_stage) == (0, {}, {})
    assert summary.use.to_json() | {"note": ""} == {
        "mode": "customers",
        "informed": None,
        "read": ["P2"],
        "not_read": ["P1"],
        "note": "",
    }
    assert {m.participant for m in summary.moments} == {"P2"}
    assert "Add `informed: true`" in (out / "summary.md").read_text()


def test_staff_are_never_shown_to_the_model_and_self_review_reads_the_rep(
    call_video: Path, tmp_path: Path
) -> None:
    model = ShiftingModel()
    staff = CallInfo(rep="P1", staff=("P2",), informed=True)
    summary = annotate_video(
        call_video, model, tmp_path, request=CallRequest(staff), progress=False
    )
    assert model.calls == 0 and summary.use.read == []
    assert "Add `informed" not in (tmp_path / "call/summary.md").read_text()
    call = CallInfo(rep="P1", prospects={"P2": "Dana"})
    summary = annotate_video(
        call_video,
        ShiftingModel(),
        tmp_path,
        request=CallRequest(call, "self-review"),
        progress=False,
    )
    assert summary.use.read == ["P1", "P2"] and summary.participants["P1"].shares
    assert "for the rep (P1) alone" in (tmp_path / "call/summary.md").read_text()
    with pytest.raises(CallInfoError, match="work call"):
        CallRequest(call, "research")


def test_without_call_metadata_nobody_is_read_and_the_summary_says_how_to_name_them(
    call_video: Path, tmp_path: Path
) -> None:
    model = ShiftingModel()
    summary = annotate_video(call_video, model, tmp_path, progress=False)
    assert model.calls == 0 and summary.use.not_read == ["P1", "P2"]
    text = (tmp_path / "call/summary.md").read_text()
    assert "Not named in the call metadata, so not read: P1, P2" in text
    assert "`prospects: {P1: Dana}`" in text
    research = CallRequest(use="research")
    summary = annotate_video(call_video, model, tmp_path, request=research, progress=False)
    assert summary.use.read == ["P1", "P2"] and model.calls > 0


def test_frames_are_sampled_at_the_requested_rate(call_video: Path) -> None:
    times = [t for t, _ in sample_frames(call_video, fps=2)]
    assert times == pytest.approx([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5])


def test_sparse_ticks_show_their_frame_or_one_just_before(tmp_path: Path) -> None:
    import imageio_ffmpeg

    # 30 frames a second of H.264 with B-frames (x264's default), the frame number in the
    # brightness of the lower half, a texture sliding above so that frames predict each other
    texture = np.random.default_rng(0).integers(0, 256, (32, 256, 3), dtype=np.uint8)
    writer = imageio_ffmpeg.write_frames(
        str(tmp_path / "counting.mp4"),
        (64, 64),
        fps=30,
        codec="libx264",
        output_params=["-crf", "5"],
        ffmpeg_log_level="error",
    )
    writer.send(None)
    for i in range(60):
        frame = np.full((64, 64, 3), 4 * i, np.uint8)
        frame[:32] = texture[:, i : i + 64]
        writer.send(frame)
    writer.close()
    sampled = list(sample_frames(tmp_path / "counting.mp4", fps=2))
    assert [t for t, _ in sampled] == pytest.approx([0, 0.5, 1, 1.5])
    shown = [round(float(np.median(f[40:])) / 4) for _, f in sampled]
    late = [15 * n - i for n, i in enumerate(shown)]
    assert all(0 <= frames <= 3 for frames in late), late
    every = sample_frames(tmp_path / "counting.mp4", fps=30)
    assert [round(float(np.median(f[40:])) / 4) for _, f in every] == list(range(60))


def test_a_video_without_faces_gives_an_empty_but_valid_result(tmp_path: Path) -> None:
    video = write_video(tmp_path / "blank.mp4", [np.full((120, 160, 3), 90, np.uint8)] * 10)
    summary = annotate_video(video, ShiftingModel(), tmp_path / "out", progress=False)
    assert summary.participants == {}
    assert "No faces" in (tmp_path / "out/blank/summary.md").read_text()
    assert len(pd.read_csv(tmp_path / "out/blank/timeline.csv")) == 0


@pytest.mark.parametrize("content", [b"", b"\x00\x00\x00\x18ftypmp42 truncated", b"not a video"])
def test_empty_truncated_and_fake_videos_are_refused(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    with pytest.raises(MediaError, match=r"bad\.mp4"):
        annotate_video(bad, ShiftingModel(), tmp_path / "out", progress=False)
    assert not (tmp_path / "out/bad").exists()  # nor an empty folder, nor a .part file


def test_a_rate_above_the_videos_own_samples_each_frame_once(
    call_video: Path, tmp_path: Path
) -> None:
    import imageio_ffmpeg

    fast = CallRequest(options=ReadingOptions(fps=1e9))
    annotate_video(call_video, ShiftingModel(), tmp_path, request=fast, name="fast", progress=False)
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "fast/annotated.mp4"))
    assert frames == 40 and seconds == pytest.approx(4, abs=0.2)  # 10 frames/s, as recorded


# tile, start, end: the turns start and end between the samples (2 a second), as speech does
SCRIPT = [(0, 0.25, 5.25), (1, 6.25, 11.25), (2, 12.25, 16.25), (3, 16.25, 20.0)]


def scripted_truth(timeline: pd.DataFrame, truth: list, fps: int = 10) -> pd.Series:
    """Whether each row's face is the scripted speaker at its time (found by its box)."""
    from capstone.synthetic.calls import person_at

    rows = []
    for r in timeline.itertuples():
        person = person_at(truth, r.time, (r.x, r.y, r.w, r.h), fps)
        rows.append(any(p == person and a <= r.time < b for p, a, b in SCRIPT))
    return pd.Series(rows)


@pytest.mark.parametrize("audio", [True, False])
def test_who_speaks_follows_the_script(tmp_path: Path, audio: bool) -> None:
    from capstone.synthetic.calls import write_call
    from capstone.synthetic.layouts import HOPPER_FACE, variants

    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    video = tmp_path / "scripted.mp4"
    looks = variants(hopper, HOPPER_FACE)
    truth_frames = write_call(looks, video, SCRIPT, seconds=20, fps=10, audio=audio)
    summary = annotate_video(video, ShiftingModel(), tmp_path / "out", progress=False)
    timeline = pd.read_csv(tmp_path / "out/scripted/timeline.csv", keep_default_na=False)
    assert summary.audio_track is audio
    truth = scripted_truth(timeline, truth_frames)
    said = timeline["speaking"].astype(str).str.lower()  # pandas reads true as True
    right = (said == "true") == truth
    if audio:  # every sample decided, by the audio or the outline
        assert (said != "").all() and right.mean() >= 0.95
        assert set(timeline["speaking_source"]) == {"audio", "highlight"}
    else:  # without audio, the outline stays on through the silence at 5-6 s
        assert right.mean() >= 0.9
        spoken = timeline["time"] > SCRIPT[0][1]  # before anyone spoke, nothing tells
        assert set(timeline.loc[spoken, "speaking_source"]) == {"highlight"}
    talk = {p: v.talk_seconds for p, v in summary.participants.items()}
    scripted = truth.groupby(timeline["participant"]).sum() / 2  # seconds, at 2 samples/s
    # without audio, a silence counts for whoever spoke last (the outline stays on them)
    assert talk == pytest.approx(scripted.to_dict(), rel=0.05 if audio else 0.25)


def test_one_participant_with_a_stereo_44_khz_track_speaks_when_the_track_is_voiced(
    tmp_path: Path,
) -> None:
    import wave

    import imageio_ffmpeg

    from capstone.synthetic.speech import speech

    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    frame = np.ascontiguousarray(cv2.resize(hopper, (256, 320))[:, :, ::-1])
    pcm = (speech(4, [(1.0, 3.0)], 44_100) * 32767).astype("<i2")
    with wave.open(str(tmp_path / "voice.wav"), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(44_100)
        wav.writeframes(np.repeat(pcm, 2).tobytes())
    video = tmp_path / "alone.mp4"
    writer = imageio_ffmpeg.write_frames(
        str(video),
        (256, 320),
        fps=10,
        codec="libx264",
        audio_path=str(tmp_path / "voice.wav"),
        audio_codec="aac",
        macro_block_size=1,
        ffmpeg_log_level="error",
    )
    writer.send(None)
    for _ in range(40):
        writer.send(frame)
    writer.close()
    summary = annotate_video(video, ShiftingModel(), tmp_path / "out", progress=False)
    timeline = pd.read_csv(tmp_path / "out/alone/timeline.csv", keep_default_na=False)
    said = dict(zip(timeline["time"], timeline["speaking"].astype(str).str.lower(), strict=True))
    assert [said[t] for t in (0.0, 0.5, 1.5, 2.5, 3.5)] == [
        "false",
        "false",
        "true",
        "true",
        "false",
    ]
    assert set(timeline["speaking_source"]) == {"audio"}
    assert summary.participants["P1"].talk_seconds == pytest.approx(2.0, abs=0.5)


def test_thumbnails_are_read_again_from_the_right_frames(tmp_path: Path) -> None:
    from capstone.calls.figures import face_crops_at

    frames = [np.full((48, 64, 3), 2 * i, np.uint8) for i in range(100)]  # brightness = 2i
    video = write_video(tmp_path / "counting.mp4", frames, fps=10)
    times = [9.0, 0.0, 0.5, 0.5, 2.0, 8.9]  # out of order, repeated, near and far
    crops = face_crops_at(video, [(t, (8, 8, 16, 16)) for t in times], side=8)
    decoded = [float(np.median(frame)) for _, frame in sample_frames(video, fps=10)]
    assert [float(np.median(c)) for c in crops] == [decoded[round(t * 10)] for t in times]
    assert face_crops_at(video, [(99.0, (0, 0, 8, 8))]) == [None]  # past the end
