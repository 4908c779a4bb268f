"""Finding the media to annotate: the files given, and the images and videos in the folders
given (searched recursively, links followed, loops reported), each with an output name."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from capstone.calls.image import output_names
from capstone.formats import MEDIA_SUFFIXES


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
