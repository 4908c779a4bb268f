"""Annotate faces in an image: detect, classify the perceived expression, draw, write JSON.

Labels are *perceived facial expressions* (how a face is likely to come across), not the
emotions a person feels.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from capstone.artefacts import atomic_path, write_json
from capstone.call_info import DEFAULT_USE, CallInfo, check_use, use_lines, use_record
from capstone.errors import CapstoneError
from capstone.faces import Detection, crop_face, detect
from capstone.formats import IMAGE_SUFFIXES, listed
from capstone.inference import predict
from capstone.params import CLASSES
from capstone.synthetic_calls import place

MAX_PIXELS = 40_000_000  # larger images are refused rather than exhausting memory


class MediaError(CapstoneError):
    """An input file is not a readable image."""


def check_input_file(path: Path) -> None:
    """Refuse a path that is missing or a folder, saying which."""
    if path.is_dir():
        raise MediaError(f"{path}: is a folder; give the image or video files in it")
    if not path.is_file():
        raise MediaError(f"{path}: no such file")


def load_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read an image file as BGR, refusing unreadable, truncated or oversized files."""
    path = Path(path)
    check_input_file(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise MediaError(f"{path}: not an image ({listed(IMAGE_SUFFIXES)} are supported)")
    too_large = f"{path}: image larger than {max_pixels:,} pixels; downscale it first"
    try:  # read only the header first: refuse decompression bombs before decoding
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as probe:
                width, height = probe.size
    except Image.DecompressionBombError:
        raise MediaError(too_large) from None
    except OSError:
        raise MediaError(
            f"{path}: cannot decode the image (truncated or not an image file)"
        ) from None
    if width * height > max_pixels:
        raise MediaError(too_large)
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise MediaError(f"{path}: cannot decode the image (truncated or not an image file)")
    return image


def classify_faces(
    image_bgr: np.ndarray,
    model: Any,
    *,
    detector: str = "mtcnn",
    boxes: list[tuple[int, int, int, int] | Detection] | None = None,
    min_face: int = 24,
    uncertain_below: float = 0.4,
    crop: dict[str, Any] | None = None,
    read: list[bool] | None = None,
) -> list[dict[str, Any]]:
    """Find the faces in an image and classify each one's perceived expression.

    ``model`` is a self-contained model (:mod:`capstone.inference`): it reads the crops of
    :func:`capstone.faces.crop_face` and returns calibrated probabilities. ``crop`` holds
    the model's crop settings (:func:`capstone.inference.crop_settings_of`; default: the
    defaults of :func:`~capstone.faces.crop_face`). ``boxes`` skips detection and classifies
    these ``(x, y, w, h)`` boxes or detections instead. ``read``, one flag per box, leaves
    the faces flagged ``False`` unclassified (:mod:`capstone.call_info`: whose expressions
    may be read); their crops never reach the model.

    Returns
    -------
    list of dict
        One per face: ``box`` ``[x, y, w, h]``; ``status`` (``ok``, ``uncertain`` when the
        top probability is below ``uncertain_below``, or ``too_small`` when the face is
        under ``min_face`` pixels, or ``not_read`` when ``read`` says so: neither is
        classified); ``label``; ``probability``; ``probs`` (class -> probability, empty
        when not classified).
    """
    found = detect(image_bgr, detector=detector) if boxes is None else boxes
    if read is not None and len(read) != len(found):
        raise ValueError(f"read has {len(read)} flags for {len(found)} faces")
    faces: list[dict[str, Any]] = []
    crops, which = [], []
    for i, face in enumerate(found):
        box = face.box if isinstance(face, Detection) else tuple(face)
        status = "too_small" if min(box[2:]) < min_face else ""
        if read is not None and not read[i]:
            status = "not_read"
        if status:
            faces.append(
                {
                    "box": list(box),
                    "status": status,
                    "label": status.replace("_", " "),
                    "probability": None,
                    "probs": {},
                }
            )
            continue
        crops.append(crop_face(image_bgr, face, **(crop or {})))
        which.append(len(faces))
        faces.append({"box": list(box)})
    if crops:
        probs = predict(model, np.stack(crops))
        for i, p in zip(which, probs, strict=True):
            top = int(p.argmax())
            confident = p[top] >= uncertain_below
            faces[i].update(
                status="ok" if confident else "uncertain",
                label=CLASSES[top] if confident else "uncertain",
                probability=round(float(p[top]), 4),
                probs={c: round(float(v), 4) for c, v in zip(CLASSES, p, strict=True)},
            )
    return faces


def draw(image_bgr: np.ndarray, faces: list[dict[str, Any]]) -> np.ndarray:
    """A copy of the image with a box, a label and a probability bar for every face.

    Line widths and text scale with the image, so the overlay stays readable at any size.
    """
    out = image_bgr.copy()
    unit = max(1, round(max(out.shape[:2]) / 600))
    for face in faces:
        x, y, w, h = face["box"]
        colour = {"ok": (60, 200, 60), "uncertain": (0, 190, 255)}.get(
            face["status"], (160, 160, 160)
        )
        cv2.rectangle(out, (x, y), (x + w, y + h), colour, 2 * unit, cv2.LINE_AA)
        text = (
            face["label"]
            if face["probability"] is None
            else f"{face['label']} {face['probability']:.0%}"
        )
        scale = 0.5 * unit
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, unit)
        top = max(0, y - th - base - 4 * unit)
        cv2.rectangle(out, (x, top), (x + tw + 4 * unit, top + th + base + 4 * unit), colour, -1)
        cv2.putText(
            out,
            text,
            (x + 2 * unit, top + th + 2 * unit),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            (20, 20, 20),
            unit,
            cv2.LINE_AA,
        )
        if face["probability"] is not None:
            bar = round(w * face["probability"])
            cv2.rectangle(out, (x, y + h + 2 * unit), (x + w, y + h + 6 * unit), (50, 50, 50), -1)
            cv2.rectangle(out, (x, y + h + 2 * unit), (x + bar, y + h + 6 * unit), colour, -1)
    return out


def output_names(paths: list[Path]) -> list[str]:
    """A distinct output name for each input file, whatever the files are called.

    The stem where it is unique (``call.mp4`` -> ``call``); else the stem and suffix
    (``good.jpg``, ``good.png`` -> ``good_jpg``, ``good_png``); else, for files of one name
    in several folders, the path below their common folder as well (``a/good.jpg`` ->
    ``a_good_jpg``); a number is added if even that repeats.
    """
    resolved = [Path(p).resolve() for p in paths]
    common = Path(os.path.commonpath([p.parent for p in resolved])) if resolved else Path()
    stems = Counter(p.stem for p in resolved)

    def candidate(p: Path) -> str:
        if stems[p.stem] == 1:
            return p.stem
        if sum(q.name == p.name for q in resolved) == 1:
            return f"{p.stem}_{p.suffix.lstrip('.')}"
        below = p.relative_to(common).with_suffix("").parts
        return "_".join([*below, p.suffix.lstrip(".")])

    names, used = [], set()
    for p in resolved:
        name, n = candidate(p), 2
        while name in used:
            name, n = f"{candidate(p)}-{n}", n + 1
        used.add(name)
        names.append(name)
    return names


def reading_order(boxes: list[tuple[int, int, int, int]]) -> list[int]:
    """Indices of ``(x, y, w, h)`` boxes in reading order: rows top to bottom (a row is
    faces whose centres lie within half the median face height), each left to right."""
    if not boxes:
        return []
    row = max(1.0, float(np.median([b[3] for b in boxes])) / 2)
    return sorted(
        range(len(boxes)),
        key=lambda i: ((boxes[i][1] + boxes[i][3] / 2) // row, boxes[i][0]),
    )


def annotate_image(
    path: str | Path,
    model: Any,
    out_dir: str | Path,
    name: str | None = None,
    *,
    call: CallInfo | None = None,
    use: str = DEFAULT_USE,
    meaning: str = "",
    **options: Any,
) -> dict[str, Any]:
    """Annotate one image file: write ``<name>_annotated.png`` and ``<name>.json`` to
    ``out_dir`` (``name`` defaults to the file's stem).

    The faces are the participants ``P1``, ``P2``, ... in reading order; ``call`` names
    them and ``use`` decides whose expressions are read (:mod:`capstone.call_info`; by
    default only named prospects'). ``meaning`` says what a reading means
    (:func:`capstone.inference.reading_meaning`). ``options`` go to :func:`classify_faces`.
    Returns the JSON record.
    """
    path, out_dir = Path(path), Path(out_dir)
    name, call = name or path.stem, call or CallInfo()
    check_use(call, use)
    image = load_image(path)
    found = detect(image, detector=options.pop("detector", "mtcnn"))
    found = [found[i] for i in reading_order([f.box for f in found])]
    ids = [f"P{i + 1}" for i in range(len(found))]
    read = [call.reads(pid, use) for pid in ids]
    faces = classify_faces(image, model, boxes=found, read=read, **options)
    for pid, face in zip(ids, faces, strict=True):
        face.update(participant=pid, role=call.role(pid))
    record = {
        "input": path.name,
        "width": image.shape[1],
        "height": image.shape[0],
        "note": "labels are perceived facial expressions, not felt emotions",
        "reading_means": meaning,
        "use": use_record(call, use, ids),
        "faces": faces,
    }
    labelled = [{**f, "label": f"{f['participant']} {f['label']}"} for f in faces]
    with atomic_path(out_dir / f"{name}_annotated.png") as tmp:
        _, png = cv2.imencode(".png", draw(image, labelled))
        tmp.write_bytes(png.tobytes())
    write_json(out_dir / f"{name}.json", record)
    return record


def gallery_frame(
    tiles: list[np.ndarray], cols: int, tile: tuple[int, int] = (480, 360)
) -> np.ndarray:
    """Compose a gallery-view call frame: each image fitted into a tile on a dark background."""
    tw, th = tile
    rows = -(-len(tiles) // cols)
    frame = np.full((rows * th + (rows + 1) * 8, cols * tw + (cols + 1) * 8, 3), 32, np.uint8)
    for i, img in enumerate(tiles):
        r, c = divmod(i, cols)
        place(frame, img, (0, 0, 0, 0), (8 + c * (tw + 8), 8 + r * (th + 8), tw, th))
    return frame


def summary(records: list[dict[str, Any]]) -> str:
    """A one-line-per-face text summary of annotation records, then what their use read
    (:func:`capstone.call_info.use_lines`; a line repeated between records is given once)."""
    lines, notes = [], []
    for rec in records:
        for face in rec["faces"]:
            p = "" if face["probability"] is None else f" ({face['probability']:.0%})"
            role = f" ({face['role']})" if face["role"] else ""
            lines.append(f"{rec['input']} {face['participant']}{role}: {face['label']}{p}")
        notes += use_lines(rec["use"], {f["participant"]: f["role"] for f in rec["faces"]})
    return "\n".join([*lines, *dict.fromkeys(notes)]) if lines else "no faces found"


__all__ = [
    "MediaError",
    "annotate_image",
    "classify_faces",
    "draw",
    "gallery_frame",
    "load_image",
    "reading_order",
    "summary",
]


def faces_table(records: list[dict[str, Any]]) -> Any:
    """A row per face of annotated images' records (:func:`annotate_image`): who it is,
    whether it was read, and the perceived expression."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "image": r["input"],
                "participant": f["participant"],
                "role": f["role"],
                "status": f["status"],
                "perceived expression": f["label"],
                "probability": f["probability"],
            }
            for r in records
            for f in r["faces"]
        ]
    )
