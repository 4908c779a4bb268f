"""Who speaks when, from the audio: the app's spectral voice-activity detector against two
maintained ones that ship their model in their package.

    python benchmarks/voice_activity.py        # needs espeak-ng (apt-get install espeak-ng)

Candidates, each filling gaps of up to 0.3 s between voiced frames as the app does:

* ``spectral``: :func:`capstone.calls.audio.voice_activity` (energy in 300-3400 Hz above the
  track's noise floor), the app's today;
* ``webrtcvad``: WebRTC's detector (``pip install webrtcvad-wheels``), at its four
  aggressiveness modes;
* ``silero``: Silero VAD's ONNX model as its package ships it (``pip install silero-vad
  --no-deps onnxruntime``; no torch), speech where its probability is at least 0.5.

The speech is espeak-ng's (three voices, sentences of a sales call), in turns with pauses of
0.4-2 s; the truth is each turn from its first to its last sound. Each track is scored clean
and under three kinds of noise a call has: an office hum at 10 dB SNR, pink noise at 10 dB and
at 0 dB, and keyboard clicks. Also the composed calls' voice-like track (the demo library's).
Scores are per 30 ms frame: accuracy, and the two ways to be wrong (speech missed, silence
called speech), with the seconds each detector takes per minute of audio. Kept in
``benchmarks/results/voice_activity.json``, with a summary per detector (accuracy on speech:
the mean and the worst of the five conditions; on the composed track; the most seconds a
minute of audio took), which the book's table is.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

from capstone.calls.audio import FRAME_S, RATE, _fill_gaps, voice_activity
from capstone.provenance import save_benchmark
from capstone.synthetic.calls import speech_like

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


def spoken(text: str, voice: str, folder: Path) -> np.ndarray:
    """espeak-ng saying ``text`` in ``voice``, at :data:`RATE`, leading and trailing silence
    cut (so that the turn's span is its sound)."""
    path = folder / "line.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "165", "-w", str(path), text], check=True)
    with wave.open(str(path)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
        rate = w.getframerate()
    samples = np.interp(np.arange(0, len(pcm), rate / RATE), np.arange(len(pcm)), pcm)
    loud = np.flatnonzero(np.abs(samples) > 0.01)
    return samples[loud[0] : loud[-1] + 1].astype(np.float32)


def conversation(folder: Path, turns: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A track of ``turns`` spoken turns with pauses, and the truth per frame."""
    rng = np.random.default_rng(seed)
    pieces, spans, t = [], [], 1.0
    pieces.append(np.zeros(int(RATE * t), np.float32))
    for k in range(turns):
        line = spoken(LINES[k % len(LINES)], VOICES[k % len(VOICES)], folder)
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


def spectral(audio: np.ndarray) -> np.ndarray:
    return voice_activity(audio)[1]


def webrtc(mode: int) -> Callable[[np.ndarray], np.ndarray]:
    import webrtcvad

    def detect(audio: np.ndarray) -> np.ndarray:
        vad, n = webrtcvad.Vad(mode), round(FRAME_S * RATE)
        pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
        voiced = [
            vad.is_speech(pcm[i : i + n].tobytes(), RATE) for i in range(0, len(pcm) - n + 1, n)
        ]
        return _fill_gaps(np.array(voiced, bool), HANGOVER)

    return detect


def silero(threshold: float = 0.5) -> Callable[[np.ndarray], np.ndarray]:
    import onnxruntime

    spec = importlib.util.find_spec("silero_vad")  # its model file, without importing torch
    if spec is None or spec.origin is None:
        raise ImportError("silero-vad is not installed")
    model = Path(spec.origin).parent / "data" / "silero_vad.onnx"
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])

    def detect(audio: np.ndarray) -> np.ndarray:
        window, context = 512, 64  # 32 ms at 16 kHz, with the 64 samples before it
        state = np.zeros((2, 1, 128), np.float32)
        before = np.zeros(context, np.float32)
        probs = []
        for i in range(0, len(audio) - window + 1, window):
            chunk = audio[i : i + window].astype(np.float32)
            x = np.concatenate([before, chunk])[None, :]
            out, state = session.run(None, {"input": x, "state": state, "sr": np.array(RATE)})
            probs.append(float(out[0, 0]))
            before = chunk[-context:]
        ends = (np.arange(len(probs)) + 1) * window / RATE
        frames = np.arange(len(audio) // round(FRAME_S * RATE)) * FRAME_S + FRAME_S / 2
        at = np.minimum(np.searchsorted(ends, frames), len(probs) - 1)
        return _fill_gaps(np.array(probs)[at] >= threshold, HANGOVER)

    return detect


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
    detectors: dict[str, Callable[[np.ndarray], np.ndarray]] = {"spectral": spectral}
    detectors |= {f"webrtcvad mode {m}": webrtc(m) for m in range(4)}
    detectors["silero"] = silero()
    with tempfile.TemporaryDirectory() as tmp:
        clean, truth = conversation(Path(tmp), args.turns)
    tracks = {"speech, clean": clean}
    tracks |= {
        f"speech, {kind}": noisy(clean, kind) for kind in ("hum", "pink", "loud pink", "keys")
    }
    spans = [(a, b) for a, b in zip(np.arange(1, 60, 6.0), np.arange(4, 63, 6.0), strict=True)]
    composed = speech_like(62.0, spans)  # the demo library's voice-like track
    truths = dict.fromkeys(tracks, truth) | {"composed calls' track": truth_of(spans, 62.0)}
    tracks["composed calls' track"] = composed
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
        speech = [r["accuracy"] for r in mine if r["track"].startswith("speech")]
        composed = next(r["accuracy"] for r in mine if r["track"] == "composed calls' track")
        cost = max(r["seconds per minute of audio"] for r in mine)
        summary[detector] = (
            f"{np.mean(speech):.1%} | {min(speech):.1%} | {composed:.1%} | {cost:.2f} s"
        )
    record = {"seconds of speech": len(clean) / RATE, "summary": summary, "rows": rows}
    path = save_benchmark("voice_activity", record)
    print(f"kept in {path}")


if __name__ == "__main__":
    main()
