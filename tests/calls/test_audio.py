from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from capstone.calls.audio import RATE, read_audio, voice_activity, voiced_at
from capstone.synthetic.calls import speech_like


def test_voiced_frames_follow_the_script() -> None:
    spans = [(1.0, 3.0), (4.5, 6.0)]
    times, voiced = voice_activity(speech_like(7, spans))
    truth = np.array([any(a <= t < b for a, b in spans) for t in times])
    assert np.mean(voiced == truth) > 0.97
    assert voiced_at([0.5, 2.0, 5.0, 9.0], voiced) == [False, True, True, None]


def test_silence_and_an_empty_track_are_never_voiced() -> None:
    assert not voice_activity(speech_like(3, []))[1].any()
    assert voice_activity(np.zeros(0))[1].size == 0


@pytest.mark.parametrize(("channels", "rate"), [(1, 16000), (2, 44100), (1, 11025)])
def test_audio_is_read_from_a_recording_as_mono_at_16_khz(
    tmp_path: Path, channels: int, rate: int
) -> None:
    import wave

    audio = speech_like(2, [(0.5, 1.5)], rate)
    path = tmp_path / "talk.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
        wav.writeframes(np.repeat(pcm, channels).tobytes())
    samples = read_audio(path)
    assert samples is not None and abs(len(samples) - 2 * RATE) < 200
    _times, voiced = voice_activity(samples)
    assert voiced_at([0.2, 1.0, 1.8], voiced) == [False, True, False]


def test_a_recording_without_audio_has_no_track(tmp_path: Path) -> None:
    import cv2

    path = tmp_path / "silent.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 5, (64, 48))
    for _ in range(5):
        writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    assert read_audio(path) is None
    assert read_audio(tmp_path / "missing.mp4") is None
