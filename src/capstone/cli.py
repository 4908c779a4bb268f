"""The ``capstone`` command: ``pipeline``, ``book``, ``release`` and ``annotate``.

Errors the project raises on purpose are printed as one clear message (exit status 2);
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from capstone.errors import CapstoneError
from capstone.params import STAGES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="capstone",
        description="Perceived facial-expression analytics for sales calls.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    pipe = sub.add_parser("pipeline", help="run the notebooks that are out of date, then the book")
    pipe.add_argument(
        "--params", default="params/sample.yaml", help="profile (default: %(default)s)"
    )
    pipe.add_argument("--root", default=".", help="project folder (default: current folder)")
    pipe.add_argument("--force", action="store_true", help="rerun every stage")
    pipe.add_argument("--from", dest="from_stage", choices=STAGES, help="rerun from this stage on")
    pipe.add_argument("--to", dest="to_stage", choices=STAGES, help="stop after this stage")
    pipe.add_argument(
        "--only",
        choices=STAGES,
        help="run just this stage on the existing outputs of the earlier ones (development)",
    )
    pipe.add_argument("--no-book", action="store_true", help="skip building the book")

    book = sub.add_parser("book", help="rebuild only the book from the executed notebooks")
    book.add_argument("--params", default="params/sample.yaml")
    book.add_argument("--root", default=".")

    rel = sub.add_parser("release", help="publish the evaluated final model to models/")
    rel.add_argument("--params", required=True, help="the profile that trained it")
    rel.add_argument("--root", default=".")

    ann = sub.add_parser(
        "annotate",
        help="annotate faces in call screenshots and recordings with perceived expressions",
    )
    ann.add_argument(
        "inputs",
        nargs="+",
        type=Path,
        help="images (png, jpg, webp) and videos (mp4, mov, webm, mkv)",
    )
    ann.add_argument("--fps", type=float, default=2.0, help="video frames sampled per second")
    ann.add_argument(
        "--detect-every", type=int, default=4, help="run face detection on every n-th sampled frame"
    )
    ann.add_argument("--call", type=Path, help="call metadata YAML: rep, prospects, stages")
    ann.add_argument("--out", type=Path, required=True, help="output folder")
    ann.add_argument(
        "--model",
        type=Path,
        help="a trained .keras model (default: the released models/fer_cnn.keras)",
    )
    ann.add_argument(
        "--detector",
        choices=["mtcnn", "haar"],
        default="mtcnn",
        help="face detector (default: %(default)s)",
    )
    ann.add_argument("--min-face", type=int, default=24, help="smallest face side to classify (px)")
    ann.add_argument(
        "--uncertain-below",
        type=float,
        help="label faces below this top probability as uncertain (default: the model's "
        "calibrated threshold, else 0.4)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Processes started in the background by a shell, or by some test runners, inherit an
    # ignored SIGINT; restore Ctrl-C so an interrupted run always stops cleanly.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if args.command == "pipeline":
            from capstone import pipeline

            pipeline.run(
                args.params,
                args.root,
                force=args.force,
                from_stage=args.from_stage,
                to_stage=args.to_stage,
                only=args.only,
                book=not args.no_book,
            )
        elif args.command == "book":
            from capstone import pipeline
            from capstone.params import load
            from capstone.paths import ProjectPaths

            paths = ProjectPaths(args.root)
            pipeline.build_book(paths, load(paths.root / args.params, args.root))
        elif args.command == "release":
            from capstone import release
            from capstone.params import load
            from capstone.paths import ProjectPaths

            paths = ProjectPaths(args.root)
            model = release.publish(paths, load(paths.root / args.params, args.root))
            print(f"released {model} (model card: {model.parent / 'README.md'})")
        else:
            return _annotate(args)
    except CapstoneError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # read-only or full disk, a file where a folder should be, ...
        print(f"error: {_os_error(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted: completed stages are kept; run the same command to resume",
            file=sys.stderr,
        )
        return 130
    return 0


def _annotate(args: argparse.Namespace) -> int:
    from capstone.annotation import IMAGE_SUFFIXES, annotate_image, summary
    from capstone.inference import crop_settings_of, load_model, released_model, uncertain_below_of
    from capstone.video import VIDEO_SUFFIXES, annotate_video, load_call_info, summary_markdown

    model_file = args.model or released_model()
    model = load_model(model_file)
    options = {
        "crop": crop_settings_of(model_file),
        "detector": args.detector,
        "min_face": args.min_face,
        "uncertain_below": uncertain_below_of(model_file)
        if args.uncertain_below is None
        else args.uncertain_below,
    }
    call = load_call_info(args.call)
    records, videos, failed = [], 0, 0
    for path in args.inputs:
        try:  # one bad input never loses the others' outputs
            if path.suffix.lower() not in (*IMAGE_SUFFIXES, *VIDEO_SUFFIXES):
                raise CapstoneError(
                    f"{path}: not an image or a video; supported: "
                    + ", ".join((*IMAGE_SUFFIXES, *VIDEO_SUFFIXES))
                )
            if path.suffix.lower() in VIDEO_SUFFIXES:
                result = annotate_video(
                    path,
                    model,
                    args.out,
                    fps=args.fps,
                    detect_every=args.detect_every,
                    call=call,
                    **options,
                )
                print(summary_markdown(result))
                videos += 1
            else:
                records.append(annotate_image(path, model, args.out, **options))
        except CapstoneError as err:
            print(f"error: {err}", file=sys.stderr)
            failed += 1
        except OSError as err:
            print(f"error: {path}: {_os_error(err)}", file=sys.stderr)
            failed += 1
    if records:
        print(summary(records))
    print(f"wrote {len(records)} annotated image(s) and {videos} video(s) to {args.out}")
    return 2 if failed else 0


def _os_error(err: OSError) -> str:
    where = f" {err.filename}" if err.filename else ""
    return (
        f"cannot write{where}: {err.strerror or err}. Check that the output folder is "
        "writable and the disk has space, or choose another folder; finished outputs are kept."
    )


if __name__ == "__main__":
    sys.exit(main())
