"""What the model reads in one picture: find the faces, cut each out as the model was trained
to see it, and classify the perceived expression of those the use allows to be read.

Labels are *perceived facial expressions* (how a face is likely to come across), not the
emotions a person feels. The evaluation measures the product through this same function.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from capstone.faces.boxes import Box, Detection, as_box
from capstone.faces.crop import crop_face, to_gray
from capstone.faces.detect import detect
from capstone.labels import CLASSES
from capstone.model.released import predict
from capstone.reading.face_reading import FaceReading


def classify_faces(
    image_bgr: np.ndarray,
    model: Any,
    *,
    detector: str = "mtcnn",
    boxes: Sequence[Box | Detection] | None = None,
    min_face: int = 24,
    uncertain_below: float = 0.4,
    crop: dict[str, Any] | None = None,
    read: list[bool] | None = None,
) -> list[FaceReading]:
    """Find the faces in an image and classify each one's perceived expression.

    ``model`` is a self-contained model (:mod:`capstone.model.released`): it reads the crops of
    :func:`capstone.faces.crop.crop_face` and returns calibrated probabilities. ``crop`` holds
    the model's crop settings (:func:`capstone.model.released.crop_settings_of`; default: the
    defaults of :func:`~capstone.faces.crop.crop_face`). ``boxes`` skips detection and classifies
    these ``(x, y, w, h)`` boxes or detections instead. ``read``, one flag per box, leaves
    the faces flagged ``False`` unclassified (:mod:`capstone.calls.metadata`: whose expressions
    may be read); their crops never reach the model.

    Returns
    -------
    list of FaceReading
        One per face, in the order found: ``status`` ``ok``, ``uncertain`` when the top
        probability is below ``uncertain_below``, ``too_small`` when the face is under
        ``min_face`` pixels, or ``not_read`` when ``read`` says so (neither is classified).
    """
    found = detect(image_bgr, detector=detector) if boxes is None else boxes
    if read is not None and len(read) != len(found):
        raise ValueError(f"read has {len(read)} flags for {len(found)} faces")
    faces: list[FaceReading | None] = []
    crops, which = [], []
    gray = to_gray(image_bgr) if len(found) > 1 else image_bgr  # once, not once a face
    for i, face in enumerate(found):
        box = face.box if isinstance(face, Detection) else as_box(face)
        if read is not None and not read[i]:
            faces.append(FaceReading(box, "not_read"))
        elif min(box[2:]) < min_face:
            faces.append(FaceReading(box, "too_small"))
        else:
            crops.append(crop_face(gray, face, **(crop or {})))
            which.append((len(faces), box))
            faces.append(None)
    if crops:
        probs = predict(model, np.stack(crops))
        for (i, box), p in zip(which, probs, strict=True):
            top = int(p.argmax())
            faces[i] = FaceReading(
                box,
                "ok" if p[top] >= uncertain_below else "uncertain",
                expression=CLASSES[top],
                probability=round(float(p[top]), 4),
                probs={c: round(float(v), 4) for c, v in zip(CLASSES, p, strict=True)},
            )
    return [f for f in faces if f is not None]
