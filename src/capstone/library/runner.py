"""Annotate a library of calls: every image and recording under the given folders,
resumable, on several worker processes or a Dask cluster.

Each input gets its outputs in ``out`` (:func:`capstone.calls.image.annotate_image`,
:func:`capstone.calls.video.annotate_video`), then a marker ``out/.done/<name>.json`` holding
the hash of what made them: the file's bytes, the model's bytes, the call metadata, the
use and the settings. A rerun skips an input whose hash is unchanged, so a run killed at
any point resumes where it stopped (outputs are written atomically, a recording's folder
is swapped in whole once complete, and the marker is written last).
After each input the store (:mod:`capstone.library.store`) is brought up to date, and at the
end of the run ``index.html`` (a link to every report) and ``trends.png`` (call by call).

Several workers, on this machine (``workers``) or on a cluster (``scheduler``, the
address of a running Dask scheduler), each load the model once. Dask does the
scheduling, the retries of an input whose worker died, and the moving of results; the
workers must be able to read the inputs and write ``out`` (on a cluster: a shared disk).
Dask was chosen over Ray for being a small pip install that runs the same code on a laptop
and on a cluster, with a plain ``tcp://host:8786`` address.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from capstone.artefacts import read_json, sha256_file, sha256_json, write_json
from capstone.calls.image import annotate_image, output_names
from capstone.calls.metadata import DEFAULT_USE, CallInfo
from capstone.calls.result import CallResult, ScreenshotResult
from capstone.calls.video import annotate_video
from capstone.errors import CapstoneError
from capstone.formats import IMAGE_SUFFIXES, MEDIA_SUFFIXES, listed
from capstone.library.store import CallStore
from capstone.model.released import reading_meaning

PARTIAL = ".partial"  # where recordings are annotated until they are complete


@dataclass(frozen=True)
class Settings:
    """What every input is annotated with (sent to each worker as it is)."""

    model: Path
    call: CallInfo = field(default_factory=CallInfo)
    use: str = DEFAULT_USE
    fps: float = 2.0
    detect_every: int = 4
    options: dict[str, Any] = field(default_factory=dict)  # detector, min_face, crop, ...


@dataclass(frozen=True)
class Job:
    """One input: its file, its output name, and the hash of what its outputs depend on."""

    path: Path
    name: str
    key: str = ""


def find_media(
    inputs: list[Path],
) -> tuple[list[tuple[Path, str]], list[str], list[str]]:
    """The files to annotate with their output names, the problems found on the way (a
    folder that cannot be read or holds no media), and the files passed over.

    A file is taken as it is (named as :func:`~capstone.calls.image.output_names` names
    it). A folder is searched recursively, following symbolic links but never into a folder
    already searched (a link loop is reported and skipped); its images and videos are named
    by their path below the folder, and its other files are passed over.
    """
    files = [p for p in dict.fromkeys(inputs) if not p.is_dir()]
    named = list(zip(files, output_names(files), strict=True))
    problems: list[str] = []
    passed: list[str] = []
    for folder in (p for p in dict.fromkeys(inputs) if p.is_dir()):
        found = list(_walk(folder, problems, passed))
        if not found:
            problems.append(f"{folder}: no images or videos in this folder")
        named += [(path, _name_below(folder, path, found)) for path in found]
    return named, problems, passed


def _walk(folder: Path, problems: list[str], passed: list[str]) -> Iterator[Path]:
    seen = {os.path.realpath(folder)}

    def unreadable(err: OSError) -> None:
        problems.append(f"{err.filename}: cannot be read ({err.strerror}); skipped")

    for root, dirs, names in os.walk(folder, followlinks=True, onerror=unreadable):
        kept = []
        for d in sorted(dirs):
            real = os.path.realpath(Path(root, d))
            if real in seen:
                passed.append(f"{Path(root, d)}: a link to a folder already searched; skipped")
                continue
            seen.add(real)
            kept.append(d)
        dirs[:] = kept
        for n in sorted(names):
            path = Path(root, n)
            if path.suffix.lower() in MEDIA_SUFFIXES:
                yield path
            elif not n.startswith("."):
                passed.append(f"{path}: not an image or a video; skipped")


def _name_below(folder: Path, path: Path, found: list[Path]) -> str:
    """``week1/call`` for ``folder/week1/call.mp4``; ``week1/call_mp4`` if a file of another
    type in the same folder has the same stem."""
    below = path.relative_to(folder)
    twins = [p for p in found if p.parent == path.parent and p.stem == path.stem]
    stem = f"{path.stem}_{path.suffix.lstrip('.')}" if len(twins) > 1 else path.stem
    return (below.parent / stem).as_posix()


def job_key(path: Path, settings: Settings) -> str:
    """The hash of an input file, the model file, the call metadata and the settings."""
    parts = asdict(settings) | {"model": sha256_file(settings.model), "input": sha256_file(path)}
    return sha256_json(parts)


@functools.lru_cache(maxsize=2)
def cached_model(path: Path) -> Any:
    """The model at ``path``, loaded once per process."""
    from capstone.model.released import load_model

    return load_model(path)


@dataclass(frozen=True)
class Failure:
    """An input that could not be annotated, and why."""

    error: str


def annotate_one(
    job: Job, out: Path, settings: Settings, on_progress: Callable[[float], None] | None = None
) -> ScreenshotResult | CallResult | Failure:
    """Annotate one input (in whatever process runs it); returns its result, or a
    :class:`Failure` where the input could not be annotated.

    A recording is annotated into ``out/.partial/<name>``, and that folder replaces
    ``out/<name>`` only once it is complete: a process that dies on the way leaves the
    earlier outputs as they were, never a mix of old and new. ``on_progress`` hears the share
    of a recording done as it goes.
    """
    try:
        return _annotated(job, out, settings, on_progress)
    except CapstoneError as err:
        return Failure(str(err))
    except OSError as err:
        return Failure(f"{job.path}: {err.strerror or err} ({err.filename or 'a file'})")
    except Exception as err:  # noqa: BLE001 -- reported, and the other inputs go on
        return Failure(f"{job.path}: could not be annotated ({type(err).__name__}: {err})")


def discard_partial(out: Path, job: Job) -> None:
    """Remove what an unfinished annotation of ``job`` left in ``out/.partial``, and the
    folders that leaves empty."""
    shutil.rmtree(out / PARTIAL / job.name, ignore_errors=True)
    shutil.rmtree(out / PARTIAL / f"{job.name}.replaced", ignore_errors=True)
    folder = (out / PARTIAL / job.name).parent
    while folder != out and folder.is_dir() and not any(folder.iterdir()):
        try:
            folder.rmdir()
        except OSError:  # another worker has just put something in it
            return
        folder = folder.parent


def _swap_in(new: Path, target: Path) -> None:
    """Put the finished folder ``new`` where ``target`` is (two renames and a removal)."""
    replaced = new.with_name(f"{new.name}.replaced")
    shutil.rmtree(replaced, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.rename(replaced)
    new.rename(target)
    shutil.rmtree(replaced, ignore_errors=True)


def _annotated(
    job: Job, out: Path, settings: Settings, on_progress: Callable[[float], None] | None = None
) -> ScreenshotResult | CallResult:
    model = cached_model(settings.model)
    if job.path.suffix.lower() not in MEDIA_SUFFIXES:
        raise CapstoneError(
            f"{job.path}: not an image or a video; supported: {listed(MEDIA_SUFFIXES)}"
        )
    common = {
        "call": settings.call,
        "use": settings.use,
        "meaning": reading_meaning(settings.model),
        **settings.options,
    }
    if job.path.suffix.lower() in IMAGE_SUFFIXES:
        (out / job.name).parent.mkdir(parents=True, exist_ok=True)
        return annotate_image(job.path, model, out, job.name, **common)
    discard_partial(out, job)
    try:
        result = annotate_video(
            job.path,
            model,
            out / PARTIAL,
            fps=settings.fps,
            detect_every=settings.detect_every,
            name=job.name,
            progress=False,
            on_progress=on_progress,
            **common,
        )
        _swap_in(out / PARTIAL / job.name, out / job.name)
    finally:
        discard_partial(out, job)
    result.folder = out / job.name
    return result


@dataclass
class Outcome:
    """What a run did: outputs ``written`` (name -> ``image`` or ``video``), inputs
    ``skipped`` as unchanged, and the ``failed`` ones' errors."""

    written: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def annotate_library(  # noqa: PLR0913 -- an entry point; its options are keyword-only
    inputs: list[Path],
    out: Path,
    settings: Settings,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    force: bool = False,
    say: Callable[[str], None] = print,
    warn: Callable[[str], None] = print,
    on_progress: Callable[[str, float], None] | None = None,
) -> Outcome:
    """Annotate every input (files and folders) into ``out``; see the module docstring.

    ``say`` gets each result's summary and each file passed over (not media, a link
    loop), ``warn`` one line per failure. ``force`` annotates unchanged inputs again.
    ``on_progress`` hears ``(output name, share done)`` as each recording goes (in this
    process only: not from Dask workers).
    """
    named, problems, passed = find_media(inputs)
    outcome = Outcome(failed=list(problems))
    for line in passed:
        say(line)
    for problem in problems:
        warn(f"error: {problem}")
    jobs = []
    for path, name in named:
        try:
            key = job_key(path, settings) if path.is_file() else ""
        except OSError as err:  # vanished or unreadable since it was found
            key = f"unreadable: {err}"
        job = Job(path, name, key)
        done = _marker(out, name)
        kept = bool(done.get("link")) and (out / str(done.get("link"))).exists()
        if not force and key and done.get("key") == key and kept:
            outcome.skipped.append(name)
            say(f"{name}: unchanged since it was annotated; skipped")
        else:
            jobs.append(job)
    for job, result in _results(jobs, out, settings, workers, scheduler, on_progress=on_progress):
        if isinstance(result, Failure):
            discard_partial(out, job)  # what a worker that died left behind
            outcome.failed.append(result.error)
            warn(f"error: {result.error}")
            continue
        _finish(out, job, result)
        outcome.written[job.name] = "video" if isinstance(result, CallResult) else "image"
        say(_described(result))
    if outcome.written or outcome.skipped:
        _index(out)
    return outcome


def _described(result: ScreenshotResult | CallResult) -> str:
    from capstone.calls.image import summary
    from capstone.calls.summary import summary_markdown

    if isinstance(result, ScreenshotResult):
        return summary([result])
    return summary_markdown(result)


def _results(
    jobs: list[Job],
    out: Path,
    settings: Settings,
    workers: int,
    scheduler: str | None,
    *,
    on_progress: Callable[[str, float], None] | None = None,
) -> Iterator[tuple[Job, ScreenshotResult | CallResult | Failure]]:
    """Each job with its result, as they finish: here, or on Dask workers."""
    if workers <= 1 and scheduler is None:
        for job in jobs:
            heard = functools.partial(on_progress, job.name) if on_progress else None
            yield job, annotate_one(job, out, settings, heard)
        return
    if not jobs:
        return
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        one_thread = dict.fromkeys(("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS"), "1")
        cluster = LocalCluster(  # a process per input at a time, each on one thread of math
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: two runs at once must not clash on 8787
            env=one_thread,
        )
    try:
        with Client(scheduler or cluster) as client:
            futures = {
                client.submit(
                    annotate_one, job, out, settings, key=f"annotate-{job.key}-{i}", retries=1
                ): job
                for i, job in enumerate(jobs)
            }
            for future in as_completed(futures):
                try:
                    yield futures[future], future.result()
                except Exception as err:  # noqa: BLE001 -- a worker died, even after a retry
                    error = f"{futures[future].path}: its worker stopped ({type(err).__name__})"
                    yield futures[future], Failure(f"{error}; nothing of it was kept")
    finally:
        if cluster is not None:
            cluster.close()


def _marker(out: Path, name: str) -> dict[str, Any]:
    path = out / ".done" / f"{name}.json"
    try:
        return read_json(path) if path.is_file() else {}
    except (OSError, ValueError):
        return {}  # a damaged marker: annotate again


def _finish(out: Path, job: Job, result: ScreenshotResult | CallResult) -> None:
    """Store a finished input, then write its marker (the last step, so a crash between
    leaves it to be annotated again)."""
    entry: dict[str, Any] = {"key": job.key, "input": str(job.path)}
    if isinstance(result, CallResult):
        assert result.timeline is not None  # a result just annotated carries its timeline
        CallStore(out / "store").add(job.name, result, result.timeline)
        entry |= {
            "kind": "video",
            "link": f"{job.name}/report.html",
            "duration_s": result.duration_s,
            "participants": len(result.participants),
        }
    else:
        entry |= {
            "kind": "image",
            "link": f"{job.name}_annotated.png",
            "participants": len(result.faces),
        }
    (out / ".done" / job.name).parent.mkdir(parents=True, exist_ok=True)
    write_json(out / ".done" / f"{job.name}.json", entry)


def _index(out: Path) -> None:
    from capstone.artefacts import atomic_path
    from capstone.calls.figures import trends
    from capstone.calls.report import write_index

    entries = {
        str(p.relative_to(out / ".done").with_suffix("")): read_json(p)
        for p in sorted((out / ".done").rglob("*.json"))
    }
    store = CallStore(out / "store")
    fig = trends(store.calls(), store.reactions())
    with atomic_path(out / "trends.png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    import matplotlib.pyplot as plt

    plt.close(fig)
    write_index(out, entries)
