from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from capstone.calls.audio import RATE, read_audio, voice_activity, voiced_at
from capstone.synthetic.speech import speech


@pytest.mark.parametrize("seed", range(4))
def test_speech_is_found_where_the_script_has_it(seed: int) -> None:
    spans = [(1.0, 3.0), (4.5, 6.0), (7.2, 10.5)]
    times, voiced = voice_activity(speech(12, spans, seed=seed))
    truth = np.array([any(a <= t < b for a, b in spans) for t in times])
    edge = np.array([min(abs(t - x) for span in spans for x in span) for t in times])
    assert np.mean(voiced == truth) > 0.95
    assert (voiced == truth)[edge > 0.25].all()  # a sentence may pause just at a turn's end
    assert voiced_at([0.5, 2.0, 5.0, 13.0], voiced) == [False, True, True, None]


def test_silence_noise_and_an_empty_track_are_never_speech() -> None:
    assert not voice_activity(speech(3, []))[1].any()
    assert not voice_activity(np.zeros(5 * RATE, np.float32))[1].any()
    assert voice_activity(np.zeros(0))[1].size == 0


def test_a_voice_like_tone_is_not_taken_for_speech() -> None:
    t = np.arange(4 * RATE) / RATE
    tone = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 12))
    hum = 0.15 * tone * (0.55 + 0.45 * np.sin(2 * np.pi * 4 * t))
    assert voice_activity(hum.astype(np.float32))[1].mean() < 0.2


def test_a_long_track_is_read_a_block_at_a_time_as_one() -> None:
    spans = [(k * 7 + 1.0, k * 7 + 5.0) for k in range(4)]
    audio = speech(28, spans, seed=1)
    whole = voice_activity(audio)[1]
    assert len(whole) == len(audio) // 512
    assert np.array_equal(voice_activity(audio[: 512 * 600])[1], whole[:600])


@pytest.mark.parametrize(("channels", "rate"), [(1, 16000), (2, 44100), (1, 11025)])
def test_audio_is_read_from_a_recording_as_mono_at_16_khz(
    tmp_path: Path, channels: int, rate: int
) -> None:
    import wave

    audio = speech(3, [(0.5, 2.2)], rate)
    path = tmp_path / "talk.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
        wav.writeframes(np.repeat(pcm, channels).tobytes())
    samples = read_audio(path)
    assert samples is not None and abs(len(samples) - 3 * RATE) < 200
    _times, voiced = voice_activity(samples)
    assert voiced_at([0.2, 1.2, 2.7], voiced) == [False, True, False]


def test_a_recording_without_audio_has_no_track(tmp_path: Path) -> None:
    import cv2

    path = tmp_path / "silent.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 5, (64, 48))
    for _ in range(5):
        writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    assert read_audio(path) is None
    assert read_audio(tmp_path / "missing.mp4") is None
