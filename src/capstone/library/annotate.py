"""Annotate a library of calls: every image and recording under the given folders,
resumable, on several worker processes or a Dask cluster.

Each input gets its outputs in ``out`` (:func:`capstone.calls.image.annotate_image`,
:func:`capstone.calls.video.annotate_video`), then a marker ``out/.done/<name>.json`` holding
the hash of what made them: the file's bytes, the model's bytes, the call metadata, the
use and the reading options. A rerun skips an input whose hash is unchanged, so a run killed at
any point resumes where it stopped (outputs are written atomically, a recording's folder
is swapped in whole once complete, and the marker is written last).
After each input the store (:mod:`capstone.library.parquet_store`) is brought up to date, and at the
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
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from capstone.artefacts import read_json, sha256_file, sha256_json, write_json
from capstone.calls.image import annotate_image
from capstone.calls.request import CallOutputs, CallRequest
from capstone.calls.result import CallResult, ScreenshotResult
from capstone.calls.video import annotate_video
from capstone.errors import CapstoneError
from capstone.formats import IMAGE_SUFFIXES, MEDIA_SUFFIXES, listed
from capstone.library.finding import find_media
from capstone.library.parquet_store import CallStore
from capstone.model.released import reading_meaning

PARTIAL = ".partial"  # where recordings are annotated until they are complete


@dataclass(frozen=True)
class Item:
    """One input: its file, its output name, and the hash of what its outputs depend on."""

    path: Path
    name: str
    key: str = ""


def item_key(path: Path, request: CallRequest, model: Path) -> str:
    """The hash of an input file, the model file, the call metadata, the use and the
    reading options (laid out as before the request was typed, so that a library annotated
    then is not annotated again)."""
    options = request.options
    parts = {
        "model": sha256_file(model),
        "input": sha256_file(path),
        "call": asdict(request.info),
        "use": request.use,
        "fps": options.fps,
        "detect_every": options.detect_every,
        "options": {
            "crop": dict(options.crop),
            "detector": options.detector,
            "min_face": options.min_face,
            "uncertain_below": options.uncertain_below,
        },
    }
    return sha256_json(parts)


@functools.lru_cache(maxsize=2)
def cached_model(path: Path) -> Any:
    """The model at ``path``, loaded once per process, as faces are read with it."""
    from capstone.model.onnx_copy import load_for_reading

    return load_for_reading(path)


@dataclass(frozen=True)
class Failure:
    """An input that could not be annotated, and why."""

    error: str


@dataclass(frozen=True)
class Annotated:
    """An input annotated: what was read, and the files it left (relative to the library)."""

    result: ScreenshotResult | CallResult
    outputs: CallOutputs


def annotate_one(
    item: Item,
    out: Path,
    request: CallRequest,
    model: Path,
    on_progress: Callable[[float], None] | None = None,
) -> Annotated | Failure:
    """Annotate one input (in whatever process runs it) with the model at ``model``; returns
    its result and outputs, or a :class:`Failure` where the input could not be annotated.

    A recording is annotated into ``out/.partial/<name>``, and that folder replaces
    ``out/<name>`` only once it is complete: a process that dies on the way leaves the
    earlier outputs as they were, never a mix of old and new. ``on_progress`` hears the share
    of a recording done as it goes.
    """
    try:
        return _annotated(item, out, request, model, on_progress)
    except CapstoneError as err:
        return Failure(str(err))
    except OSError as err:
        return Failure(f"{item.path}: {err.strerror or err} ({err.filename or 'a file'})")
    except Exception as err:  # noqa: BLE001 -- reported, and the other inputs go on
        return Failure(f"{item.path}: could not be annotated ({type(err).__name__}: {err})")


def discard_partial(out: Path, item: Item) -> None:
    """Remove what an unfinished annotation of ``item`` left in ``out/.partial``, and the
    folders that leaves empty."""
    shutil.rmtree(out / PARTIAL / item.name, ignore_errors=True)
    shutil.rmtree(out / PARTIAL / f"{item.name}.replaced", ignore_errors=True)
    folder = (out / PARTIAL / item.name).parent
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
    item: Item,
    out: Path,
    request: CallRequest,
    model_file: Path,
    on_progress: Callable[[float], None] | None = None,
) -> Annotated:
    model = cached_model(model_file)
    if item.path.suffix.lower() not in MEDIA_SUFFIXES:
        raise CapstoneError(
            f"{item.path}: not an image or a video; supported: {listed(MEDIA_SUFFIXES)}"
        )
    meaning = reading_meaning(model_file)
    if item.path.suffix.lower() in IMAGE_SUFFIXES:
        (out / item.name).parent.mkdir(parents=True, exist_ok=True)
        shot = annotate_image(item.path, model, out, item.name, request=request, meaning=meaning)
        return Annotated(shot, CallOutputs.of_screenshot(item.name))
    discard_partial(out, item)
    try:
        result = annotate_video(
            item.path,
            model,
            out / PARTIAL,
            request=request,
            name=item.name,
            progress=False,
            on_progress=on_progress,
            meaning=meaning,
        )
        _swap_in(out / PARTIAL / item.name, out / item.name)
    finally:
        discard_partial(out, item)
    result.folder = out / item.name
    return Annotated(result, CallOutputs.of_recording(item.name))


@dataclass
class Outcome:
    """What a run did: the inputs ``written`` (output name -> what was read and the files it
    left), those ``skipped`` as unchanged (name -> their files), and the ``failed`` ones'
    errors."""

    written: dict[str, Annotated] = field(default_factory=dict)
    skipped: dict[str, CallOutputs] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)

    @property
    def kinds(self) -> dict[str, str]:
        """Output name -> ``image`` or ``video``, of the inputs written."""
        return {name: done.outputs.kind for name, done in self.written.items()}

    def everything(self, out: Path) -> dict[str, Annotated]:
        """Every input annotated, now or before: those written as this run handed them
        back, those skipped as read back from their records in ``out``."""
        found = dict(self.written)
        for name, outputs in self.skipped.items():
            record = read_json(out / str(outputs.summary or outputs.record))
            earlier = (
                CallResult.from_json(record, out / name)
                if outputs.kind == "video"
                else ScreenshotResult.from_json(record)
            )
            found[name] = Annotated(earlier, outputs)
        return found


def annotate_library(  # noqa: PLR0913 -- an entry point; its options are keyword-only
    inputs: list[Path],
    out: Path,
    request: CallRequest,
    model: Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    force: bool = False,
    say: Callable[[str], None] = print,
    warn: Callable[[str], None] = print,
    on_progress: Callable[[str, float], None] | None = None,
) -> Outcome:
    """Annotate every input (files and folders) into ``out`` as ``request`` asks, with the
    model at ``model`` (its crop and threshold: :meth:`ReadingOptions.for_model`); see the
    module docstring.

    ``say`` gets each result's summary and each file passed over (not media, a link
    loop), ``warn`` one line per failure. ``force`` annotates unchanged inputs again.
    ``on_progress`` hears ``(output name, share done)`` as each recording goes (in this
    process only: not from Dask workers).
    """
    request = replace(request, options=request.options.for_model(model))
    named, problems, passed = find_media(inputs)
    outcome = Outcome(failed=list(problems))
    for line in passed:
        say(line)
    for problem in problems:
        warn(f"error: {problem}")
    items = []
    for path, name in named:
        try:
            key = item_key(path, request, model) if path.is_file() else ""
        except OSError as err:  # vanished or unreadable since it was found
            key = f"unreadable: {err}"
        done = _marker(out, name)
        kept = bool(done.get("link")) and (out / str(done.get("link"))).exists()
        if not force and key and done.get("key") == key and kept:
            outcome.skipped[name] = (
                CallOutputs.of_recording(name)
                if done.get("kind") == "video"
                else CallOutputs.of_screenshot(name)
            )
            say(f"{name}: unchanged since it was annotated; skipped")
        else:
            items.append(Item(path, name, key))
    found = _results(
        items, out, request, model, workers=workers, scheduler=scheduler, on_progress=on_progress
    )
    for item, result in found:
        if isinstance(result, Failure):
            discard_partial(out, item)  # what a worker that died left behind
            outcome.failed.append(result.error)
            warn(f"error: {result.error}")
            continue
        _finish(out, item, result)
        outcome.written[item.name] = result
        say(_described(result.result))
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
    items: list[Item],
    out: Path,
    request: CallRequest,
    model: Path,
    *,
    workers: int,
    scheduler: str | None,
    on_progress: Callable[[str, float], None] | None = None,
) -> Iterator[tuple[Item, Annotated | Failure]]:
    """Each input with its result, as they finish: here, or on Dask workers."""
    if workers <= 1 and scheduler is None:
        for item in items:
            heard = functools.partial(on_progress, item.name) if on_progress else None
            yield item, annotate_one(item, out, request, model, heard)
        return
    if not items:
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
                    annotate_one,
                    item,
                    out,
                    request,
                    model,
                    key=f"annotate-{item.key}-{i}",
                    retries=1,
                ): item
                for i, item in enumerate(items)
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


def _finish(out: Path, item: Item, done: Annotated) -> None:
    """Store a finished input, then write its marker (the last step, so a crash between
    leaves it to be annotated again)."""
    entry: dict[str, Any] = {"key": item.key, "input": str(item.path)}
    result = done.result
    if isinstance(result, CallResult):
        assert result.timeline is not None  # a result just annotated carries its timeline
        CallStore(out / "store").add(item.name, result, result.timeline)
        entry |= {
            "kind": "video",
            "link": done.outputs.main,
            "duration_s": result.duration_s,
            "participants": len(result.participants),
        }
    else:
        entry |= {"kind": "image", "link": done.outputs.main, "participants": len(result.faces)}
    (out / ".done" / item.name).parent.mkdir(parents=True, exist_ok=True)
    write_json(out / ".done" / f"{item.name}.json", entry)


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
