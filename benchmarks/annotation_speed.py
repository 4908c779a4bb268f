"""Annotation speed and memory on a 720p gallery-view recording, against the ``fer`` package
and against decoding the recording alone.

    python benchmarks/annotation_speed.py --seconds 600 --tiles 3 --fps 2
    python benchmarks/annotation_speed.py --seconds 60 --profile     # where the time goes

Composes an H.264 recording from matplotlib's Grace Hopper photo (``--tiles`` x ``--tiles``
gallery, 1280x720, 30 frames per second, each tile slowly zooming), then, in one run, each
as a whole command of its own (start-up included):

* the decode: ``ffmpeg -threads 2 -i REC -f null -``, the floor for anything that reads
  every frame;
* ours: ``capstone annotate REC --fps 2 --use research`` (the released model, the default
  detector, every face read: the most work there is; every output written: timeline,
  figures, H.264 video, report), with its peak memory (resident set);
* the peer: the ``fer`` package's per-frame API, ``FER().detect_emotions(frame)`` (its
  default Haar detector and TFLite model), on the same sampled frames, in a Python process of
  its own. It needs ``pip install --no-deps fer`` plus ``requests`` and ``setuptools<81``
  (it imports ``pkg_resources``); without them the peer is left out.

With ``--repeat N`` it runs the three N times in rounds (the machines' speed drifts by
minutes: a round puts the three side by side) and reports the medians, each round kept.
Prints the seconds and sampled frames per second of each, and our CPU seconds, and keeps them in
``benchmarks/results/annotation_speed_<seconds>s.json`` (not with ``--profile``, which runs
ours in this process under cProfile instead). Issue 49's targets: ours at most 2.0x the
decode and at least 3x faster than ``fer`` on 10 minutes, at least 1.5x faster than ``fer``
on 60 seconds, and at most 1.5 GB for 60 minutes.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from matplotlib import cbook

from capstone.calls.request import CallRequest, ReadingOptions
from capstone.calls.video import annotate_video
from capstone.calls.video_io import frame_count
from capstone.media import load_image
from capstone.model.onnx_copy import load_for_reading
from capstone.model.released import crop_settings_of
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


PEER = """
import sys, time
start = time.perf_counter()
from fer.fer import FER
from capstone.calls.video_io import sample_frames
peer, frames = FER(), 0
for _, frame in sample_frames(sys.argv[1], float(sys.argv[2])):
    peer.detect_emotions(frame)
    frames += 1
print(frames, time.perf_counter() - start)
"""


def children_cpu() -> float:
    """CPU seconds (user and system) of this process's finished children so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(command: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Seconds a command took, and how it ended (an error is raised with its output)."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]}... failed:\n{done.stderr[-2000:]}")
    return seconds, done


def decode_seconds(video: Path) -> float:
    """Seconds FFmpeg takes to decode every frame of ``video`` on 2 threads, nothing else."""
    import imageio_ffmpeg

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    return timed([ffmpeg, "-v", "error", "-threads", "2", "-i", str(video), "-f", "null", "-"])[0]


def fer_seconds(video: Path, fps: float) -> float | None:
    """Seconds the ``fer`` package takes over the sampled frames, start-up included, or None."""
    try:
        import fer  # noqa: F401 -- only whether it is there
    except ImportError as err:
        print(f"fer: not measured ({err})")
        return None
    return timed([sys.executable, "-c", PEER, str(video), str(fps)])[0]


def profile_ours(video: Path, out: Path, args: argparse.Namespace) -> None:
    """Ours in this process, under cProfile: where the time goes."""
    model_file = released_model()
    model, crop = load_for_reading(model_file), crop_settings_of(model_file)
    options = ReadingOptions(fps=args.fps, detect_every=args.detect_every, crop=crop)
    profile = cProfile.Profile()
    profile.enable()
    annotate_video(
        video, model, out, request=CallRequest(use="research", options=options), progress=False
    )
    profile.disable()
    pstats.Stats(profile).sort_stats("cumulative").print_stats(30)


def rounds(
    video: Path, tmp: Path, args: argparse.Namespace
) -> tuple[dict[str, list[float]], float]:
    """The seconds of the decode, ours (and its CPU seconds) and the peer, ``args.repeat``
    times in rounds, and our peak memory in MB."""
    command = [sys.executable, "-m", "capstone.cli", "annotate", str(video)]
    command += ["--fps", str(args.fps), "--detect-every", str(args.detect_every)]
    runs: dict[str, list[float]] = {"decode": [], "ours": [], "ours_cpu": [], "fer": []}
    memory = 0.0
    for n in range(args.repeat):  # rounds: a drift of the machine's speed hits all three
        runs["decode"].append(decode_seconds(video))
        cpu = children_cpu()
        runs["ours"].append(timed([*command, "--use", "research", "--out", f"{tmp}/out{n}"])[0])
        runs["ours_cpu"].append(children_cpu() - cpu)
        if n == 0:  # the largest child so far: ours (fer's process, with TensorFlow, is next)
            memory = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        peer = None if args.no_peer else fer_seconds(video, args.fps)
        if peer is not None:
            runs["fer"].append(peer)
    return runs, memory


def summary_figure(decode: float, ours: float, peer: float | None, repeat: int) -> str:
    """The README's figure for one recording. Ratios to 2 decimals: one rounded up to the
    target (2.95 to 3.0) would read as the target met."""
    figure = f"{ours:.0f} s, {ours / decode:.2f}x the decode ({decode:.0f} s)"
    figure += f"; `fer`: {peer:.0f} s ({peer / ours:.2f}x ours)" if peer else ""
    return figure + (f" (medians of {repeat} rounds)" if repeat > 1 else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--tiles", type=int, default=3)
    parser.add_argument("--fps", type=float, default=2.0)
    parser.add_argument("--detect-every", type=int, default=4)
    parser.add_argument("--profile", action="store_true", help="print where our time goes")
    parser.add_argument("--no-peer", action="store_true", help="leave out the fer package")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of all three (medians)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        video = h264_recording(Path(tmp), args.seconds, args.tiles)
        frames, native = frame_count(video)
        sampled = math.ceil(frames / native * args.fps)  # as annotate_video counts them
        print(
            f"{args.seconds} s of 720p H.264 at 30 frames/s, {args.tiles}x{args.tiles} gallery: "
            f"{sampled} frames sampled at {args.fps:g}/s"
        )
        if args.profile:
            profile_ours(video, Path(tmp) / "out", args)
            return
        runs, memory = rounds(video, Path(tmp), args)
    decode, ours = statistics.median(runs["decode"]), statistics.median(runs["ours"])
    peer = statistics.median(runs["fer"]) if runs["fer"] else None
    if args.repeat > 1:
        print(
            f"\nmedians of {args.repeat} rounds; each round: "
            + "; ".join(
                f"{name} {', '.join(f'{v:.1f}' for v in values)}"
                for name, values in runs.items()
                if values
            )
        )
    print(f"\n{'whole command':34}{'seconds':>9}{'frames/s':>10}{'x decode':>10}")
    rows = [("decode (ffmpeg, 2 threads)", decode), ("capstone annotate (research)", ours)]
    if peer:
        rows.append(("fer (Haar, TFLite)", peer))
    for name, seconds in rows:
        print(f"{name:34}{seconds:9.1f}{sampled / seconds:10.2f}{seconds / decode:10.2f}")
    print(f"\nours / decode: {ours / decode:.2f} (target at most 2.0)")
    if peer:
        print(f"fer / ours: {peer / ours:.2f} (target at least 3 on 10 minutes, 1.5 on 1)")
    print(f"peak memory of ours: {memory:.0f} MB")
    busy = statistics.median(runs["ours_cpu"])
    print(f"CPU time of ours: {busy:.0f} s ({busy / ours:.2f} of the cores busy on average)")
    minutes = f"{args.seconds / 60:g}-minute" if args.seconds >= 60 else f"{args.seconds}-second"
    call = f"annotate a {minutes} 720p {args.tiles}x{args.tiles} gallery call at {args.fps:g} fps"
    figure = summary_figure(decode, ours, peer, args.repeat)
    results = {
        "seconds": args.seconds,
        "tiles": args.tiles,
        "fps": args.fps,
        "detect_every": args.detect_every,
        "sampled_frames": sampled,
        "decode_seconds": round(decode, 1),
        "ours_seconds": round(ours, 1),
        "ours_cpu_seconds": round(statistics.median(runs["ours_cpu"]), 1),
        "rounds": {name: [round(v, 1) for v in values] for name, values in runs.items()},
        "fer_seconds": round(peer, 1) if peer else None,
        "peak_mb": round(memory),
        "summary": {call: figure, f"peak memory, {minutes} call": f"{memory:.0f} MB"},
    }
    model = released_model()
    print(f"kept in {save_benchmark(f'annotation_speed_{args.seconds}s', results, model=model)}")


if __name__ == "__main__":
    main()
