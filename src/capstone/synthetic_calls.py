"""Synthetic video calls: frames and recordings composed from a real photo, with the true
face boxes (for the demo, the tests and the benchmarks; not to be confused with
:mod:`capstone.data.layout`, the datasets' folder layouts).

Gallery view (2x2 to 7x7 tiles in a 1280x720 frame), speaker view (one large tile and a strip
of small thumbnails), and screen share (a slide with a strip of thumbnails). Each tile holds
a variant of the same real portrait (mirrored, cropped, darker, lower contrast), so every
tile has exactly one face whose box is known.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from capstone.call_info import CallInfo
from capstone.faces import Box, detect_faces, match

FRAME = (1280, 720)

# grace_hopper.jpg (matplotlib's sample data, 512x600): the face, labelled by hand.
HOPPER_FACE: Box = (175, 120, 175, 210)


def variants(photo: np.ndarray, face: Box) -> list[tuple[np.ndarray, Box]]:
    """Four looks of one portrait with the face box in each: as is, mirrored, cropped, darker."""
    h, w = photo.shape[:2]
    x, y, fw, fh = face
    top, left = max(0, y - 100), max(0, x - 80)
    crop = photo[top : min(h, y + fh + 160), left : min(w, x + fw + 80)]
    return [
        (photo, face),
        (cv2.flip(photo, 1), (w - x - fw, y, fw, fh)),
        (crop, (x - left, y - top, fw, fh)),
        (cv2.convertScaleAbs(photo, alpha=0.55, beta=10), face),
    ]


CASTS = [(1.0, 1.0, 1.0), (1.3, 1.0, 0.7), (0.7, 1.15, 1.0), (1.0, 0.75, 1.3)]  # B, G, R gains


def people(photo: np.ndarray, face: Box) -> list[tuple[np.ndarray, Box]]:
    """Four participants from one portrait, told apart as a tracker must tell people apart:
    each of :func:`variants` in its own light (a colour cast, as different rooms and screens
    give)."""
    return [
        (np.clip(image * np.array(cast), 0, 255).astype(np.uint8), box)
        for (image, box), cast in zip(variants(photo, face), CASTS, strict=True)
    ]


def synthetic_people(n: int = 4, size: int = 200, seed: int = 0) -> list[tuple[np.ndarray, Box]]:
    """``n`` participants drawn as the sample profile draws its faces
    (:func:`capstone.sample.render_face`), each a different person with a neutral face,
    with the box the face is drawn in (roughly: the sample's pose jitter moves it a little).
    A second cast, unlike any photo, for testing identity on given boxes: MTCNN finds few
    of these drawn faces, so the end-to-end composed calls use :func:`people`."""
    from capstone.sample import make_identities, render_face

    rng = np.random.default_rng(seed)
    looks = []
    for person in make_identities(rng, n):
        image = render_face(rng, "neutral", person, size, colour=True)
        w, h = round(2 * person.face_w * size), round(2 * person.face_h * size)
        looks.append((image, ((size - w) // 2, (size - h) // 2, w, h)))
    return looks


def place(frame: np.ndarray, image: np.ndarray, face: Box, tile: tuple[int, int, int, int]) -> Box:
    """Fit ``image`` into ``tile`` ``(x, y, w, h)`` of ``frame``; return the face's new box."""
    tx, ty, tw, th = tile
    scale = min(tw / image.shape[1], th / image.shape[0])
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    x0, y0 = tx + (tw - small.shape[1]) // 2, ty + (th - small.shape[0]) // 2
    frame[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
    x, y, w, h = face
    return (x0 + round(x * scale), y0 + round(y * scale), round(w * scale), round(h * scale))


HIGHLIGHT_BGR = (60, 205, 35)  # the green outline Zoom draws around the speaking tile


def gallery(
    photo: np.ndarray,
    face: Box,
    n: int,
    *,
    highlight: int | None = None,
    looks: list[tuple[np.ndarray, Box]] | None = None,
    order: list[int] | None = None,
) -> tuple[np.ndarray, list[Box]]:
    """An ``n`` x ``n`` gallery view; ``highlight`` outlines that tile as the speaker's.

    Tile ``i`` shows ``looks[order[i]]`` (default: :func:`variants` in turn, every tile).
    """
    fw, fh = FRAME
    frame = np.full((fh, fw, 3), 28, np.uint8)
    looks, truth, gap = looks or variants(photo, face), [], 6
    order = list(range(n * n)) if order is None else order
    tw, th = (fw - gap * (n + 1)) // n, (fh - gap * (n + 1)) // n
    for i, look in enumerate(order):
        r, c = divmod(i, n)
        image, box = looks[look % len(looks)]
        tile = (gap + c * (tw + gap), gap + r * (th + gap), tw, th)
        truth.append(place(frame, image, box, tile))
        if i == highlight:
            x, y, w, h = tile
            cv2.rectangle(frame, (x - 2, y - 2), (x + w + 1, y + h + 1), HIGHLIGHT_BGR, 4)
    return frame, truth


def speaker(
    photo: np.ndarray,
    face: Box,
    thumbs: int = 4,
    looks: list[tuple[np.ndarray, Box]] | None = None,
    order: list[int] | None = None,
) -> tuple[np.ndarray, list[Box]]:
    """Speaker view: one large tile below a strip of ``thumbs`` small ones.

    The large tile shows ``looks[order[0]]``, the strip the rest of ``order`` (default:
    :func:`variants` in turn).
    """
    fw, fh = FRAME
    frame = np.full((fh, fw, 3), 28, np.uint8)
    looks = looks or variants(photo, face)
    order = list(range(thumbs + 1)) if order is None else order
    thumbs = len(order) - 1
    truth = [place(frame, *looks[order[0] % len(looks)], (0, 110, fw, fh - 110))]
    for i in range(thumbs):
        image, box = looks[order[i + 1] % len(looks)]
        truth.append(place(frame, image, box, (fw // 2 - thumbs * 90 + i * 180, 5, 170, 100)))
    return frame, truth


def screen_share(photo: np.ndarray, face: Box, thumbs: int = 4) -> tuple[np.ndarray, list[Box]]:
    """Screen share: a slide with text lines and a chart, and a strip of thumbnails on the right."""
    fw, fh = FRAME
    frame = np.full((fh, fw, 3), 245, np.uint8)
    cv2.putText(
        frame, "Q3 pricing proposal", (60, 90), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (40, 40, 40), 3
    )
    for i in range(6):
        cv2.line(frame, (60, 160 + 50 * i), (700, 160 + 50 * i), (150, 150, 150), 8)
    for i, height in enumerate([120, 200, 160, 260]):
        cv2.rectangle(frame, (760 + i * 70, 560 - height), (810 + i * 70, 560), (200, 120, 40), -1)
    looks, truth = variants(photo, face), []
    for i in range(thumbs):
        image, box = looks[i % len(looks)]
        truth.append(place(frame, image, box, (fw - 230, 20 + i * 175, 220, 165)))
    return frame, truth


def hopper() -> np.ndarray:
    """The portrait every composed call is made of: matplotlib's ``grace_hopper.jpg`` (BGR)."""
    from matplotlib import cbook

    return cv2.imread(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))


def call_layouts(
    photo: np.ndarray, face: Box = HOPPER_FACE
) -> dict[str, tuple[np.ndarray, list[Box]]]:
    """Every layout, by name, with its true face boxes."""
    layouts = {f"gallery {n}x{n}": gallery(photo, face, n) for n in (2, 3, 4, 5, 7)}
    layouts["speaker view"] = speaker(photo, face)
    layouts["screen share"] = screen_share(photo, face)
    return layouts


def score_detectors(
    layouts: dict[str, tuple[np.ndarray, list[Box]]], detectors: tuple[str, ...] = ("haar", "mtcnn")
) -> list[dict[str, Any]]:
    """Recall, precision and time of each detector on each layout (a hit: IoU >= 0.4)."""
    rows = []
    for detector in detectors:
        detect_faces(next(iter(layouts.values()))[0], detector=detector)  # warm-up
        for name, (frame, truth) in layouts.items():
            start = time.perf_counter()
            found = detect_faces(frame, detector=detector)
            seconds = time.perf_counter() - start
            counts = match(found, truth)
            tp = counts["true_positives"]
            rows.append(
                {
                    "layout": name,
                    "detector": detector,
                    "faces": len(truth),
                    "smallest face (px)": min(min(b[2], b[3]) for b in truth),
                    **counts,
                    "recall": tp / len(truth),
                    "precision": tp / len(found) if found else 1.0,
                    "seconds": round(seconds, 3),
                }
            )
    return rows


def write_recording(
    photo: np.ndarray, face: Box, path: Path, seconds: int = 40, *, fps: int = 10, n: int = 2
) -> Path:
    """A gallery-view "recording" of the portrait: each tile zooms slowly in (up to 8%)
    and back out, every 10 s.

    Every face is the same photograph throughout, so a good reader should give a flat
    timeline: any swing in it is the model's noise, not a change of expression.
    """
    h, w = photo.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, FRAME)
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


def speech_like(
    seconds: float, spans: list[tuple[float, float]], rate: int = 16_000, seed: int = 0
) -> np.ndarray:
    """Mono audio: a quiet noise floor, and inside ``spans`` a voice-like sound (harmonics
    of 140 Hz, in syllables 4 times a second). Float32 samples in [-1, 1]."""
    t = np.arange(int(seconds * rate)) / rate
    audio = 0.002 * np.random.default_rng(seed).standard_normal(len(t))
    voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 12))
    syllables = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)
    for a, b in spans:
        inside = (t >= a) & (t < b)
        audio[inside] += 0.15 * (voice * syllables)[inside]
    return audio.astype(np.float32)


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
) -> list[tuple[list[Box], list[int]]]:
    """A call recording of the participants ``looks`` (each a picture and its face box, e.g.
    :func:`people`) in which participant ``p`` speaks from ``start`` to ``end`` for each
    ``(p, start, end)`` of ``script``, with its true boxes and speakers.

    ``scenes`` lists ``(start, layout, order)``: from ``start`` seconds on, a 2x2
    ``gallery`` of the participants in ``order`` (tile by tile), or ``speaker`` view with
    the current speaker in the main tile and the rest of ``order`` in the strip (default: a
    2x2 gallery of participants 0-3 throughout). In gallery view the speaker's tile is
    outlined as the app outlines it (the outline stays on the last speaker through
    silences, as in Zoom). With ``audio``, an AAC track holds a voice-like sound while
    anyone speaks. Returns, for each frame written, the face boxes on screen and which participant each one is. H.264
    through imageio-ffmpeg.
    """
    import wave

    import imageio_ffmpeg

    scenes = scenes or [(0.0, "gallery", [0, 1, 2, 3])]
    photo, face = looks[0]  # the layouts' default look, unused with looks given
    wav = path.with_suffix(".wav")
    if audio:
        pcm = (speech_like(seconds, [(a, b) for _, a, b in script]) * 32767).astype("<i2")
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
    try:
        for k in range(seconds * fps):
            t = k / fps
            speaking = [p for p, a, b in script if a <= t < b]
            last = speaking[0] if speaking else last
            _, layout, order = [scene for scene in scenes if scene[0] <= t][-1]
            if layout == "speaker" and last in order:
                order = [last, *(p for p in order if p != last)]
                frame, boxes = speaker(photo, face, looks=looks, order=order)
            else:
                tile = order.index(last) if last in order else None
                frame, boxes = gallery(photo, face, 2, highlight=tile, looks=looks, order=order)
            truth.append((boxes, list(order)))
            writer.send(np.ascontiguousarray(frame[:, :, ::-1]))
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
