"""When someone in a recording is speaking, from its audio track.

:func:`read_audio` decodes a recording's audio with the ffmpeg that ``imageio-ffmpeg``
ships (mono, 16 kHz, whatever the track's channels and rate), or returns ``None`` for a
recording without one. :func:`voice_activity` is a spectral-energy voice-activity detector:
a 30 ms frame is voiced when its energy in the speech band (300-3400 Hz) stands
``margin_db`` above the track's noise floor (its quietest tenth) and above an absolute
floor; gaps shorter than ``hangover_s`` between voiced frames are filled, as speech
pauses between syllables. Nothing is downloaded: no model, no weights.
"""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import numpy as np

RATE = 16_000
FRAME_S = 0.03
BAND_HZ = (300.0, 3400.0)
CHUNK = 4096  # frames analysed at once (about 2 minutes of audio)


def read_audio(path: str | Path, rate: int = RATE) -> np.ndarray | None:
    """The recording's audio as mono float32 samples in [-1, 1] at ``rate`` Hz, or
    ``None`` if it has no audio track (or ffmpeg cannot read one)."""
    import imageio_ffmpeg

    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
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
    audio: np.ndarray,
    *,
    rate: int = RATE,
    frame_s: float = FRAME_S,
    margin_db: float = 12.0,
    floor_db: float = -60.0,
    hangover_s: float = 0.3,
) -> tuple[np.ndarray, np.ndarray]:
    """Frame start times (seconds) and whether each frame is voiced.

    Parameters
    ----------
    audio : ndarray
        Mono samples in [-1, 1].
    rate : int
        Samples per second.
    frame_s : float
        Frame length in seconds (frames do not overlap).
    margin_db : float
        How far above the noise floor (the 10th percentile of the band energy) a voiced
        frame's energy is.
    floor_db : float
        Energy (dB of full scale) below which a frame is never voiced, however quiet the
        rest of the track.
    hangover_s : float
        Unvoiced gaps at most this long between voiced frames count as voiced.
    """
    audio = np.asarray(audio, dtype=np.float32).ravel()
    n = round(frame_s * rate)
    count = len(audio) // n
    if count == 0:
        return np.zeros(0), np.zeros(0, bool)
    frames = audio[: count * n].reshape(count, n)
    window = np.hanning(n).astype(np.float32)
    freqs = np.fft.rfftfreq(n, 1 / rate)
    band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
    power = np.empty(count)
    for i in range(0, count, CHUNK):  # a chunk at a time: memory stays flat in the length
        spectrum = np.abs(np.fft.rfft(frames[i : i + CHUNK] * window, axis=1)) ** 2
        power[i : i + CHUNK] = spectrum[:, band].sum(axis=1)
    energy = 10 * np.log10(power / (n * n) + 1e-12)
    noise = np.percentile(energy, 10)
    voiced = (energy > noise + margin_db) & (energy > floor_db)
    voiced = _fill_gaps(voiced, round(hangover_s / frame_s))
    return np.arange(count) * frame_s, voiced


def _fill_gaps(voiced: np.ndarray, longest: int) -> np.ndarray:
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
