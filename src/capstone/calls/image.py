"""Annotate a call screenshot: read its faces, draw boxes and labels, write the picture and
a JSON record, and say in a line per face what was read.

Labels are *perceived facial expressions* (how a face is likely to come across), not the
emotions a person feels.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from capstone.artefacts import atomic_path, write_json
from capstone.calls.metadata import use_lines, use_record
from capstone.calls.numbering import number_picture
from capstone.calls.request import CallOutputs, CallRequest
from capstone.calls.result import ScreenshotResult
from capstone.media import load_image
from capstone.reading.classify import classify_faces
from capstone.reading.face_reading import FaceReading


def draw(image_bgr: np.ndarray, faces: list[FaceReading]) -> np.ndarray:
    """A copy of the image with a box, a caption and a probability bar for every face.

    Line widths and text scale with the image, so the overlay stays readable at any size.
    """
    out = image_bgr.copy()
    unit = max(1, round(max(out.shape[:2]) / 600))
    for face in faces:
        x, y, w, h = face.box
        colour = {"ok": (60, 200, 60), "uncertain": (0, 190, 255)}.get(face.status, (160, 160, 160))
        cv2.rectangle(out, (x, y), (x + w, y + h), colour, 2 * unit, cv2.LINE_AA)
        text = face.caption()
        scale = 0.5 * unit
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, unit)
        top = max(0, y - th - base - 4 * unit)
        left = max(0, min(x, out.shape[1] - tw - 4 * unit))  # the whole caption in the picture
        cv2.rectangle(
            out, (left, top), (left + tw + 4 * unit, top + th + base + 4 * unit), colour, -1
        )
        cv2.putText(
            out,
            text,
            (left + 2 * unit, top + th + 2 * unit),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            (20, 20, 20),
            unit,
            cv2.LINE_AA,
        )
        if face.probability is not None:
            bar = round(w * face.probability)
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


def annotate_image(
    path: str | Path,
    model: Any,
    out_dir: str | Path,
    name: str | None = None,
    *,
    request: CallRequest | None = None,
    meaning: str = "",
) -> ScreenshotResult:
    """Annotate one image file: write ``<name>_annotated.png`` and ``<name>.json`` to
    ``out_dir`` (``name`` defaults to the file's stem; :meth:`CallOutputs.of_screenshot`).

    The faces are the participants ``P1``, ``P2``, ... in reading order
    (:func:`capstone.calls.numbering.number_picture`); the request's call metadata names them
    and its use decides whose expressions are read (:mod:`capstone.calls.metadata`; by
    default only named prospects'). ``meaning`` says what a reading means
    (:func:`capstone.model.released.reading_meaning`).
    """
    path, out_dir = Path(path), Path(out_dir)
    request = request or CallRequest()
    name, call, use = name or path.stem, request.info, request.use
    image = load_image(path)
    numbered = number_picture(image, request.options)
    ids = [f.participant for f in numbered]
    read = [call.reads(pid, use) for pid in ids]
    classified = classify_faces(
        image,
        model,
        boxes=[f.detection for f in numbered],
        read=read,
        **request.options.classifying(),
    )
    faces = [
        face.on_call(pid, call.role(pid), call.name(pid))
        for pid, face in zip(ids, classified, strict=True)
    ]
    result = ScreenshotResult(
        input=path.name,
        width=image.shape[1],
        height=image.shape[0],
        use=use_record(call, use, ids),
        faces=faces,
        reading_means=meaning,
    )
    outputs = CallOutputs.of_screenshot(name)
    with atomic_path(out_dir / str(outputs.picture)) as tmp:
        _, png = cv2.imencode(".png", draw(image, faces))
        tmp.write_bytes(png.tobytes())
    write_json(out_dir / str(outputs.record), result.to_json())
    return result


def summary(results: list[ScreenshotResult]) -> str:
    """A one-line-per-face text summary of annotated pictures, then what their use read
    (:func:`capstone.calls.metadata.use_lines`; a line repeated between pictures is given once)."""
    lines, notes = [], []
    for result in results:
        for face in result.faces:
            p = "" if face.probability is None else f" ({face.probability:.0%})"
            role = f" ({face.who})" if face.who else ""
            lines.append(f"{result.input} {face.participant}{role}: {face.label}{p}")
        notes += use_lines(result.use, {f.participant: f.who for f in result.faces})
    return "\n".join([*lines, *dict.fromkeys(notes)]) if lines else "no faces found"


def faces_table(results: list[ScreenshotResult]) -> Any:
    """A row per face of annotated pictures (:func:`annotate_image`): who it is, whether it
    was read, and the perceived expression."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "image": r.input,
                "participant": f.participant,
                "role": f.who,
                "status": f.status,
                "perceived expression": f.label,
                "probability": f.probability,
            }
            for r in results
            for f in r.faces
        ]
    )
