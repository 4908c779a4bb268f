"""Who speaks when, from the audio: the app's voice-activity detector (Silero VAD) against the
project's former spectral one and WebRTC's.

    python benchmarks/voice_activity.py        # needs espeak-ng (apt-get install espeak-ng)

Candidates, each filling gaps of up to 0.3 s between voiced frames as the app does:

* ``silero``: :func:`capstone.calls.audio.voice_activity`, the app's: Silero VAD's model,
  shipped in the package, in ONNX Runtime; speech where its probability is at least 0.5;
* ``spectral``: the app's detector until December 2026, kept here (:func:`spectral`):
  energy in 300-3400 Hz 12 dB above the track's noise floor;
* ``webrtcvad``: WebRTC's detector (``pip install webrtcvad-wheels``), at its four
  aggressiveness modes.

The speech is espeak-ng's (three voices, sentences of a sales call, others than the composed
calls' own), in turns with pauses of 0.4-2 s; the truth is each turn from its first to its
last sound. Each track is scored clean and under three kinds of noise a call has: an office
hum at 10 dB SNR, pink noise at 10 dB and at 0 dB, and keyboard clicks. Also the composed
calls' track (:func:`capstone.synthetic.speech.speech`, the demo library's), and a
voice-like tone (harmonics of 140 Hz in syllables, the composed calls' track until December
2026), which is not speech: there the truth is silence throughout. Scores are per 30 ms
frame: accuracy, and the two ways to be wrong (speech missed, silence called speech), with
the seconds each detector takes per minute of audio. Kept in
``benchmarks/results/voice_activity.json``, with a summary per detector (accuracy on speech:
the mean and the worst of the five conditions; on the composed track; on the tone; the most
seconds a minute of audio took), which the book's table is.
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Callable

import numpy as np

from capstone.calls.audio import RATE, fill_gaps, voice_activity
from capstone.provenance import save_benchmark
from capstone.synthetic.speech import speech, spoken

FRAME_S = 0.03  # the scoring frame
HANGOVER = round(0.3 / FRAME_S)
LINES = (
    "Thanks for making the time today, I know the quarter is busy.",
    "Could you walk me through how your team handles routing now?",
    "We looked at three vendors last year and none of them fit.",
    "The price is higher than we planned for, to be honest.",
    "If the pilot works, I can take it to our board in March.",
    "That makes sense. Let me show you the dashboard first.",
    "How many drivers would use it on a normal day?",
    "I'm not sure the integration is as simple as you say.",
)
VOICES = ("en-us", "en-us+f3", "en-gb+m3")


def conversation(turns: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A track of ``turns`` spoken turns with pauses, and the truth per frame."""
    rng = np.random.default_rng(seed)
    pieces, spans, t = [], [], 1.0
    pieces.append(np.zeros(int(RATE * t), np.float32))
    for k in range(turns):
        line = spoken(LINES[k % len(LINES)], VOICES[k % len(VOICES)])
        spans.append((t, t + len(line) / RATE))
        pause = float(rng.uniform(0.4, 2.0))
        pieces += [0.6 * line, np.zeros(int(RATE * pause), np.float32)]
        t += len(line) / RATE + pause
    return np.concatenate(pieces), truth_of(spans, t)


def truth_of(spans: list[tuple[float, float]], seconds: float) -> np.ndarray:
    starts = np.arange(int(seconds / FRAME_S)) * FRAME_S + FRAME_S / 2
    return np.array([any(a <= s < b for a, b in spans) for s in starts])


def noisy(clean: np.ndarray, kind: str, seed: int = 1) -> np.ndarray:
    """``clean`` with a call's noise: ``hum`` (50 Hz mains and harmonics, 10 dB SNR), ``pink``
    (10 dB), ``loud pink`` (0 dB) or ``keys`` (keyboard clicks)."""
    rng = np.random.default_rng(seed)
    t = np.arange(len(clean)) / RATE
    if kind == "hum":
        noise = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in range(1, 8))
    elif kind.endswith("pink"):
        spectrum = np.fft.rfft(rng.standard_normal(len(clean)))
        spectrum /= np.sqrt(np.maximum(np.fft.rfftfreq(len(clean), 1 / RATE), 1.0))
        noise = np.fft.irfft(spectrum, len(clean))
    else:  # keys: short decaying clicks, two to eight a second
        noise = np.zeros(len(clean))
        for at in np.cumsum(rng.uniform(0.12, 0.5, int(len(clean) / RATE * 5))):
            i = int(at * RATE)
            if i + 400 < len(noise):
                noise[i : i + 400] += rng.standard_normal(400) * np.exp(-np.arange(400) / 60)
    snr = {"hum": 10.0, "pink": 10.0, "loud pink": 0.0, "keys": 10.0}[kind]
    speech = clean[np.abs(clean) > 0.01]
    scale = np.sqrt(np.mean(speech**2) / np.mean(noise**2) / 10 ** (snr / 10))
    return np.clip(clean + scale * noise, -1, 1).astype(np.float32)


def spectral(audio: np.ndarray, margin_db: float = 12.0, floor_db: float = -60.0) -> np.ndarray:
    """The former detector: a frame is voiced when its energy in 300-3400 Hz stands
    ``margin_db`` above the track's noise floor (its quietest tenth) and above ``floor_db``."""
    n = round(FRAME_S * RATE)
    frames = audio[: len(audio) // n * n].reshape(-1, n)
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(n), axis=1)) ** 2
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    power = spectrum[:, (freqs >= 300) & (freqs <= 3400)].sum(axis=1)
    energy = 10 * np.log10(power / (n * n) + 1e-12)
    voiced = (energy > np.percentile(energy, 10) + margin_db) & (energy > floor_db)
    return fill_gaps(voiced, HANGOVER)


def silero(audio: np.ndarray) -> np.ndarray:
    """The app's detector, its 32 ms frames read at the scoring frames' middles."""
    times, voiced = voice_activity(audio)
    frames = np.arange(len(audio) // round(FRAME_S * RATE)) * FRAME_S + FRAME_S / 2
    at = np.minimum(np.searchsorted(times, frames, side="right") - 1, len(voiced) - 1)
    return voiced[np.maximum(at, 0)]


def webrtc(mode: int) -> Callable[[np.ndarray], np.ndarray]:
    import webrtcvad

    def detect(audio: np.ndarray) -> np.ndarray:
        vad, n = webrtcvad.Vad(mode), round(FRAME_S * RATE)
        pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
        voiced = [
            vad.is_speech(pcm[i : i + n].tobytes(), RATE) for i in range(0, len(pcm) - n + 1, n)
        ]
        return fill_gaps(np.array(voiced, bool), HANGOVER)

    return detect


def tone(seconds: float, spans: list[tuple[float, float]]) -> np.ndarray:
    """Harmonics of 140 Hz in syllables four times a second inside ``spans``: voice-like, not
    speech (the composed calls' track until December 2026)."""
    t = np.arange(int(seconds * RATE)) / RATE
    voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 12))
    inside = np.zeros(len(t), bool)
    for a, b in spans:
        inside |= (t >= a) & (t < b)
    audio = 0.002 * np.random.default_rng(0).standard_normal(len(t))
    audio += 0.15 * inside * voice * (0.55 + 0.45 * np.sin(2 * np.pi * 4 * t))
    return audio.astype(np.float32)


def score(voiced: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    n = min(len(voiced), len(truth))
    v, t = voiced[:n], truth[:n]
    return {
        "accuracy": float((v == t).mean()),
        "speech missed": float((~v & t).sum() / max(1, t.sum())),
        "silence called speech": float((v & ~t).sum() / max(1, (~t).sum())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=24)
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is not installed: apt-get install espeak-ng")
    detectors: dict[str, Callable[[np.ndarray], np.ndarray]] = {"silero": silero}
    detectors["spectral"] = spectral
    detectors |= {f"webrtcvad mode {m}": webrtc(m) for m in range(4)}
    clean, truth = conversation(args.turns)
    tracks = {"speech, clean": clean}
    tracks |= {
        f"speech, {kind}": noisy(clean, kind) for kind in ("hum", "pink", "loud pink", "keys")
    }
    truths = dict.fromkeys(tracks, truth)
    spans = [(a, b) for a, b in zip(np.arange(1, 60, 6.0), np.arange(4, 63, 6.0), strict=True)]
    tracks["composed calls' track"] = speech(62.0, spans)
    truths["composed calls' track"] = truth_of(spans, 62.0)
    tracks["voice-like tone"] = tone(62.0, spans)
    truths["voice-like tone"] = truth_of([], 62.0)
    rows = []
    for detector, detect in detectors.items():
        for track, audio in tracks.items():
            start = time.perf_counter()
            voiced = detect(audio)
            per_minute = (time.perf_counter() - start) / (len(audio) / RATE / 60)
            row = {"detector": detector, "track": track, **score(voiced, truths[track])}
            rows.append(row | {"seconds per minute of audio": per_minute})
            print(
                f"{detector:18s} {track:24s} accuracy {row['accuracy']:.3f}  missed "
                f"{row['speech missed']:.3f}  false {row['silence called speech']:.3f}  "
                f"{per_minute:.3f} s/min",
                flush=True,
            )
    summary = {}
    for detector in detectors:
        mine = [r for r in rows if r["detector"] == detector]
        on_speech = [r["accuracy"] for r in mine if r["track"].startswith("speech")]
        composed = next(r["accuracy"] for r in mine if r["track"] == "composed calls' track")
        hum = next(r["accuracy"] for r in mine if r["track"] == "voice-like tone")
        cost = max(r["seconds per minute of audio"] for r in mine)
        summary[detector] = (
            f"{np.mean(on_speech):.1%} | {min(on_speech):.1%} | {composed:.1%} | {hum:.1%} | {cost:.2f} s"
        )
    record = {"seconds of speech": len(clean) / RATE, "summary": summary, "rows": rows}
    path = save_benchmark("voice_activity", record)
    print(f"kept in {path}")


if __name__ == "__main__":
    main()
