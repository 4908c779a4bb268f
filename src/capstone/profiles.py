"""Reading a profile's YAML: ``extends`` resolved, keys renamed since, and every value checked
against the frozen dataclasses of :mod:`capstone.params` (what they hold lives there).

An error names the file and the dotted key, e.g. ``params/sample.yaml: baseline.runs[0].epochs:
expected int, got 'ten'``, and offers the nearest key for a misspelt one.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml

from capstone.errors import ParamsError

#: Keys that earlier profiles (such as ``models/fer_cnn.params.yaml``) spell the old way,
#: read under their new names: the in-the-wild dataset was called ``affectnet`` though the
#: shared profile's is SFEW 2.0.
RENAMED_KEYS: dict[str, str] = {
    "download.affectnet": "download.wild",
    "download.sample.affectnet": "download.sample.wild",
    "download.sample.affectnet_size": "download.sample.wild_size",
    "download.splits.affectnet_val": "download.splits.wild_val",
    "download.splits.affectnet_test": "download.splits.wild_test",
    "download.splits.affectnet_group": "download.splits.wild_group",
}


#: Metadata of fields that hold a file or folder that must exist when the profile is loaded.
MUST_EXIST = {"must_exist": True}


def read_profile(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The profile at ``path`` as a mapping, with ``extends: <file>`` resolved.

    A profile that ``extends`` another (a path relative to its own folder) takes that
    profile's sections and replaces the ones it gives, whole: ``shared.yaml`` is
    ``full.yaml``'s recipe with its own ``download`` section.
    """
    if not path.is_file():
        raise ParamsError(
            f"params file not found: {path}. Pick one of params/*.yaml, e.g. params/sample.yaml."
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ParamsError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping of keys at the top level")
    base = raw.pop("extends", None)
    if base is None:
        return raw
    if not isinstance(base, str):
        raise ParamsError(f"{path}: extends must name one profile file, got {base!r}")
    parent = (path.parent / base).resolve()
    if parent in _seen or parent == path.resolve():
        raise ParamsError(f"{path}: extends {base}, which extends it back; remove one of the two")
    return read_profile(parent, (*_seen, path.resolve())) | raw


def renamed_keys(raw: dict[str, Any], file: str) -> dict[str, Any]:
    """``raw`` with every key of :data:`RENAMED_KEYS` moved to its new name.

    Raises
    ------
    ParamsError
        If a profile gives a key under both its old and its new name.
    """
    raw = copy.deepcopy(raw)
    for old, new in RENAMED_KEYS.items():
        *parents, old_name = old.split(".")
        section: Any = raw
        for name in parents:
            section = section.get(name) if isinstance(section, dict) else None
        if not isinstance(section, dict) or old_name not in section:
            continue
        new_name = new.rsplit(".", 1)[1]
        if new_name in section:
            raise ParamsError(
                f"{file}: {old} and {new} are the same setting under its old and new name; "
                f"keep {new} only"
            )
        section[new_name] = section.pop(old_name)
    return raw


def build(cls: type, data: Any, key: str, file: str, root: Path | None) -> Any:
    """Recursively turn ``data`` into an instance of dataclass ``cls``, checking every value.

    Files and folders the profile names must exist under ``root``; ``None`` leaves them unchecked.
    """
    where = f"{file}: {key or 'top level'}"
    if not isinstance(data, dict):
        raise ParamsError(f"{where}: expected a mapping, got {_show(data)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for name in data:
        if name not in fields:
            close = difflib.get_close_matches(str(name), list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ParamsError(
                f"{file}: unknown key {_join(key, str(name))!r}{hint}. "
                f"Allowed keys here: {', '.join(n for n in fields if n != 'source_file')}."
            )
    values = {}
    for name, f in fields.items():
        sub = _join(key, name)
        if name not in data:
            no_default = (
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            )
            if no_default:
                raise ParamsError(f"{file}: missing required key {sub!r}")
            continue
        value = _check(hints[name], data[name], sub, file, root)
        if f.metadata.get("must_exist") and root is not None:
            for item in value if isinstance(value, list) else [value]:
                if item is not None and not (root / item).exists():
                    raise ParamsError(
                        f"{file}: {sub}: file or folder not found: {item} "
                        f"(relative paths are resolved against {root.resolve()})"
                    )
        values[name] = value
    try:
        return cls(**values)
    except ValueError as err:  # a check across fields, from __post_init__
        raise ParamsError(f"{where}: {err}") from None


def _check(hint: Any, value: Any, key: str, file: str, root: Path | None) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return build(hint, value, key, file, root)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _check(inner[0], value, key, file, root)
    if origin is Literal:
        if value not in args:
            choices = ", ".join(repr(a) for a in args)
            raise ParamsError(f"{file}: {key}: expected one of {choices}, got {_show(value)}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ParamsError(f"{file}: {key}: expected a list, got {_show(value)}")
        return [_check(args[0], v, f"{key}[{i}]", file, root) for i, v in enumerate(value)]
    return _check_scalar(hint, value, key, file)


def _check_scalar(hint: Any, value: Any, key: str, file: str) -> Any:
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and (
        not isinstance(value, hint) or (hint is not bool and isinstance(value, bool))
    ):
        raise ParamsError(f"{file}: {key}: expected {hint.__name__}, got {_show(value)}")
    return value


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _show(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"
