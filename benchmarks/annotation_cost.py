"""Where the CPU time of annotating a call goes, stage by stage, and the floor it sets.

    python benchmarks/annotation_cost.py --seconds 600

On the composed 720p 3x3 gallery recording of ``benchmarks/annotation_speed.py``, sampled
at 2 frames per second, measures the CPU seconds (this process and its children) of each
stage of ``capstone annotate`` on its own, one after the other:

* decoding: :func:`capstone.calls.video_io.sample_frames` over the whole recording (FFmpeg);
* detection: MTCNN looking again for the known faces (every detection but the first);
* reading: cutting out the 9 faces of a frame and the released model's ONNX copy on them;
* the rest of a frame: who speaks, the drawing and the H.264 encoder of ``annotated.mp4``.

Detection, reading and the rest are timed on the first ``--sample`` sampled frames and
scaled to the whole recording. The floor: decoding and reading alone, spread perfectly over
the cores, against issue 49's target of 2.0 times the decode's wall time. Kept in
``benchmarks/results/annotation_cost.json``.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
from pathlib import Path

from annotation_speed import decode_seconds, h264_recording

from capstone.calls.image import draw
from capstone.calls.numbering import FrameNumbering
from capstone.calls.request import ReadingOptions
from capstone.calls.speakers import highlighted_tile
from capstone.calls.video_io import even, h264_writer, sample_frames
from capstone.model.onnx_copy import load_for_reading
from capstone.model.released import crop_settings_of
from capstone.paths import released_model
from capstone.provenance import save_benchmark
from capstone.reading.classify import classify_faces


def cpu() -> float:
    """CPU seconds of this process and its finished children so far."""
    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--sample", type=int, default=120, help="frames the per-frame stages see")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        video = h264_recording(Path(tmp), args.seconds, 3)
        decode_wall = decode_seconds(video)
        start, frames, kept = cpu(), 0, []
        for _, frame in sample_frames(video, 2.0):
            frames += 1
            if len(kept) < args.sample:
                kept.append(frame)
        decoding = cpu() - start

        numbering = FrameNumbering(ReadingOptions())
        numbering.number(kept[0], new_layout=True)
        start = cpu()
        for frame in kept:
            numbering.number(frame, new_layout=False)
        detection = (cpu() - start) / len(kept) * frames / ReadingOptions().detect_every

        model_file = released_model()
        model, crop = load_for_reading(model_file), crop_settings_of(model_file)
        boxes = [face.box for face in numbering.faces]
        classify_faces(kept[0], model, boxes=boxes, crop=crop)  # the session's first run
        start = cpu()
        readings = [classify_faces(frame, model, boxes=boxes, crop=crop) for frame in kept]
        reading = (cpu() - start) / len(kept) * frames

        start = cpu()
        writer = h264_writer(Path(tmp) / "annotated.mp4", kept[0].shape, 2.0)
        for frame, faces in zip(kept, readings, strict=True):
            highlighted_tile(frame)
            writer.send(even(draw(frame, faces)))
        writer.close()
        rest = (cpu() - start) / len(kept) * frames

    faces = len(boxes)
    stages = {
        "decoding (FFmpeg, sampled frames)": decoding,
        "detection (every 4th frame)": detection,
        f"reading {faces} faces a frame": reading,
        "who speaks, drawing, H.264 encoding": rest,
    }
    floor = (decoding + reading) / cores
    print(f"{frames} frames sampled from {args.seconds} s; the decode alone: {decode_wall:.1f} s\n")
    print(f"{'stage':42}{'CPU s':>8}{'share':>8}")
    total = sum(stages.values())
    for name, seconds in stages.items():
        print(f"{name:42}{seconds:8.1f}{seconds / total:8.0%}")
    print(f"{'all':42}{total:8.1f}")
    print(
        f"\nfloor: decoding and reading alone on {cores} cores {floor:.1f} s, "
        f"{floor / decode_wall:.2f}x the decode (target at most 2.0); everything: "
        f"{total / cores:.1f} s, {total / cores / decode_wall:.2f}x"
    )
    summary = (
        f"{total:.0f} CPU-s for a {args.seconds // 60}-minute call: decoding {decoding:.0f}, "
        f"reading {reading:.0f}, detection {detection:.0f}, the rest {rest:.0f}; decoding and "
        f"reading alone on {cores} cores take {floor / decode_wall:.2f}x the decode"
    )
    results = {
        "seconds": args.seconds,
        "sampled_frames": frames,
        "faces_per_frame": faces,
        "cores": cores,
        "decode_seconds": round(decode_wall, 1),
        "cpu_seconds": {name: round(float(seconds), 1) for name, seconds in stages.items()},
        "floor_seconds": round(float(floor), 1),
        "floor_x_decode": round(float(floor / decode_wall), 2),
        "all_x_decode": round(float(total / cores / decode_wall), 2),
        "crops_per_cpu_second": round(float(faces * frames / reading), 1),
        "summary": summary,
    }
    print(f"kept in {save_benchmark('annotation_cost', results, model=model_file)}")


if __name__ == "__main__":
    main()
