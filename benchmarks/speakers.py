"""Who speaks and who is who, on a composed call with a known script: accuracy and cost.

    python benchmarks/speakers.py                  # the released model, MTCNN
    python benchmarks/speakers.py --seconds 60 --detector haar

A 2x2 call of four participants (one portrait in four looks and lights,
:func:`capstone.synthetic.layouts.people`) is written with a scripted sequence of speakers: the
app's outline on the speaker's tile, speech in the audio track, the tiles reordered at a
quarter of the call, a switch to speaker view (the speaker in the main tile) at half, one
participant leaving and coming back in the last quarter. ``capstone.calls.video.annotate_video``
reads it twice, with and without the speaker and identity work, and the script scores it:

* speaking: the share of face samples whose ``speaking`` matches the script;
* identity: the share of face samples carrying their participant's id (the id most of
  that participant's samples carry, each id counted for one participant only);
* talk time: each participant's ``talk_seconds`` against the script;
* cost: the time the speaker and identity work adds to annotation.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import cbook

from capstone.calls.request import CallRequest, ReadingOptions
from capstone.calls.result import CallResult
from capstone.calls.video import annotate_video
from capstone.media import load_image
from capstone.model.released import load_model
from capstone.paths import released_model
from capstone.provenance import save_benchmark
from capstone.synthetic.calls import person_at, scripted_call, write_call
from capstone.synthetic.layouts import HOPPER_FACE, people


def scores(
    timeline: pd.DataFrame, summary: CallResult, turns: list, frames: list, fps: int
) -> dict:
    table = timeline.assign(
        person=[person_at(frames, r.time, (r.x, r.y, r.w, r.h), fps) for r in timeline.itertuples()]
    )
    table["truth"] = [
        any(p == r.person and a <= r.time < b for p, a, b in turns) for r in table.itertuples()
    ]
    said = table["speaking"]
    majority = table.groupby("person")["participant"].agg(lambda s: s.value_counts().index[0])
    kept = table["participant"] == table["person"].map(majority)
    talk_truth = table[table["truth"]].groupby("person").size() / 2  # 2 samples per second
    talk = {
        p: summary.participants[pid].talk_seconds if pid in summary.participants else 0.0
        for p, pid in majority.items()
    }
    errors = [abs(talk[p] - talk_truth.get(p, 0.0)) / talk_truth.get(p, np.nan) for p in talk]
    return {
        "face samples": len(table),
        "speaking right": round(float(np.mean(said.fillna(False) == table["truth"])), 4),
        "speaking unknown": round(float(np.mean(said.isna())), 4),
        "identity kept": round(float(kept.mean()), 4),
        "distinct ids": len(set(majority)) == len(majority),
        "talk time error (largest)": round(float(np.nanmax(errors)), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--fps", type=int, default=10, help="of the composed recording")
    parser.add_argument("--detector", default="mtcnn", choices=["mtcnn", "haar"])
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()
    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    turns, scenes = scripted_call(args.seconds)
    model_file = args.model or released_model()
    model = load_model(model_file)
    options = ReadingOptions(detector=args.detector).for_model(model_file)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "call.mp4"
        looks = people(hopper, HOPPER_FACE)
        frames = write_call(looks, video, turns, args.seconds, fps=args.fps, scenes=scenes)
        for speakers in (False, True):
            start = time.perf_counter()
            out = Path(tmp) / f"out_{speakers}"
            summary = annotate_video(
                video,
                model,
                out,
                request=CallRequest(use="research", options=options),
                speakers=speakers,
                progress=False,
            )  # research use: every face is classified, the most work there is to add to
            seconds = time.perf_counter() - start
            timeline = summary.timeline
            label = "with speakers and identity" if speakers else "position only"
            rows[label] = scores(timeline, summary, turns, frames, args.fps) | {
                "annotation (s)": round(seconds, 1)
            }
    table = pd.DataFrame(rows).T
    base, full = table["annotation (s)"].iloc[0], table["annotation (s)"].iloc[1]
    print(
        f"\nA {args.seconds}-second composed 2x2 call, {len(turns)} turns, sampled at 2 frames/s "
        f"({args.detector}); tiles reorder, speaker view, a participant leaves and returns"
    )
    print(table.to_string())
    print(f"\nthe speaker and identity work adds {full / base - 1:+.1%} to annotation time")
    book = {  # the book's table, a row per reading
        label: f"{r['face samples']} | {r['speaking right']:.1%} | {r['speaking unknown']:.0%} | "
        f"{r['identity kept']:.1%} | {r['talk time error (largest)']:.0%} | "
        f"{r['annotation (s)']:.1f} s"
        for label, r in rows.items()
    }
    record = {"seconds": args.seconds, "detector": args.detector, "rows": rows, "table": book}
    path = save_benchmark(
        "speakers", record | {"added": f"{full / base - 1:+.1%}"}, model=model_file
    )
    print(f"kept in {path}")


if __name__ == "__main__":
    main()
