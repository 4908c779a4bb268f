"""MTCNN's three-network cascade, run by ONNX Runtime: the ``mtcnn`` package's detector without
TensorFlow.

The networks are the ``mtcnn`` package's own weights (MIT licence, ``MTCNN_LICENSE`` beside
this file), exported once to ONNX (``python -m capstone.faces.cascade``, which needs
TensorFlow, ``mtcnn`` and ``tf2onnx``). The steps around them follow ``mtcnn`` 1.0's
``detect_faces`` step for step: an image pyramid (area resizing), proposals from PNet, then
RNet and ONet on bilinear crops of the proposals, each stage with its own threshold and
non-maximum suppression. Faces come out as :class:`~capstone.faces.boxes.Detection` with the
eye centres. Only the resizing differs (OpenCV's area resize for TensorFlow's, equal to about
3e-5 of a pixel value), so boxes agree with ``mtcnn``'s to a pixel
(``tests/faces/test_cascade.py``).

Run so, a detection costs no TensorFlow import (6 s), and no TensorFlow call per pyramid level.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from capstone.faces.boxes import Detection, as_box
from capstone.onnx_session import onnx_session

NETWORKS = ("pnet", "rnet", "onet")
SCALE_FACTOR = 0.709  # each pyramid level's side, as a share of the one before
THRESHOLDS = {"pnet": 0.6, "rnet": 0.7, "onet": 0.8}


@cache
def _session(name: str) -> Any:
    """The ONNX Runtime session of one of the three networks."""
    model = (resources.files("capstone.faces") / f"mtcnn_{name}.onnx").read_bytes()
    return onnx_session(model, threads=1)  # small calls: one thread costs less CPU time


def _run(name: str, batch: np.ndarray) -> list[np.ndarray]:
    session = _session(name)
    return session.run(None, {session.get_inputs()[0].name: batch.astype(np.float32)})


def pyramid(width: int, height: int, min_face_size: int = 12) -> np.ndarray:
    """The scales of the image pyramid, largest first, down to a 12-pixel shorter side."""
    count = round(-(np.log(min(width, height) / 12) / np.log(SCALE_FACTOR) + 1))
    return 12 / min_face_size * SCALE_FACTOR ** np.arange(count)


def _suppress(boxes: np.ndarray, threshold: float, method: str = "union") -> np.ndarray:
    """``boxes`` (rows x1, y1, x2, y2, score, ...) without those that overlap a higher-scored
    one by more than ``threshold`` (as ``mtcnn`` does it: whether or not that one is kept)."""
    if len(boxes) == 0:
        return boxes
    boxes = boxes[np.argsort(boxes[:, 4])[::-1]]
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    area = (x2 - x1) * (y2 - y1)
    w = np.maximum(0, np.minimum(x2[:, None], x2[None]) - np.maximum(x1[:, None], x1[None]))
    h = np.maximum(0, np.minimum(y2[:, None], y2[None]) - np.maximum(y1[:, None], y1[None]))
    inter = w * h
    if method == "union":
        ratio = inter / (area[:, None] + area[None] - inter)
    else:
        ratio = inter / np.minimum(area[:, None], area[None])
    beaten = np.triu(ratio > threshold, k=1).any(axis=0)
    return boxes[~beaten]


def _square(boxes: np.ndarray) -> np.ndarray:
    boxes = boxes.copy()
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    boxes[:, 0] += w / 2 - side / 2
    boxes[:, 1] += h / 2 - side / 2
    boxes[:, 2:4] = boxes[:, 0:2] + side[:, None]
    return boxes


def _refine(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    boxes = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    boxes[:, 0:4] += offsets * np.stack([w, h, w, h], axis=-1)
    return boxes


def _patches(image: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Bilinear ``size`` x ``size`` crops of ``boxes`` from ``image`` (TensorFlow's
    ``crop_and_resize``: corners on the boxes' edges scaled by (side - 1)/side, zero outside)."""
    height, width = image.shape[:2]
    steps = np.arange(size, dtype=np.float32) / (size - 1)
    y1, x1 = boxes[:, 1] / height * (height - 1), boxes[:, 0] / width * (width - 1)
    y2, x2 = boxes[:, 3] / height * (height - 1), boxes[:, 2] / width * (width - 1)
    ys = y1[:, None] + steps[None] * (y2 - y1)[:, None]  # (n, size)
    xs = x1[:, None] + steps[None] * (x2 - x1)[:, None]
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    fy, fx = (ys - y0)[:, :, None, None], (xs - x0)[:, None, :, None]
    inside = ((ys >= 0) & (ys <= height - 1))[:, :, None] & ((xs >= 0) & (xs <= width - 1))[:, None]

    pixels = image.reshape(height * width, -1)

    def at(yy: np.ndarray, xx: np.ndarray) -> np.ndarray:  # one gather of whole rows of pixels
        yy, xx = np.clip(yy, 0, height - 1), np.clip(xx, 0, width - 1)
        return pixels.take(yy[:, :, None] * width + xx[:, None, :], axis=0)

    top = at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx
    bottom = at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx
    return np.where(inside[..., None], top * (1 - fy) + bottom * fy, 0.0)


def _proposals(image: np.ndarray, min_face_size: int) -> np.ndarray:
    """PNet's square proposals over the pyramid, rows x1, y1, x2, y2, score."""
    height, width = image.shape[:2]
    found = []
    for scale in pyramid(width, height, min_face_size):
        size = (int(width * scale), int(height * scale))
        level = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        regression, classes = (out[0] for out in _run("pnet", level[None]))
        score = classes[:, :, 1]
        ys, xs = np.nonzero(score > THRESHOLDS["pnet"])
        order = np.argsort(score[ys, xs], kind="stable")[::-1]
        ys, xs = ys[order], xs[order]
        dx1, dy1, dx2, dy2 = regression[ys, xs].T
        boxes = np.stack(
            [
                (xs * 2 + 1 + dx1 * 11) / scale,
                (ys * 2 + 1 + dy1 * 11) / scale,
                (xs * 2 + 12 + dx2 * 11) / scale,
                (ys * 2 + 12 + dy2 * 11) / scale,
                score[ys, xs],
            ],
            axis=1,
        )
        found.append(_suppress(boxes, 0.5))
    boxes = np.concatenate(found) if found else np.empty((0, 5))
    return _square(_suppress(boxes, 0.7))


def detect_faces(image_rgb: np.ndarray, min_face_size: int = 12) -> list[Detection]:
    """The faces ``mtcnn``'s ``MTCNN().detect_faces`` finds in an RGB image, with their
    confidence and eye centres, boxes rounded to whole pixels and kept inside the image."""
    image = (np.asarray(image_rgb, np.float32) - np.float32(127.5)) / np.float32(128)
    height, width = image.shape[:2]
    boxes = _proposals(image, min_face_size)
    if len(boxes):  # RNet
        regression, classes = _run("rnet", _patches(image, boxes, 24))
        boxes[:, 4] = classes[:, 1]
        boxes = _refine(boxes, regression)
        boxes = _square(_suppress(boxes[boxes[:, 4] > THRESHOLDS["rnet"]], 0.7))
    if len(boxes):  # ONet, with the five landmarks
        boxes = _onet(_patches(image, boxes, 48), boxes)
        boxes = _suppress(boxes[boxes[:, 4] > THRESHOLDS["onet"]], 0.7, method="min")
    return _detections(boxes, width, height)


def _onet(patches: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """ONet's refined ``boxes`` (rows x1, y1, x2, y2, score) from their normalised 48x48
    ``patches``, each row followed by the five landmarks' x and then their y."""
    regression, marks, classes = _run("onet", patches)
    w = boxes[:, 2:3] - boxes[:, 0:1] + 1
    h = boxes[:, 3:4] - boxes[:, 1:2] + 1
    xs, ys = w * marks[:, 0:5] + boxes[:, 0:1] - 1, h * marks[:, 5:10] + boxes[:, 1:2] - 1
    boxes = boxes.copy()
    boxes[:, 4] = classes[:, 1]
    return np.concatenate([_refine(boxes, regression), xs, ys], axis=1)


def _detections(rows: np.ndarray, width: int, height: int) -> list[Detection]:
    """ONet's rows as detections: boxes rounded to whole pixels and kept inside the image."""
    faces = []
    for row in rows:
        x1, x2 = np.clip(row[[0, 2]], 0, width - 1)
        y1, y2 = np.clip(row[[1, 3]], 0, height - 1)
        box = np.round([x1, y1, x2 - x1, y2 - y1]).astype(int)
        left, right = np.round(row[[5, 10]]), np.round(row[[6, 11]])  # x, y of each eye
        eyes = ((float(left[0]), float(left[1])), (float(right[0]), float(right[1])))
        faces.append(Detection(as_box(box), float(row[4]), eyes))
    return faces


def export(folder: Path) -> list[Path]:
    """Write the ``mtcnn`` package's three networks as ONNX files into ``folder``."""
    import tensorflow as tf
    import tf2onnx
    from mtcnn import MTCNN

    written = []
    shapes = {"pnet": (None, None, None, 3), "rnet": (None, 24, 24, 3), "onet": (None, 48, 48, 3)}
    for name, stage in zip(NETWORKS, MTCNN().stages, strict=True):
        signature = [tf.TensorSpec(shapes[name], tf.float32, name="image")]
        path = folder / f"mtcnn_{name}.onnx"
        tf2onnx.convert.from_function(
            tf.function(stage._model.call),
            input_signature=signature,
            opset=17,
            output_path=str(path),
        )
        written.append(path)
    return written


if __name__ == "__main__":
    export(Path(__file__).parent)
