"""Composed call recordings: a scripted call of people from :mod:`capstone.synthetic.layouts`
taking turns to speak (a highlighted tile and speech), with its metadata. The
embedded default's demo call, and the tests' and benchmarks' recordings.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from capstone.calls.metadata import CallInfo
from capstone.faces.boxes import Box
from capstone.synthetic.layouts import FRAME, gallery, speaker
from capstone.synthetic.speech import speech


def write_recording(
    photo: np.ndarray, face: Box, path: Path, seconds: int = 40, *, fps: int = 10, n: int = 2
) -> Path:
    """A gallery-view "recording" of the portrait: each tile zooms slowly in (up to 8%)
    and back out, every 10 s.

    Every face is the same photograph throughout, so a good reader should give a flat
    timeline: any swing in it is the model's noise, not a change of expression.
    """
    h, w = photo.shape[:2]
    fourcc = cv2.VideoWriter_fourcc(*"mp4v")  # type: ignore[attr-defined]  # not in cv2's stub
    writer = cv2.VideoWriter(str(path), fourcc, fps, FRAME)
    try:
        for k in range(seconds * fps):
            zoom = 1 + 0.04 * (1 - np.cos(2 * np.pi * k / (fps * 10)))  # from 1: a crop
            cw, ch = round(w / zoom), round(h / zoom)
            x0, y0 = (w - cw) // 2, (h - ch) // 2
            moved = cv2.resize(photo[y0 : y0 + ch, x0 : x0 + cw], (w, h))
            fx, fy, fw, fh = face
            box = (
                round((fx - x0) * zoom),
                round((fy - y0) * zoom),
                round(fw * zoom),
                round(fh * zoom),
            )
            writer.write(gallery(moved, box, n)[0])
    finally:
        writer.release()
    return path


def scripted_call(seconds: float, seed: int = 0) -> tuple[list, list]:
    """A script for :func:`write_call`: turns of 4-9 s with short pauses among four
    participants, and scenes in which the tiles reorder at a quarter of the call, speaker
    view runs from half, and participant 3 leaves at three quarters and comes back."""
    rng = np.random.default_rng(seed)
    turns, t, who = [], 0.0, 0
    while t < seconds - 2:
        length = float(rng.uniform(4, 9))
        turns.append((who, t, min(t + length, seconds)))
        t += length + float(rng.uniform(0.4, 1.5))
        who = (who + int(rng.integers(1, 4))) % 4
    q = seconds / 4
    scenes = [
        (0.0, "gallery", [0, 1, 2, 3]),
        (q, "gallery", [2, 0, 3, 1]),
        (2 * q, "speaker", [0, 1, 2, 3]),
        (3 * q, "gallery", [1, 0, 2]),
        (3.5 * q, "gallery", [3, 1, 0, 2]),
    ]
    return turns, scenes


def write_call(
    looks: list[tuple[np.ndarray, Box]],
    path: Path,
    script: list[tuple[int, float, float]],
    seconds: int = 20,
    *,
    fps: int = 10,
    audio: bool = True,
    scenes: list[tuple[float, str, list[int]]] | None = None,
    changes: list[tuple[float, int, tuple[np.ndarray, Box]]] | None = None,
) -> list[tuple[list[Box], list[int]]]:
    """A call recording of the participants ``looks`` (each a picture and its face box, e.g.
    :func:`people`) in which participant ``p`` speaks from ``start`` to ``end`` for each
    ``(p, start, end)`` of ``script``, with its true boxes and speakers.

    ``scenes`` lists ``(start, layout, order)``: from ``start`` seconds on, a 2x2
    ``gallery`` of the participants in ``order`` (tile by tile), or ``speaker`` view with
    the current speaker in the main tile and the rest of ``order`` in the strip (default: a
    2x2 gallery of participants 0-3 throughout). In gallery view the speaker's tile is
    outlined as the app outlines it (the outline stays on the last speaker through
    silences, as in Zoom). With ``audio``, an AAC track holds speech
    (:func:`capstone.synthetic.speech.speech`) while anyone speaks. ``changes`` lists ``(start, p, look)``: from ``start`` seconds on,
    participant ``p`` looks like ``look`` (a picture and its face box; a smile, say).
    Returns, for each frame written, the face boxes on screen and which participant each one is. H.264
    through imageio-ffmpeg.
    """
    import wave

    import imageio_ffmpeg

    scenes = scenes or [(0.0, "gallery", [0, 1, 2, 3])]
    photo, face = looks[0]  # the layouts' default look, unused with looks given
    wav = path.with_suffix(".wav")
    if audio:
        pcm = (speech(seconds, [(a, b) for _, a, b in script]) * 32767).astype("<i2")
        with wave.open(str(wav), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(16_000)
            out.writeframes(pcm.tobytes())
    writer = imageio_ffmpeg.write_frames(
        str(path),
        FRAME,
        fps=fps,
        codec="libx264",
        macro_block_size=1,
        ffmpeg_log_level="error",  # its notes on guessed layouts and rates are not for users
        audio_path=str(wav) if audio else None,
        audio_codec="aac" if audio else None,
    )
    writer.send(None)
    last, truth = None, []
    drawn: dict[tuple[object, ...], tuple[np.ndarray, list[Box]]] = {}  # a still view: once
    try:
        for k in range(seconds * fps):
            t = k / fps
            now = list(looks)
            for start, p, look in sorted(changes or [], key=lambda c: c[0]):
                if start <= t:
                    now[p] = look
            speaking = [p for p, a, b in script if a <= t < b]
            last = speaking[0] if speaking else last
            _, layout, order = [scene for scene in scenes if scene[0] <= t][-1]
            speaker_view = layout == "speaker" and last is not None and last in order
            if speaker_view and last is not None:
                order = [last, *(p for p in order if p != last)]
            key = (layout, tuple(order), last, *(id(image) for image, _ in now))
            if key not in drawn:
                if speaker_view:
                    frame, boxes = speaker(photo, face, looks=now, order=order)
                else:
                    tile = order.index(last) if last in order else None
                    frame, boxes = gallery(photo, face, 2, highlight=tile, looks=now, order=order)
                drawn[key] = np.ascontiguousarray(frame[:, :, ::-1]), boxes
            rgb, boxes = drawn[key]
            truth.append((boxes, list(order)))
            writer.send(rgb)
    finally:
        writer.close()
        wav.unlink(missing_ok=True)
    return truth


def person_at(frames: list[tuple[list[Box], list[int]]], time: float, box: Box, fps: int) -> int:
    """Which participant of :func:`write_call`'s ``frames`` a face ``box`` found at ``time``
    seconds is: the one whose true box there has the nearest centre."""
    boxes, who = frames[min(round(time * fps), len(frames) - 1)]
    centres = np.array([(x + w / 2, y + h / 2) for x, y, w, h in boxes])
    x, y, w, h = box
    return who[int(np.argmin(((centres - (x + w / 2, y + h / 2)) ** 2).sum(axis=1)))]


def demo_call_info(seconds: float) -> CallInfo:
    """The call metadata of :func:`demo_media`'s recording: rep P1, staff P4, prospects P2
    and P3 (informed), and five stages of equal length."""
    step = seconds / 5
    names = ["intro", "discovery", "demo", "pricing", "close"]
    return CallInfo(
        rep="P1",
        staff=("P4",),
        prospects={"P2": "Dana", "P3": "Sam"},
        informed=True,
        stages={s: round(i * step, 1) for i, s in enumerate(names)},
    )


def demo_media(out: Path, seconds: int, looks: list[tuple[np.ndarray, Box]]) -> list[Path]:
    """A call screenshot (a 2x2 gallery of ``looks``) and a scripted recording of ``seconds``
    (:func:`scripted_call`), written into ``out``."""
    photo, face = looks[0]
    screenshot = out / "gallery_call.png"
    cv2.imwrite(str(screenshot), gallery(photo, face, 2, looks=looks)[0])
    turns, scenes = scripted_call(seconds)
    recording = out / "demo_call.mp4"
    write_call(looks, recording, turns, seconds, scenes=scenes)
    return [screenshot, recording]
