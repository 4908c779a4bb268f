"""What the README, the model card and the book tell people holds: their code runs, the modules
and files they name exist, and their figures are the records' figures."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import cv2
import pandas as pd
import pytest
from conftest import REPO

from capstone.synthetic.layouts import call_layouts, hopper

#: The pages people read, with Python in them or names of the code.
PAGES = [REPO / "README.md", REPO / "models/README.md", *sorted((REPO / "book").glob("*.md"))]


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.DOTALL)


@pytest.mark.slow
@pytest.mark.parametrize("page", ["README.md", "models/README.md"])
def test_every_python_block_runs(page: str, tmp_path: Path) -> None:
    """Each block runs as a reader would run it, from a folder with the clone's models/ and a
    call screenshot (``call.png``: a composed 2x2 gallery of one portrait)."""
    blocks = python_blocks(REPO / page)
    assert blocks, f"{page} has no Python block"
    (tmp_path / "models").symlink_to(REPO / "models")
    frame, _ = call_layouts(hopper())["gallery 2x2"]
    cv2.imwrite(str(tmp_path / "call.png"), frame)
    for block in blocks:
        proc = subprocess.run(
            [sys.executable, "-c", block],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, f"{page}:\n{block}\n{proc.stderr[-3000:]}"


def dotted_names(text: str) -> set[str]:
    return set(re.findall(r"\bcapstone(?:\.[A-Za-z_][A-Za-z0-9_]*)+", text))


FILE_SUFFIXES = {"sqlite", "json", "yaml", "toml", "keras", "md"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_module_and_function_a_page_names_exists(page: Path) -> None:
    missing = []
    for name in sorted(dotted_names(page.read_text(encoding="utf-8"))):
        parts = name.split(".")
        if parts[-1] in FILE_SUFFIXES:  # a file's name, such as capstone.sqlite
            continue
        for cut in range(len(parts), 0, -1):
            try:
                found = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            try:
                for attribute in parts[cut:]:
                    found = getattr(found, attribute)
            except AttributeError:
                missing.append(name)
            break
        else:
            missing.append(name)
    assert not missing, f"{page.name} names code that does not exist: {missing}"


#: Paths the pages name that a clone has (data, build and output folders are made by runs).
PATH = re.compile(r"`((?:models|benchmarks|params|notebooks|book|src|tests)/[\w./-]+)`")


def in_clone(path: str) -> bool:
    """A file or folder of the clone (a book page's {doc} name lacks its suffix)."""
    path = path.rstrip("/.")
    return any((REPO / f"{path}{suffix}").exists() for suffix in ("", ".ipynb", ".md"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_file_a_page_names_is_in_the_clone(page: Path) -> None:
    named = set(PATH.findall(page.read_text(encoding="utf-8")))
    missing = sorted(p for p in named if "_build" not in p and not in_clone(p))
    assert not missing, f"{page.name} names files a clone does not have: {missing}"


def test_the_readme_is_a_front_door() -> None:
    assert len((REPO / "README.md").read_text(encoding="utf-8").splitlines()) <= 200


def test_the_readmes_speed_table_is_the_benchmarks_records() -> None:
    """Each row of the README's speed table is a figure a benchmark kept (its ``summary``), on
    the machine that benchmark ran on: no row is typed in."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| (.+?) \| (.+?) \| (.+?) \| `(benchmarks/results/[\w.]+\.json)` \|$",
        readme,
        flags=re.MULTILINE,
    )
    assert rows, "the README has no speed table read from benchmarks/results/"
    for what, figure, machine, source in rows:
        record = json.loads((REPO / source).read_text())
        assert record["results"]["summary"].get(what) == figure, f"{source}: {what}"
        assert machine == record["machine"], f"{source}: the row names another machine"


def test_the_readmes_headline_figures_are_the_records() -> None:
    """The figures the README gives about the released model are its record's."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    percents = re.findall(r"\b\d+(?:\.\d)?%", readme)
    allowed = {"95%"}  # an interval's level, not a result; "40%" a reading in an example
    allowed |= {"40%", "42%"}
    assert set(percents) <= allowed, f"the README types figures: {set(percents) - allowed}"


def test_the_books_speaker_table_is_the_benchmarks_record() -> None:
    """The scripted call's table in the book is ``benchmarks/speakers.py``'s record."""
    page = (REPO / "book" / "speakers.md").read_text(encoding="utf-8")
    record = json.loads((REPO / "benchmarks/results/speakers.json").read_text())
    table = record["results"]["table"]
    rows = dict(
        re.findall(
            r"^\| (position only|with speakers and identity) \| (.+) \|$", page, re.MULTILINE
        )
    )
    assert rows == table
    assert record["machine"] in page and record["date"] in page


def book_page(name: str) -> str:
    return (REPO / "book" / name).read_text(encoding="utf-8")


def record_of(name: str) -> dict:
    return json.loads((REPO / "benchmarks/results" / f"{name}.json").read_text())


def assert_table_rows(page: str, record: dict, lines: list[str]) -> None:
    """Each of ``lines`` (a table row made from ``record``) is in ``page``, which names the
    machine and the day the record was made on."""
    for line in lines:
        assert line in page, line
    assert record["machine"] in page and record["date"] in page


def test_the_books_bigger_network_speeds_are_the_benchmarks_records() -> None:
    for name in ("compact_cnn", "residual_cnn"):
        record = record_of(f"training_speed_{name}")
        lines = [
            f"| {name} (width {row['width']}) | {row['parameters (M)']} M | "
            f"{row['precision']} | {row['images/s (best)']} | {row['images/s (median)']} | "
            f"{row['minutes an epoch of FER+ train']} |"
            for row in record["results"]["rows"]
        ]
        assert_table_rows(book_page("experiments.md"), record, lines)


def test_the_books_voice_activity_table_is_the_benchmarks_record() -> None:
    """Each row of the voice-activity table in the book is the record's summary."""
    page = (REPO / "book" / "speakers.md").read_text(encoding="utf-8")
    record = json.loads((REPO / "benchmarks/results/voice_activity.json").read_text())
    summary = record["results"]["summary"]
    rows = dict(
        re.findall(r"^\| ((?:spectral|silero|webrtcvad[\w ]*)) \| (.+) \|$", page, re.MULTILINE)
    )
    assert rows == summary
    assert record["machine"] in page


def test_the_books_ensemble_table_is_the_benchmarks_record() -> None:
    """Issue 48's table of the ensemble and its members in the book is the record's."""
    record = record_of("ensemble_ferplus")
    lines = [
        f"| {name} | {row['majority_accuracy']:.1%} | {row['macro_f1']:.3f} | "
        f"{row['per_class']['sad']:.1%} | {row['per_class']['fear']:.1%} | "
        f"{row['cross_entropy_clear']:.3f} | {row['cross_entropy_all']:.3f} |"
        for name, row in record["results"]["rows"].items()
    ]
    assert_table_rows(book_page("experiments.md"), record, lines)


def test_the_books_annotation_speed_table_is_the_benchmarks_records() -> None:
    """Issue 49's table in the book (A week of calls) is the speed benchmark's records."""
    for seconds, name in ((60, "60 seconds"), (600, "10 minutes"), (3600, "60 minutes")):
        record = record_of(f"annotation_speed_{seconds}s")
        r = record["results"]
        fer = f"{r['fer_seconds']} s" if r["fer_seconds"] else "not run"
        ratio = f"{r['fer_seconds'] / r['ours_seconds']:.2f}" if r["fer_seconds"] else "-"
        line = (
            f"| {name} | {r['decode_seconds']} s | {r['ours_seconds']} s | "
            f"{r['ours_seconds'] / r['decode_seconds']:.2f} | {fer} | {ratio} | {r['peak_mb']} MB |"
        )
        assert_table_rows(book_page("library.md"), record, [line])


def test_the_books_figures_on_where_annotation_time_goes_are_the_records() -> None:
    """The encoder's, the stages' and the output comparison's figures in the book (issue 49)
    are those records' summaries, word for word."""
    page = " ".join(book_page("library.md").split())
    summaries = [record_of("encoding")["results"]["summary"]]
    summaries.append(record_of("annotation_cost")["results"]["summary"])
    summaries += record_of("compare_annotation")["results"]["summary"].values()
    for summary in summaries:
        assert summary in page, summary


def test_the_books_seed_cnn_table_is_the_runs_history() -> None:
    """Each epoch the book's table gives for the seed's CNN is that epoch of its history."""
    page = book_page("experiments.md")
    history = pd.read_csv(REPO / "models/archive/seed_cnn/history.csv").set_index("epoch")
    rows = re.findall(
        r"^\| (\d+)(?: \([^)]*\))? \| ([\d.]+)% \| ([\d.]+)% \| ([\d.]+)% \|$", page, re.MULTILINE
    )
    assert len(rows) > 20, "the seed CNN's table is missing"
    for epoch, train, val, test in rows:
        row = history.loc[int(epoch)]
        figures = (row["accuracy"], row["val_accuracy"], row["test_accuracy"])
        assert (train, val, test) == tuple(f"{v:.1%}"[:-1] for v in figures), epoch
