"""A folder of recordings on one worker and on several: the speed-up of ``--workers``.

    python benchmarks/library_speed.py --recordings 4 --seconds 60 --workers 2

Composes ``--recordings`` H.264 recordings like ``annotation_speed.py`` does (720p 3x3
gallery, 30 frames per second), then annotates the folder with
``capstone.library.annotate.annotate_library`` (the released model, MTCNN, every face classified),
once with one worker (in this process) and once with ``--workers`` Dask worker processes
(their start-up included), each into a fresh output folder. The target: 2 workers at
least 1.7x faster than one on 4 recordings.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from annotation_speed import h264_recording

from capstone.calls.request import CallRequest
from capstone.library.annotate import annotate_library
from capstone.paths import released_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    model = released_model().resolve()
    request = CallRequest(use="research")  # every face read: the most work there is
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "calls"
        folder.mkdir()
        first = h264_recording(Path(tmp), args.seconds, 3)
        for i in range(args.recordings):
            shutil.copy(first, folder / f"call{i + 1}.mp4")
        took, busy = {}, {}
        for workers in (1, args.workers):
            start, cpu = time.perf_counter(), os.times()
            done = annotate_library(
                [folder], Path(tmp) / f"out{workers}", request, model, workers=workers, say=len
            )
            took[workers] = time.perf_counter() - start
            busy[workers] = cpu_seconds(os.times()) - cpu_seconds(cpu)
            assert len(done.written) == args.recordings, done.failed
    print(f"{args.recordings} recordings of {args.seconds} s (720p 3x3, 2 frames/s sampled)")
    for workers, seconds in took.items():
        cores = f"{busy[workers] / seconds:.2f} cores busy" if workers == 1 else ""
        print(f"{workers} worker(s): {seconds:.1f} s {cores}")
    ratio = took[1] / took[args.workers]
    verdict = "meets" if ratio >= 1.7 else "misses"
    print(f"speed-up with {args.workers} workers: {ratio:.2f}x ({verdict} 1.7x)")
    ceiling = os.cpu_count() / (busy[1] / took[1])
    print(
        f"ceiling on {os.cpu_count()} cores with one worker keeping that many busy: {ceiling:.2f}x"
    )


def cpu_seconds(times: os.times_result) -> float:
    """CPU time of this process and of its finished children (ffmpeg)."""
    return times.user + times.system + times.children_user + times.children_system


if __name__ == "__main__":
    main()
