"""Fetch a dataset into ``data/raw/<name>/`` with a manifest: from Kaggle, a local copy, or the sample.

All three sources end in the same loader: an archive (or folder) is verified by sha256,
extracted into a temporary folder that is renamed into place only when complete, and
described by ``manifest.json``. A rerun whose manifest matches the request does nothing.

FER+ from Kaggle is two downloads joined by row (:mod:`capstone.data.ferplus`): the FER2013
competition's ``fer2013.csv`` through the Kaggle client, and FERPlus's ``fer2013new.csv``
(the crowd's votes) from GitHub.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

from capstone.artefacts import read_json, sha256_file, write_json
from capstone.data import sample
from capstone.errors import DataError
from capstone.params import CROWD, DatasetSource, SampleSpec

log = logging.getLogger(__name__)

#: The Kaggle competition whose ``fer2013.csv`` FER+'s votes are joined to, row by row.
FER2013_COMPETITION = (
    "challenges-in-representation-learning-facial-expression-recognition-challenge"
)
#: FER+'s votes, ``fer2013new.csv``, in the FERPlus repository (MIT licence).
FERPLUS_VOTES_URL = "https://raw.githubusercontent.com/microsoft/FERPlus/master/fer2013new.csv"

KAGGLE_HELP = (
    "Kaggle needs credentials: set KAGGLE_USERNAME and KAGGLE_KEY (or KAGGLE_API_TOKEN), or put "
    "kaggle.json from kaggle.com > Settings > API into ~/.kaggle/ (chmod 600). To use a copy you "
    "already have instead, set `source: local` and `path: <zip or folder>` for this dataset in "
    "the params file."
)


def fetch(
    name: str,
    spec: DatasetSource,
    raw_root: Path,
    *,
    root: Path = Path(),
    sample_dir: Path,
    sample_spec: SampleSpec,
    seed: int,
) -> dict[str, Any]:
    """Make ``raw_root/name`` hold dataset ``name`` as ``spec`` asks, and return its manifest."""
    dest = raw_root / name
    request = {"dataset": name, **_request(spec)}
    manifest_path = dest / "manifest.json"
    if manifest_path.is_file():
        manifest = read_json(manifest_path)
        if manifest.get("request") == request and _count_files(dest) == manifest["file_count"]:
            return manifest

    if spec.source == "sample":
        archives = [_sample_archive(name, sample_dir, sample_spec, seed)]
    elif spec.source == "local":
        archives = [root / spec.path] if spec.path else []
        if not archives:
            raise DataError(f"dataset {name}: `source: local` needs `path: <zip or folder>`")
    elif name == CROWD:
        archives = _ferplus_download(spec, raw_root / f".{name}.download")
    else:
        archives = _kaggle_download(spec, raw_root / f".{name}.download")

    records = [_describe(a) for a in archives]
    if spec.sha256 and [r["sha256"] for r in records] != [spec.sha256]:
        got = ", ".join(r["sha256"] for r in records)
        raise DataError(
            f"dataset {name}: checksum mismatch for {', '.join(map(str, archives))}: expected "
            f"sha256 {spec.sha256}, got {got}. The file is corrupt or a different version; "
            "download it again or update `sha256` in the params if the change is intended."
        )
    file_count = _install(archives, dest)
    manifest = {
        "request": request,
        "archives": records,
        "file_count": file_count,
    }
    write_json(manifest_path, manifest)
    if spec.source == "kaggle":
        shutil.rmtree(raw_root / f".{name}.download", ignore_errors=True)
    return manifest


def _request(spec: DatasetSource) -> dict[str, Any]:
    """What a manifest must match for a rerun to skip the download."""
    if spec.source == "kaggle":
        return {"source": "kaggle", "kaggle": spec.kaggle, "version": spec.version}
    if spec.source == "local":
        return {"source": "local", "path": spec.path, "sha256": spec.sha256}
    return {"source": "sample"}


def _sample_archive(name: str, sample_dir: Path, spec: SampleSpec, seed: int) -> Path:
    path = sample_dir / f"{name}.zip"
    if name == "fer2013":
        return sample.write_fer2013_zip(path, spec.fer_train, spec.fer_test, seed)
    if name == CROWD:
        return sample.write_ferplus_zip(path, spec.fer_train, spec.fer_test, seed)
    return sample.write_affectnet_zip(path, spec.wild, spec.wild_size, seed)


def _describe(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise DataError(f"not found: {path}")
    if path.is_dir():
        return {"file": path.name, "kind": "folder", "files": _count_files(path), "sha256": None}
    return {
        "file": path.name,
        "kind": "zip",
        "bytes": path.stat().st_size,
        "sha256": sha256_file(path),
    }


def _count_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json")


def _install(archives: list[Path], dest: Path) -> int:
    """Extract or copy ``archives`` into ``dest``, replacing it only once everything is there."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part"))
    try:
        for archive in archives:
            if archive.is_dir():
                shutil.copytree(archive, tmp, dirs_exist_ok=True)
            else:
                _extract_zip(archive, tmp)
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _count_files(dest)


def _extract_zip(archive: Path, out: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                target = (out / member.filename).resolve()
                if not target.is_relative_to(out.resolve()):
                    raise DataError(f"{archive}: unsafe path in archive: {member.filename!r}")
            zf.extractall(out)
    except zipfile.BadZipFile as err:
        raise DataError(
            f"{archive}: not a readable zip archive ({err}); download it again"
        ) from None


def _has_kaggle_credentials() -> bool:
    if os.environ.get("KAGGLE_API_TOKEN"):
        return True
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return True
    config = Path(os.environ.get("KAGGLE_CONFIG_DIR", Path.home() / ".kaggle"))
    return (config / "kaggle.json").is_file() or (config / "access_token").is_file()


def _reason(err: BaseException) -> str:
    """One short line saying why a download failed (the client's errors nest several deep)."""
    text = str(err).strip()
    if "NameResolutionError" in text or "Failed to resolve" in text:
        return "no network (could not resolve the Kaggle server)"
    if "ConnectionError" in type(err).__name__ or "Max retries exceeded" in text:
        return "could not connect to the Kaggle server"
    if "403" in text or "401" in text:
        return "access denied (check the credentials, and accept the dataset's rules on kaggle.com)"
    if "404" in text:
        return "no such dataset or version"
    return text.splitlines()[0][:200] if text else type(err).__name__


def _kaggle_api(what: str) -> Any:
    """The authenticated Kaggle client, or a :class:`DataError` that says what to do."""
    if not _has_kaggle_credentials():
        raise DataError(f"cannot download {what}. {KAGGLE_HELP}")
    noise = io.StringIO()  # the client prints on import and authentication
    try:
        with contextlib.redirect_stdout(noise), contextlib.redirect_stderr(noise):
            from kaggle.api.kaggle_api_extended import KaggleApi

            api = KaggleApi()
            api.authenticate()
    except SystemExit:  # the client exits instead of raising when credentials are bad
        raise DataError(f"Kaggle rejected the credentials. {KAGGLE_HELP}") from None
    return api


def _kaggle_download(spec: DatasetSource, out: Path) -> list[Path]:
    """Download ``spec.kaggle`` (at ``spec.version`` if set) as zip files into ``out``."""
    if not spec.kaggle:
        raise DataError("`source: kaggle` needs `kaggle: <owner>/<dataset>` in the params")
    api = _kaggle_api(spec.kaggle)
    ref = f"{spec.kaggle}/{spec.version}" if spec.version else spec.kaggle  # the client's form
    out.mkdir(parents=True, exist_ok=True)
    log.info(f"downloading {ref} from Kaggle into {out} ...")
    _from_kaggle(ref, out, lambda: api.dataset_download_files(ref, path=str(out), quiet=True))
    archives = sorted(out.glob("*.zip"))
    if not archives:
        raise DataError(f"Kaggle download of {ref} produced no zip file in {out}")
    return archives


def _from_kaggle(ref: str, out: Path, download: Any) -> None:
    """Run ``download()``; any failure becomes one clear line, and ``out`` is removed."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            download()
    except (Exception, SystemExit) as err:  # noqa: BLE001 - any failure becomes one clear line
        shutil.rmtree(out, ignore_errors=True)
        raise DataError(
            f"could not download {ref} from Kaggle: {_reason(err)}. Check the network and the "
            "dataset name, or use `source: local` with a copy you have."
        ) from None


def _ferplus_download(spec: DatasetSource, out: Path) -> list[Path]:
    """FER+ for users: the competition's ``fer2013.csv`` and FERPlus's ``fer2013new.csv`` in
    the folder ``out``, which :func:`capstone.data.ferplus.load_faces` joins by row."""
    competition = spec.kaggle or FER2013_COMPETITION
    api = _kaggle_api(f"the FER2013 competition's fer2013.csv ({competition})")
    out.mkdir(parents=True, exist_ok=True)
    log.info(f"downloading {FERPLUS_VOTES_URL} ...")
    try:
        with urllib.request.urlopen(FERPLUS_VOTES_URL, timeout=60) as response:
            (out / "fer2013new.csv").write_bytes(response.read())
    except (urllib.error.URLError, OSError) as err:
        shutil.rmtree(out, ignore_errors=True)
        reason = getattr(err, "reason", err)
        raise DataError(
            f"could not download fer2013new.csv (FER+'s votes) from github.com/microsoft/FERPlus: "
            f"{reason}. Download it by hand and use `source: local` with a folder holding it "
            "and Kaggle's fer2013.csv (or FERPlus's own folders)."
        ) from None
    log.info(f"downloading {competition} from Kaggle into {out} ...")
    _from_kaggle(
        competition, out, lambda: api.competition_download_files(competition, path=str(out))
    )
    for archive in sorted(out.glob("*.zip")):
        _extract_zip(archive, out)
        archive.unlink()
    for archive in sorted(out.rglob("*.tar.gz")):  # fer2013.tar.gz inside the competition's zip
        with tarfile.open(archive) as tar:
            tar.extractall(archive.parent, filter="data")
        archive.unlink()
    return [out]
