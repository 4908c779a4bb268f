"""The ``capstone`` command: ``pipeline``, ``book``, ``release``, ``annotate``, ``app``, and
the app's ``users``, ``retention`` and ``erase`` (:mod:`capstone.app.commands`).

Exit status: 0 when everything worked; 1 when ``annotate`` could not read some of its
inputs (each is reported, and the others are annotated); 2 when the command stopped: a
usage error, or an error the project raises on purpose, printed as one clear message. No
traceback reaches the user: an unexpected error is printed in one line, with its traceback
saved to a log file named in the message.
"""

from __future__ import annotations

import argparse
import errno
import math
import signal
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from capstone.app import commands as app_commands
from capstone.calls.metadata import DEFAULT_USE, USES
from capstone.calls.request import DETECTORS, ReadingOptions
from capstone.errors import CapstoneError
from capstone.formats import IMAGE_SUFFIXES, VIDEO_SUFFIXES, listed
from capstone.pipeline.stages import NAMES as STAGES
from capstone.progress import show_progress

DEFAULTS = ReadingOptions()  # every option's default, said once in capstone.calls.request


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
    rel.add_argument("--params", help="the profile that trained it")
    rel.add_argument(
        "--card-only",
        action="store_true",
        help="only write the model card (models/README.md) again from models/fer_cnn.json",
    )
    rel.add_argument("--root", default=".")

    app = sub.add_parser("app", help="start the manager's app (Streamlit) on a folder of calls")
    app.add_argument(
        "--data",
        type=Path,
        required=True,
        help="the app's folder: its database and calls (empty: the demo library is made)",
    )
    app.add_argument(
        "--host", default="127.0.0.1", help="address to serve on (default: %(default)s)"
    )
    app.add_argument("--port", type=int, default=8501, help="port (default: %(default)s)")
    app.add_argument(
        "--workers",
        type=_number(int, 0, 256),
        help="annotation worker processes on this machine (default: capstone.toml's, or 1)",
    )
    app.add_argument(
        "--database-url",
        help="a database URL, e.g. postgresql://USER@HOST/NAME (default: CAPSTONE_DATABASE_URL, "
        "else capstone.toml in --data, else SQLite in --data)",
    )
    app.add_argument(
        "--scheduler",
        help="hand the annotation jobs to a Dask cluster: its scheduler's address, e.g. "
        "tcp://host:8786 (default: CAPSTONE_SCHEDULER, else capstone.toml's, else workers here)",
    )

    ann = sub.add_parser(
        "annotate",
        help="annotate faces in call screenshots and recordings with perceived expressions",
    )
    ann.add_argument(
        "inputs",
        nargs="+",
        type=Path,
        help=f"images ({listed(IMAGE_SUFFIXES)}), videos ({listed(VIDEO_SUFFIXES)}), and "
        "folders of them (searched recursively)",
    )
    ann.add_argument(
        "--fps",
        type=_number(float, 0, 120, low_open=True),
        default=DEFAULTS.fps,
        help="video frames sampled per second, above 0 and at most 120 (default: %(default)s)",
    )
    ann.add_argument(
        "--detect-every",
        type=_number(int, 1, 1000),
        default=DEFAULTS.detect_every,
        help="run face detection on every n-th sampled frame (default: %(default)s)",
    )
    ann.add_argument(
        "--call",
        type=Path,
        help="call metadata YAML: rep, staff, prospects, informed, stages (ids as the outputs "
        "show them: P1, P2, ...)",
    )
    ann.add_argument(
        "--use",
        choices=USES,
        default=DEFAULT_USE,
        help="whose expressions are read: customers (default): only the prospects the call "
        "metadata names, never staff or unnamed faces (EU AI Act Art. 5(1)(f)); self-review: "
        "a rep's own call, for the rep alone; research: faces not at work (datasets, films)",
    )
    ann.add_argument(
        "--out",
        type=Path,
        help="output folder: a report per input, index.html, trends.png and store/ (Parquet)",
    )
    ann.add_argument(
        "--data",
        type=Path,
        help="instead of --out: add each input as a call to the app's folder (capstone app "
        "--data), with --call's who-is-who, and annotate it there",
    )
    ann.add_argument("--owner", help="with --data: the rep whose calls these are (a user)")
    ann.add_argument(
        "--workers",
        type=_number(int, 1, 256),
        default=1,
        help="annotate this many inputs at once, in processes on this machine (default: 1)",
    )
    ann.add_argument(
        "--scheduler",
        help="run on a Dask cluster instead: its scheduler's address, e.g. tcp://host:8786 "
        "(the workers must reach the inputs and --out)",
    )
    ann.add_argument("--force", action="store_true", help="annotate inputs again even if unchanged")
    ann.add_argument(
        "--model",
        type=Path,
        help="a trained .keras model (default: the released models/fer_cnn.keras)",
    )
    ann.add_argument(
        "--detector",
        choices=DETECTORS,
        default=DEFAULTS.detector,
        help="face detector (default: %(default)s)",
    )
    ann.add_argument(
        "--min-face",
        type=_number(int, 1, 10_000),
        default=DEFAULTS.min_face,
        help="smallest face side to classify, in pixels (default: %(default)s)",
    )
    ann.add_argument(
        "--uncertain-below",
        type=_number(float, 0, 1),
        help="label faces below this top probability as uncertain (default: the model's "
        "calibrated threshold, else 0.4)",
    )
    app_commands.register(sub)
    return parser


def _number(kind: type, low: float, high: float, low_open: bool = False) -> Any:
    """An argparse type: a ``kind`` number in ``[low, high]`` (``(low, high]`` if
    ``low_open``); anything else is a usage error that names the range."""
    interval = f"{'above' if low_open else 'at least'} {low:g} and at most {high:g}"

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'a whole number' if kind is int else 'a number'}"
            ) from None
        if not (math.isfinite(value) and (value > low if low_open else value >= low)):
            raise argparse.ArgumentTypeError(f"{text} is out of range: give a value {interval}")
        if value > high:
            raise argparse.ArgumentTypeError(f"{text} is out of range: give a value {interval}")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Processes started in the background by a shell, or by some test runners, inherit an
    # ignored SIGINT; restore Ctrl-C so an interrupted run always stops cleanly.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    show_progress()  # the library's progress lines, as plain lines on standard output
    try:
        return COMMANDS[args.command](args)
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
    except Exception as err:  # noqa: BLE001 -- a bug: one line here, the traceback in a log file
        log = _save_traceback()
        print(
            f"error: unexpected {type(err).__name__}: {err}. Finished outputs are kept. "
            f"This is a bug; the details are in {log}: please report it with that file.",
            file=sys.stderr,
        )
        return 2
    return 0


def _save_traceback() -> str:
    with tempfile.NamedTemporaryFile(
        "w", prefix="capstone-error-", suffix=".log", delete=False, encoding="utf-8"
    ) as fh:
        traceback.print_exc(file=fh)
        return fh.name


def _annotate(args: argparse.Namespace) -> int:
    from capstone.calls.metadata import load_call_info
    from capstone.calls.request import CallRequest
    from capstone.library.annotate import annotate_library, cached_model
    from capstone.model.released import reading_meaning
    from capstone.paths import released_model

    if (args.out is None) == (args.data is None):
        raise CapstoneError("give --out (a folder of reports) or --data (the app's folder)")
    # a use the metadata does not allow stops here, before any work
    request = CallRequest(
        load_call_info(args.call),
        args.use,
        ReadingOptions(
            fps=args.fps,
            detect_every=args.detect_every,
            detector=args.detector,
            min_face=args.min_face,
            uncertain_below=args.uncertain_below,
        ),
    )
    model_file = (args.model or released_model()).resolve()
    cached_model(model_file)  # a bad model stops here, before any work
    if args.data is not None:
        from capstone.app.commands import annotate_into_app

        return annotate_into_app(args, request, model_file)
    args.out.mkdir(parents=True, exist_ok=True)  # a bad --out stops here, before any work
    outcome = annotate_library(
        args.inputs,
        args.out,
        request,
        model_file,
        workers=args.workers,
        scheduler=args.scheduler,
        force=args.force,
        say=print,
        warn=lambda line: print(line, file=sys.stderr),
    )
    kinds = list(outcome.kinds.values())
    print(
        f"wrote {kinds.count('image')} annotated image(s) and {kinds.count('video')} video(s) "
        f"to {args.out}" + (f"; {len(outcome.skipped)} unchanged" if outcome.skipped else "")
    )
    print(reading_meaning(model_file))
    if outcome.failed:
        total = len(outcome.written) + len(outcome.skipped) + len(outcome.failed)
        print(
            f"{len(outcome.failed)} of {total} input(s) failed (see the errors above)",
            file=sys.stderr,
        )
    return 1 if outcome.failed else 0


def _pipeline(args: argparse.Namespace) -> int:
    from capstone.pipeline.runner import run

    run(
        args.params,
        args.root,
        force=args.force,
        from_stage=args.from_stage,
        to_stage=args.to_stage,
        only=args.only,
        book=not args.no_book,
    )
    return 0


def _book(args: argparse.Namespace) -> int:
    from capstone.params import load
    from capstone.paths import ProjectPaths
    from capstone.pipeline.book import build_book

    paths = ProjectPaths(args.root)
    build_book(paths, load(paths.root / args.params, args.root))
    return 0


def _release(args: argparse.Namespace) -> int:
    from capstone.params import load
    from capstone.paths import ProjectPaths
    from capstone.release import publish as release

    paths = ProjectPaths(args.root)
    if args.card_only:
        print(f"wrote {release.write_card(paths.root / 'models')}")
        return 0
    if not args.params:
        raise CapstoneError("capstone release needs --params PROFILE (or --card-only)")
    model = release.publish(paths, load(paths.root / args.params, args.root))
    print(f"released {model} (model card: {model.parent / 'README.md'})")
    return 0


def _app(args: argparse.Namespace) -> int:
    from capstone.app.serve import serve
    from capstone.app.settings import read_settings

    settings = read_settings(
        args.data,
        database_url=args.database_url,
        scheduler=args.scheduler,
        workers=args.workers,
    )
    return serve(settings, host=args.host, port=args.port)


COMMANDS = {
    "pipeline": _pipeline,
    "book": _book,
    "release": _release,
    "app": _app,
    "annotate": _annotate,
    "users": app_commands.users,
    "retention": app_commands.retention,
    "erase": app_commands.erase,
}


def _os_error(err: OSError) -> str:
    """What went wrong with a file or folder, and what to do, by the kind of error."""
    where = f" {err.filename}" if err.filename else ""
    advice = {
        errno.ENOTDIR: "a file is in the way where a folder should be; choose another folder",
        errno.EEXIST: "a file is in the way where a folder should be; choose another folder",
        errno.EISDIR: "a folder is in the way where a file should be; choose another folder",
        errno.EACCES: "permission denied; choose a folder you can write to",
        errno.EPERM: "permission denied; choose a folder you can write to",
        errno.EROFS: "the disk is read-only; choose a folder on a writable disk",
        errno.ENOSPC: "the disk is full; free some space or choose another disk",
        errno.EDQUOT: "the disk quota is used up; free some space or choose another disk",
    }.get(err.errno or 0, f"{err.strerror or err}; check the path, or choose another folder")
    return f"cannot write{where}: {advice}. Finished outputs are kept."


if __name__ == "__main__":
    sys.exit(main())
