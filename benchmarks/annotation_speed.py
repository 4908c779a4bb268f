"""Annotation speed and memory on a 720p gallery-view recording, against the ``fer`` package.

    python benchmarks/annotation_speed.py --seconds 600 --tiles 3 --fps 2
    python benchmarks/annotation_speed.py --seconds 60 --profile     # where the time goes

Composes an H.264 recording from matplotlib's Grace Hopper photo (``--tiles`` x ``--tiles``
gallery, 1280x720, 30 frames per second, each tile slowly zooming), then, in one run:

* ours: ``capstone.calls.video.annotate_video`` with the released model and the default
  detector (MTCNN), detection on every 4th sampled frame, every face classified (the
  ``research`` use: the most work there is), all outputs written (timeline, figures,
  H.264 video, report);
* the peer: the ``fer`` package's per-frame API, ``FER().detect_emotions(frame)`` (its
  default Haar detector and TFLite model) on the same sampled frames. It needs
  ``pip install --no-deps fer`` plus ``requests`` and ``setuptools<81`` (it imports
  ``pkg_resources``); without them the peer is left out.

Prints the sampled frames per second of each and the peak memory (resident set) of this
process, and keeps them in ``benchmarks/results/annotation_speed_<seconds>s.json`` (not with
``--profile``, whose profiler slows ours down). The targets: a 10-minute recording in at most 2.5 minutes on 2 cores, at least as
fast as ``fer``; a 60-minute one under 1.5 GB.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import pstats
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from matplotlib import cbook

from capstone.calls.request import CallRequest, ReadingOptions
from capstone.calls.video import annotate_video, sample_frames
from capstone.media import load_image
from capstone.model.released import crop_settings_of, load_model
from capstone.paths import released_model
from capstone.provenance import save_benchmark
from capstone.synthetic.calls import write_recording
from capstone.synthetic.layouts import HOPPER_FACE


def h264_recording(folder: Path, seconds: int, tiles: int) -> Path:
    """The composed recording, re-encoded to H.264 as call apps record.

    Longer than a minute, it is its first minute over again (the zoom repeats every 10 s,
    so the seams do not show), joined without re-encoding: a 60-minute recording takes
    seconds to make, not half an hour.
    """
    import imageio_ffmpeg

    ffmpeg = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error"]
    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    minute = min(seconds, 60)
    raw = write_recording(hopper, HOPPER_FACE, folder / "raw.mp4", minute, fps=30, n=tiles)
    video = folder / "minute.mp4"
    command = [*ffmpeg, "-i", str(raw), "-c:v", "libx264", "-preset", "veryfast"]
    subprocess.run([*command, "-pix_fmt", "yuv420p", str(video)], check=True)
    raw.unlink()
    if seconds > minute:
        repeats = str(math.ceil(seconds / minute) - 1)
        command = [*ffmpeg, "-stream_loop", repeats, "-i", str(video), "-t", str(seconds)]
        subprocess.run([*command, "-c", "copy", str(folder / "call.mp4")], check=True)
        video.unlink()
        return folder / "call.mp4"
    return video.rename(folder / "call.mp4")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fer_speed(video: Path, fps: float) -> tuple[int, float] | None:
    """Sampled frames and seconds of the ``fer`` package's per-frame API, or None."""
    try:
        from fer.fer import FER
    except ImportError as err:
        print(f"fer: not measured ({err})")
        return None
    peer = FER()
    start = time.perf_counter()
    frames = 0
    for _, frame in sample_frames(video, fps):
        peer.detect_emotions(frame)
        frames += 1
    return frames, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--tiles", type=int, default=3)
    parser.add_argument("--fps", type=float, default=2.0)
    parser.add_argument("--detect-every", type=int, default=4)
    parser.add_argument("--profile", action="store_true", help="print where our time goes")
    parser.add_argument("--no-peer", action="store_true", help="leave out the fer package")
    args = parser.parse_args()
    start = time.perf_counter()
    model_file = released_model()
    model, crop = load_model(model_file), crop_settings_of(model_file)
    print(f"start-up (model load): {time.perf_counter() - start:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        video = h264_recording(Path(tmp), args.seconds, args.tiles)
        sampled = sum(1 for _ in sample_frames(video, args.fps))
        print(
            f"{args.seconds} s of 720p H.264 at 30 frames/s, {args.tiles}x{args.tiles} gallery: "
            f"{sampled} frames sampled at {args.fps:g}/s"
        )
        profile = cProfile.Profile() if args.profile else None
        start = time.perf_counter()
        if profile:
            profile.enable()
        options = ReadingOptions(fps=args.fps, detect_every=args.detect_every, crop=crop)
        annotate_video(
            video,
            model,
            Path(tmp) / "out",
            request=CallRequest(use="research", options=options),
            progress=False,
        )
        if profile:
            profile.disable()
        ours = time.perf_counter() - start
        memory = peak_mb()
        peer = None if args.no_peer else fer_speed(video, args.fps)
    print(f"\n{'':28}{'seconds':>9}{'frames/s':>10}{'10 minutes':>12}")
    rows = [("capstone (MTCNN, all faces)", sampled, ours)]
    if peer:
        rows.append(("fer (Haar, TFLite)", *peer))
    for name, frames, seconds in rows:
        ten = seconds * 600 / args.seconds
        print(f"{name:28}{seconds:9.1f}{frames / seconds:10.2f}{ten / 60:10.1f} min")
    ten = ours * 600 / args.seconds
    print(f"\n10-minute estimate {ten:.0f} s: {'meets' if ten <= 150 else 'misses'} 2.5 min")
    if peer:
        print(f"ours / fer time: {ours / peer[1]:.2f} ({'meets' if ours <= peer[1] else 'misses'})")
    print(f"peak memory of this process after ours: {memory:.0f} MB")
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        return
    minutes = f"{args.seconds / 60:g}-minute" if args.seconds >= 60 else f"{args.seconds}-second"
    call = f"annotate a {minutes} 720p {args.tiles}x{args.tiles} gallery call at {args.fps:g} fps"
    figure = f"{ours:.0f} s" + (f" (`fer`: {peer[1]:.0f} s)" if peer else "")
    results = {
        "seconds": args.seconds,
        "tiles": args.tiles,
        "fps": args.fps,
        "detect_every": args.detect_every,
        "sampled_frames": sampled,
        "ours_seconds": round(ours, 1),
        "fer_seconds": round(peer[1], 1) if peer else None,
        "peak_mb": round(memory),
        "summary": {call: figure, f"peak memory, {minutes} call": f"{memory:.0f} MB"},
    }
    print(
        f"kept in {save_benchmark(f'annotation_speed_{args.seconds}s', results, model=model_file)}"
    )


if __name__ == "__main__":
    main()
