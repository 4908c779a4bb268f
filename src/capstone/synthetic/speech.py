"""Speech for the composed calls: sentences of a sales call, spoken.

The app finds who speaks with a voice-activity model trained on people's speech
(:mod:`capstone.calls.audio`), so a composed call needs speech, not a tone. The project ships
twelve sentences spoken by espeak-ng in three of its voices, 1 s of silence between them, as
``speech.opus`` (Opus, 16 kHz mono, about 60 KB): synthetic speech, nobody's voice.

- :func:`speech` lays that speech into a track: continuous talk inside given spans (sentence
  after sentence, 0.15 s apart), a quiet noise floor elsewhere. Decoding the file needs only
  the ffmpeg that ``imageio-ffmpeg`` ships.
- :func:`spoken` and :func:`write_speech` make the file again
  (``python -m capstone.synthetic.speech``; needs ``apt-get install espeak-ng``).
"""

from __future__ import annotations

import functools
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from capstone.calls.audio import RATE, read_audio

SPEECH_FILE = Path(__file__).with_name("speech.opus")
VOICES = ("en-us", "en-us+f3", "en-gb+m3")
SENTENCES = (
    "Good morning, thanks for joining us on short notice.",
    "Our team spends most of Monday rebuilding the same reports.",
    "What would it take to have this running before the summer?",
    "We tried a tool like this two years ago and it was dropped.",
    "Let me share my screen and walk you through a real example.",
    "The onboarding takes about two weeks with one of our engineers.",
    "Honestly, the security review is what worries me the most.",
    "Can you send the pricing for fifty seats and for a hundred?",
    "I like that it works with the calendar we already have.",
    "Our finance lead will want to see the contract terms first.",
    "So the next step would be a pilot with your support team.",
    "That sounds good, let's put a date in for next Thursday.",
)
GAP_S = 0.15  # between sentences within a turn: shorter than a pause between turns


def spoken(text: str, voice: str) -> np.ndarray:
    """espeak-ng saying ``text`` in ``voice`` (one of its voice names), at :data:`RATE`, with
    the silence before and after its sound cut.

    Raises
    ------
    FileNotFoundError
        If espeak-ng is not installed (``apt-get install espeak-ng``).
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "line.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "165", "-w", str(path), text], check=True)
        with wave.open(str(path)) as w:
            pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
            rate = w.getframerate()
    samples = np.interp(np.arange(0, len(pcm), rate / RATE), np.arange(len(pcm)), pcm)
    loud = np.flatnonzero(np.abs(samples) > 0.01)
    return samples[loud[0] : loud[-1] + 1].astype(np.float32)


def write_speech(path: Path = SPEECH_FILE) -> Path:
    """Speak :data:`SENTENCES` (voices in turn), 1 s of silence after each, into ``path`` as
    Opus."""
    import imageio_ffmpeg

    silence = np.zeros(RATE, np.float32)
    lines = [spoken(s, VOICES[k % len(VOICES)]) for k, s in enumerate(SENTENCES)]
    track = np.concatenate([piece for line in lines for piece in (0.7 * line, silence)])
    pcm = (np.clip(track, -1, 1) * 32767).astype("<i2")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        with wave.open(str(wav), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(pcm.tobytes())
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(wav)]
        command += ["-c:a", "libopus", "-b:a", "20k", "-map_metadata", "-1", str(path)]
        subprocess.run(command, check=True)
    return path


@functools.cache
def sentences() -> tuple[np.ndarray, ...]:
    """The shipped sentences, each as float32 samples at :data:`RATE` (split at the silences
    between them)."""
    track = read_audio(SPEECH_FILE)
    if track is None:
        raise FileNotFoundError(f"{SPEECH_FILE} could not be read: reinstall the package")
    frame = RATE // 100  # 10 ms
    rms = np.sqrt(np.mean(track[: len(track) // frame * frame].reshape(-1, frame) ** 2, axis=1))
    loud = np.flatnonzero(rms > 0.003)
    breaks = np.flatnonzero(np.diff(loud) > 50)  # half a second of quiet ends a sentence
    starts = np.r_[loud[0], loud[breaks + 1]] * frame
    ends = (np.r_[loud[breaks], loud[-1]] + 1) * frame
    return tuple(track[a:b] for a, b in zip(starts, ends, strict=True))


def speech(
    seconds: float, spans: list[tuple[float, float]], rate: int = RATE, seed: int = 0
) -> np.ndarray:
    """A mono track of ``seconds``: inside each of ``spans`` (start, end in seconds), talk that
    starts with a sentence's first sound and ends at the span's end; a quiet noise floor
    elsewhere. Float32 samples in [-1, 1] at ``rate`` Hz (resampled from 16 kHz)."""
    rng = np.random.default_rng(seed)
    lines = sentences()
    gap = np.zeros(round(GAP_S * RATE), np.float32)
    audio = 0.002 * rng.standard_normal(int(seconds * RATE)).astype(np.float32)
    for a, b in spans:
        first, last = int(a * RATE), min(int(b * RATE), len(audio))
        if last <= first:
            continue
        k, talk, length = int(rng.integers(len(lines))), [], 0
        while length < last - first:
            talk.append(lines[k % len(lines)])
            length += len(talk[-1])
            k += 1
            if last - first - length > len(gap) + RATE // 4:  # no pause just before the end
                talk.append(gap)
                length += len(gap)
        piece = np.concatenate(talk)[: last - first].copy()
        piece[-160:] *= np.linspace(1, 0, len(piece[-160:]), dtype=np.float32)  # no click
        audio[first:last] += piece
    if rate != RATE:
        audio = np.interp(np.arange(0, len(audio), RATE / rate), np.arange(len(audio)), audio)
    return np.clip(audio, -1, 1).astype(np.float32)


if __name__ == "__main__":
    write_speech()
