"""What writing ``annotated.mp4`` costs: x264's settings, by CPU time and file size.

    python benchmarks/encoding.py --seconds 120

Takes the frames ``capstone annotate`` would write (a composed 720p 3x3 gallery recording,
sampled at 2 per second), once, as raw pictures, then encodes them to H.264 with each
setting below in a process of its own, and prints the CPU seconds each took and the size of
its file. At the same constant-quality setting (x264's default CRF 23), the pictures look
alike; the settings differ in how hard x264 searches for the cheapest way to say them.
Kept in ``benchmarks/results/encoding.json``.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from annotation_speed import children_cpu, h264_recording

from capstone.calls.video_io import X264_FAST, ffmpeg_exe
from capstone.provenance import save_benchmark

SETTINGS = {
    "veryfast": ["-preset", "veryfast"],
    "ours: veryfast, diamond search, one refinement": X264_FAST,
    "superfast": ["-preset", "superfast"],
    "ultrafast": ["-preset", "ultrafast"],
}


def encode(raw: Path, out: Path, setting: list[str]) -> tuple[float, float, float]:
    """Seconds, CPU seconds and megabytes of encoding ``raw`` (1280x720 BGR at 2/s)."""
    command = [ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24"]
    command += ["-s", "1280x720", "-r", "2", "-i", str(raw), "-c:v", "libx264", *setting]
    cpu, start = children_cpu(), time.perf_counter()
    subprocess.run([*command, "-pix_fmt", "yuv420p", str(out)], check=True)
    return time.perf_counter() - start, children_cpu() - cpu, out.stat().st_size / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=120)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        video, raw = h264_recording(Path(tmp), args.seconds, 3), Path(tmp) / "frames.bgr"
        command = [ffmpeg_exe(), "-v", "error", "-i", str(video), "-vf", "fps=2"]
        subprocess.run([*command, "-pix_fmt", "bgr24", "-f", "rawvideo", str(raw)], check=True)
        frames = raw.stat().st_size // (1280 * 720 * 3)
        print(f"{frames} frames of 1280x720 (a {args.seconds}-s call sampled at 2/s)\n")
        print(f"{'setting':50}{'CPU s':>8}{'MB':>8}")
        rows = {}
        for name, setting in SETTINGS.items():
            seconds, cpu, mb = encode(raw, Path(tmp) / "out.mp4", setting)
            rows[name] = {
                "seconds": round(seconds, 1),
                "cpu_seconds": round(cpu, 1),
                "mb": round(mb, 1),
            }
            print(f"{name:50}{cpu:8.1f}{mb:8.1f}")
    base, ours = rows["veryfast"], rows["ours: veryfast, diamond search, one refinement"]
    summary = (
        f"{ours['cpu_seconds'] / base['cpu_seconds']:.0%} of veryfast's CPU time, "
        f"files {ours['mb'] / base['mb']:.2f}x its size"
    )
    print(f"\nours: {summary}")
    results = {"seconds": args.seconds, "frames": frames, "settings": rows, "summary": summary}
    print(f"kept in {save_benchmark('encoding', results)}")


if __name__ == "__main__":
    main()
