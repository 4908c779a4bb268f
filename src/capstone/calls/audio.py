"""When someone in a recording is speaking, from its audio track.

:func:`read_audio` decodes a recording's audio with the ffmpeg that ``imageio-ffmpeg``
ships (mono, 16 kHz, whatever the track's channels and rate), or returns ``None`` for a
recording without one. :func:`voice_activity` is Silero VAD
(https://github.com/snakers4/silero-vad, MIT licence): a small network trained on speech in
many languages and noises, run in ONNX Runtime. Its model ships in this package
(``silero_vad.onnx``, 1.2 MB, the silero-vad wheel's sequence export, licence beside it), so
nothing is downloaded, and torch is not needed. It was chosen over the project's former
spectral-energy detector and WebRTC's by ``benchmarks/voice_activity.py`` (the book's *Who is
speaking*). Gaps shorter than ``hangover_s`` between speech frames are filled, as the pauses
between a speaker's words.
"""

from __future__ import annotations

import functools
import itertools
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from capstone.calls.video_io import ffmpeg_exe

RATE = 16_000
FRAME = 512  # samples in one of Silero's frames (32 ms at 16 kHz)
FRAME_S = FRAME / RATE
CONTEXT = 64  # samples of the frame before, which Silero sees with each frame
BLOCK = 512  # frames in one call of the model (16 s): few calls, little memory
SILERO_MODEL = Path(__file__).with_name("silero_vad.onnx")


def read_audio(path: str | Path, rate: int = RATE) -> np.ndarray | None:
    """The recording's audio as mono float32 samples in [-1, 1] at ``rate`` Hz, or
    ``None`` if it has no audio track (or ffmpeg cannot read one)."""
    command = [
        ffmpeg_exe(),
        "-v",
        "error",
        "-i",
        str(path),
        "-vn",
        "-ac",
        "1",
        "-ar",
        str(rate),
        "-f",
        "s16le",
        "-",
    ]
    done = subprocess.run(command, capture_output=True, check=False)
    if done.returncode != 0 or not done.stdout:
        return None
    return np.frombuffer(done.stdout, dtype="<i2").astype(np.float32) / 32768.0


def voice_activity(
    audio: np.ndarray, *, threshold: float = 0.5, hangover_s: float = 0.3
) -> tuple[np.ndarray, np.ndarray]:
    """Frame start times (seconds) and whether each 32 ms frame is speech.

    Parameters
    ----------
    audio : ndarray
        Mono samples in [-1, 1] at :data:`RATE` (16 kHz), as :func:`read_audio` gives them.
    threshold : float
        A frame is speech where Silero VAD's probability is at least this (its own default).
    hangover_s : float
        Non-speech gaps at most this long between speech frames count as speech (the pauses
        between a speaker's words).
    """
    audio = np.asarray(audio, dtype=np.float32).ravel()
    count = len(audio) // FRAME
    if count == 0:
        return np.zeros(0), np.zeros(0, bool)
    session = _silero()
    state = np.zeros((1, 1, 128), np.float32), np.zeros((1, 1, 128), np.float32)
    before = np.zeros(CONTEXT, np.float32)
    speech = np.empty(count)
    for i in range(0, count, BLOCK):  # a block at a time: memory stays flat in the length
        frames = audio[i * FRAME : min(count, i + BLOCK) * FRAME].reshape(-1, FRAME)
        contexts = np.vstack([before[None], frames[:-1, -CONTEXT:]])
        probs, *state = session.run(
            ["speech_probs", "hn", "cn"],
            {"input": np.hstack([contexts, frames]), "h": state[0], "c": state[1]},
        )
        speech[i : i + len(frames)] = probs.reshape(-1)
        before = frames[-1, -CONTEXT:]
    voiced = fill_gaps(speech >= threshold, round(hangover_s / FRAME_S))
    return np.arange(count) * FRAME_S, voiced


@functools.cache
def _silero() -> Any:
    """Silero VAD's model in ONNX Runtime, loaded once a process, on one thread (a worker
    runs beside others)."""
    from capstone.onnx_session import onnx_session

    return onnx_session(SILERO_MODEL, threads=1)


def fill_gaps(voiced: np.ndarray, longest: int) -> np.ndarray:
    """``voiced`` with runs of at most ``longest`` False frames between True ones set."""
    out = voiced.copy()
    on = np.flatnonzero(voiced)
    for a, b in itertools.pairwise(on):
        if 1 < b - a <= longest + 1:
            out[a:b] = True
    return out


def voiced_at(times: np.ndarray, voiced: np.ndarray, frame_s: float = FRAME_S) -> list[bool | None]:
    """For each of ``times`` (sampled video frames, seconds), whether the audio frame there
    is voiced, or ``None`` past the end of the track."""
    index = np.floor(np.asarray(times, dtype=float) / frame_s + 1e-9).astype(int)
    return [bool(voiced[i]) if 0 <= i < len(voiced) else None for i in index]
