"""Annotation speed on a 720p gallery-view recording: frames per second, and a 10-minute estimate.

    python benchmarks/annotation_speed.py --seconds 60 --tiles 3 --fps 2 --detect-every 4

Composes a recording from matplotlib's Grace Hopper photo (``--tiles`` x ``--tiles``
gallery, 1280x720, 30 frames per second), then times three things on it: decoding and
sampling alone, the whole annotation with the released model, and the whole annotation
with detection on every sampled frame. The target: a 10-minute 720p recording sampled at
2 frames per second in under 5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from matplotlib import cbook

from capstone.annotation import load_image
from capstone.inference import crop_settings_of, load_model, released_model
from capstone.layouts import HOPPER_FACE, write_recording
from capstone.video import annotate_video, sample_frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--tiles", type=int, default=3)
    parser.add_argument("--fps", type=float, default=2.0)
    parser.add_argument("--detect-every", type=int, default=4)
    args = parser.parse_args()
    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    model_file = released_model()
    model, crop = load_model(model_file), crop_settings_of(model_file)
    with tempfile.TemporaryDirectory() as tmp:
        video = write_recording(
            hopper, HOPPER_FACE, Path(tmp) / "call.mp4", args.seconds, fps=30, n=args.tiles
        )
        start = time.perf_counter()
        sampled = sum(1 for _ in sample_frames(video, args.fps))
        decode = time.perf_counter() - start
        print(
            f"{args.seconds} s of 720p at 30 fps, {args.tiles}x{args.tiles} gallery: {sampled} sampled frames"
        )
        print(f"decode and sample only: {decode:.1f} s")
        for every in (args.detect_every, 1):
            start = time.perf_counter()
            annotate_video(
                video,
                model,
                Path(tmp) / f"out{every}",
                fps=args.fps,
                detect_every=every,
                crop=crop,
                use="research",  # every face classified: the composed faces are not at work
                progress=False,
            )
            took = time.perf_counter() - start
            ten_minutes = took * 600 / args.seconds
            print(
                f"detect every {every} sampled frame(s): {took:.1f} s, {sampled / took:.2f} sampled "
                f"frames/s; a 10-minute recording: {ten_minutes / 60:.1f} min "
                f"({'meets' if ten_minutes < 300 else 'misses'} the 5-minute target)"
            )


if __name__ == "__main__":
    main()
