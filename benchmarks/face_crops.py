"""How to cut faces out: detection recall and crop settings, measured with one network.

    python benchmarks/face_crops.py --model models/fer_cnn.keras \
        --wild ../shared/data/wild/sfew.zip --fer ../shared/data/fer2013/fer2013.zip

Three measurements, each printed as a table and written to ``--out`` (CSV):

1. **Recall** of the detector on the in-the-wild images (SFEW 2.0: tight 143x181 crops where
   the face fills the picture), with and without the padded second pass of
   :func:`capstone.faces.detect.detect`.
2. **Crop settings** (margin, eye alignment, contrast normalisation) scored by the network's
   accuracy and macro-F1 on both validation sets: SFEW's train split (the in-the-wild
   validation faces; its val split stays the test set) and FER2013 PublicTest, whose 48x48
   faces are found again by the detector (after a 3x upscale) and cut out anew, to see which
   settings reproduce FER2013's own framing. Where no face is found, the whole image is the box.
3. The squashed crop that annotation used before (the detector's box resized to 48x48).

Detections are cached beside ``--out`` (``detections.json``), so a rerun only re-scores.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import time
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from PIL import Image
from tqdm import tqdm

from capstone import metrics
from capstone.faces.boxes import Detection
from capstone.faces.crop import CONTRASTS, crop_face, to_gray
from capstone.faces.detect import DETECT_PAD, detect
from capstone.labels import CLASSES
from capstone.model import released as inference


def read_zip(path: Path, keep) -> list[tuple[str, np.ndarray, int]]:
    """``(name, BGR image, class index)`` of every image in a Kaggle-layout zip that ``keep``s."""
    out = []
    with zipfile.ZipFile(path) as archive:
        for name in sorted(archive.namelist()):
            parts = name.split("/")
            if len(parts) != 3 or not keep(parts) or parts[1] not in CLASSES:
                continue
            rgb = np.asarray(Image.open(io.BytesIO(archive.read(name))).convert("RGB"))
            out.append((name, rgb[:, :, ::-1].copy(), CLASSES.index(parts[1])))
    return out


def detections(images, cache: Path, key: str, scale: int = 1):
    """Every image's detections, without and with the padded pass, cached in ``cache``."""
    store = json.loads(cache.read_text()) if cache.is_file() else {}
    if key not in store:
        found, start = {}, time.perf_counter()
        for name, image, _ in tqdm(images, desc=f"detect {key}", mininterval=5):
            big = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
            found[name] = {
                f"pad{pad}": [
                    {
                        "box": [v / scale for v in d.box],
                        "confidence": d.confidence,
                        "eyes": None
                        if d.eyes is None
                        else [[c / scale for c in e] for e in d.eyes],
                    }
                    for d in detect(big, pad=pad)
                ]
                for pad in (0.0, DETECT_PAD)
            }
        store[key] = {"seconds": round(time.perf_counter() - start, 1), "images": found}
        cache.write_text(json.dumps(store))
    return store[key]["images"]


def largest(found: list[dict], image: np.ndarray) -> Detection:
    """The largest detection, or the whole image as the box where nothing was found."""
    if not found:
        h, w = image.shape[:2]
        return Detection((0, 0, w, h))
    d = found[0]
    eyes = None if d["eyes"] is None else tuple(tuple(e) for e in d["eyes"])
    return Detection(tuple(d["box"]), d["confidence"], eyes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/fer_cnn.keras"))
    parser.add_argument("--wild", type=Path, default=Path("../shared/data/wild/sfew.zip"))
    parser.add_argument("--fer", type=Path, default=Path("../shared/data/fer2013/fer2013.zip"))
    parser.add_argument("--fer-every", type=int, default=3, help="score every n-th PublicTest face")
    parser.add_argument("--out", type=Path, default=Path("build/bench/face_crops.csv"))
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cache = args.out.with_name("detections.json")
    model = inference.load_model(args.model)
    if not inference.is_self_contained(model):  # a model released before crops were uint8
        tta = inference.record_of(args.model).get("calibration", {})
        model = inference.self_contained(
            model, bool(tta.get("tta_flip")), int(tta.get("tta_shift", 0))
        )
    sets = {
        "wild val (SFEW train)": read_zip(args.wild, lambda p: p[0] == "train"),
        "wild test (SFEW val)": read_zip(args.wild, lambda p: p[0] == "val"),
        "fer2013 val (PublicTest)": read_zip(
            args.fer, lambda p: p[0] == "test" and p[2].startswith("PublicTest")
        )[:: args.fer_every],
    }
    found = {
        name: detections(images, cache, name, scale=3 if name.startswith("fer") else 1)
        for name, images in sets.items()
    }
    print("\nRecall: share of images where a face was found")
    recall = pd.DataFrame(
        {
            name: {
                f"pad {pad}": np.mean([bool(found[name][n][f"pad{pad}"]) for n, _, _ in images])
                for pad in (0.0, DETECT_PAD)
            }
            for name, images in sets.items()
        }
    )
    print(recall.round(3).to_string())
    rows = []
    pad = f"pad{DETECT_PAD}"
    for name, images in sets.items():
        if name.startswith("wild test"):
            continue  # the test split is read once, by the evaluation, not to choose settings
        y = np.array([label for _, _, label in images])
        boxes = [largest(found[name][n][pad], image) for n, image, _ in images]
        if name.startswith("fer"):  # FER2013's own framing, as the network was trained on it
            x = np.stack([to_gray(image) for _, image, _ in images])
            rows.append(score(model, x, y, name, "as FER2013 cut it"))
        squashed = np.stack(
            [
                cv2.resize(squash(image, d.box), (48, 48), interpolation=cv2.INTER_AREA)
                for (_, image, _), d in zip(images, boxes, strict=True)
            ]
        )
        rows.append(score(model, squashed, y, name, "box resized (before)"))
        for margin, align, contrast in itertools.product(
            (0.0, 0.1, 0.2, 0.3, 0.4), (False, True), CONTRASTS
        ):
            x = np.stack(
                [
                    crop_face(image, d, margin=margin, align=align, contrast=contrast)
                    for (_, image, _), d in zip(images, boxes, strict=True)
                ]
            )
            rows.append(score(model, x, y, name, "square", settings=(margin, align, contrast)))
    table = pd.DataFrame(rows)
    table.to_csv(args.out, index=False)
    print("\nCrop settings (accuracy / macro-F1 of the network on each validation set)")
    wide = table.pivot_table(
        index=["crop", "margin", "align", "contrast"],
        columns="set",
        values=["accuracy", "macro_f1"],
        dropna=False,
    ).dropna(how="all")
    print(wide.round(3).to_string())


def squash(image: np.ndarray, box) -> np.ndarray:
    """The detector's box as it is, not squared: how annotation cut faces before."""
    gray = to_gray(image)
    x, y, w, h = (max(0, round(v)) for v in box)
    return gray[y : y + max(1, h), x : x + max(1, w)]


def score(model, x, y, name, crop, *, settings=(None, None, None)) -> dict:
    """One row: accuracy and macro-F1 on ``x``, cut by ``crop`` with ``settings``
    (margin, align, contrast)."""
    probs = inference.predict(model, x)
    pred = probs.argmax(axis=1)
    margin, align, contrast = settings
    return {
        "set": name,
        "crop": crop,
        "margin": margin,
        "align": align,
        "contrast": contrast,
        "accuracy": float(np.mean(pred == y)),
        "macro_f1": metrics.macro_f1(y, pred, len(CLASSES)),
    }


if __name__ == "__main__":
    main()
