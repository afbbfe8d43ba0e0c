"""Check a ``training.dataset`` object and load what it names.

The object names exactly one source (``name``, ``csv``, ``npz`` or
``image_folder``) and may add options; an unknown key, a misspelt built-in
name or a value of the wrong type is a :class:`~runtime.data.DatasetError`
naming the key (``training.dataset.noise: ...``), with a "did you mean" hint.
The checked object is then read by the public per-source functions
(:func:`~runtime.data.from_csv`, :func:`~runtime.data.from_npz`,
:func:`~runtime.data.from_image_folder`, :func:`~runtime.data.builtin`), the
ones an exported training script copies.
"""

from __future__ import annotations

import difflib
import math
import stat
from pathlib import Path
from typing import Any

from .dataset import Dataset, DatasetError, SampleShape
from .catalog import RANGES, builtin_catalog

SOURCES = ("name", "csv", "npz", "image_folder")
COMMON = ("val_fraction", "task")
FILE_OPTIONS = {"csv": ("target",), "npz": (), "image_folder": ("size",)}
TASKS = ("classification", "regression")

#: Allowed range of each option: (low, high, whole number?).


def _hint(name: str, known) -> str:
    close = difflib.get_close_matches(str(name), list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else "; known: " + ", ".join(known)


def _bad(key: str, message: str) -> DatasetError:
    return DatasetError(f"training.dataset.{key}: {message}")


def _option(spec: dict, key: str, default):
    v = spec.get(key, default)
    lo, hi, whole = RANGES[key]
    ok_type = isinstance(v, int) if whole else isinstance(v, (int, float))
    if isinstance(v, bool) or not ok_type or (not whole and not math.isfinite(v)):
        kind = "a whole number" if whole else "a number"
        raise _bad(key, f"must be {kind}, got {v!r}")
    if not lo <= v <= hi:
        raise _bad(key, f"must be between {lo} and {hi:,}, got {v}")
    return v


def _val_fraction(spec: dict) -> float:
    v = spec.get("val_fraction", 0.2)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1:
        raise _bad("val_fraction", f"must be a number between 0 and 1 (exclusive), got {v!r}")
    return float(v)


def _check_keys(spec: dict, allowed) -> None:
    for k in spec:
        if k not in allowed:
            raise _bad(k, f"unknown setting{_hint(k, allowed)}")


def source_path(value: str, base_dir: Path | None) -> Path:
    """Where a dataset file named in the settings is: relative paths are read
    from ``base_dir`` (the project's folder), else the working folder."""
    p = Path(value).expanduser()
    return p if p.is_absolute() else Path(base_dir or Path.cwd()) / p


def _path(spec: dict, key: str, base_dir: Path | None) -> Path:
    v = spec[key]
    if not isinstance(v, str) or not v.strip():
        raise _bad(key, f"must be a file path, got {v!r}")
    p = source_path(v, base_dir)
    what = "image folder" if key == "image_folder" else "dataset file"
    if not p.exists():
        raise DatasetError(f"{what} {v!r} does not exist (looked in {p.parent})")
    if key == "image_folder" and not p.is_dir():
        raise DatasetError(f"image folder {v!r} is {_kind(p)}, not a folder with one "
                           "subfolder per class")
    if key != "image_folder" and not p.is_file():
        raise DatasetError(f"dataset path {v!r} is {_kind(p)}, not a .{key} file")
    return p


def _kind(p: Path) -> str:
    """What a path that exists is, in words (``/dev/zero`` is a device, not a folder)."""
    mode = p.stat().st_mode
    for test, word in ((stat.S_ISDIR, "a folder"), (stat.S_ISREG, "a file"),
                       (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
                       (stat.S_ISFIFO, "a pipe"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return word
    return "not a regular file"


def _size(spec: dict) -> tuple[int, int] | None:
    size = spec.get("size")
    if size is None:
        return None
    if (not isinstance(size, (list, tuple)) or len(size) != 2
            or not all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= 4096
                       for s in size)):
        raise _bad("size", f"must be [H, W] with whole numbers from 1 to 4096, got {size!r}")
    return (size[0], size[1])


def _target(spec: dict) -> str | None:
    target = spec.get("target")
    if target is not None and not isinstance(target, str):
        raise _bad("target", f"must be a column name, got {target!r}")
    return target


def file_source(spec: Any) -> str | None:
    """The key naming a file dataset (``"csv"``, ``"npz"`` or ``"image_folder"``), or None."""
    if not isinstance(spec, dict):
        return None
    return next((k for k in SOURCES[1:] if isinstance(spec.get(k), str) and spec[k].strip()),
                None)


def sample_shape(spec: Any, base_dir: Path | None) -> SampleShape | None:
    """See :func:`runtime.data.sample_shape`."""
    source = file_source(spec)
    if source is None:
        return None
    path = _path(spec, source, base_dir)
    if source == "csv":
        from .tabular import csv_sample_shape

        return SampleShape(path.name, csv_sample_shape(path, _target(spec)), "float32")
    if source == "npz":
        from .npz import npz_sample_shape

        return SampleShape(path.name, *npz_sample_shape(path))
    from .images import image_sample_shape

    return SampleShape(path.name, image_sample_shape(path, _size(spec)), "float32")


def load(spec: Any, base_dir: Path | None, seed: int) -> Dataset:
    """See :func:`runtime.data.load_dataset`."""
    if spec is None:
        raise DatasetError('no dataset is chosen; set training.dataset, e.g. {"name": "digits"}')
    if not isinstance(spec, dict):
        raise DatasetError(f"training.dataset must be an object, got {spec!r}")
    given = [k for k in SOURCES if k in spec]
    if len(given) != 1:
        what = "names none" if not given else "names " + " and ".join(given)
        raise DatasetError(f"training.dataset {what}; it needs exactly one of "
                           + ", ".join(f'"{s}"' for s in SOURCES))
    source = given[0]
    task = spec.get("task")
    if task not in (None, *TASKS):
        raise _bad("task", f'must be "classification" or "regression", got {task!r}')
    vf = _val_fraction(spec)
    if source == "name":
        return _builtin(spec, seed, vf, task)
    _check_keys(spec, (source, *COMMON, *FILE_OPTIONS[source]))
    path = _path(spec, source, base_dir)
    if source == "csv":
        from .tabular import from_csv

        return from_csv(path, _target(spec), task, seed=seed, val_fraction=vf)
    if source == "npz":
        from .npz import from_npz

        return from_npz(path, task, seed=seed, val_fraction=vf)
    from .images import from_image_folder

    if task == "regression":
        raise _bad("task", "an image folder gives class labels (one subfolder per class), "
                   'so the task must be "classification"')
    return from_image_folder(path, _size(spec), seed=seed, val_fraction=vf)


def _builtin(spec: dict, seed: int, vf: float, task: str | None) -> Dataset:
    catalog = builtin_catalog()
    name = spec["name"]
    if name not in catalog:
        raise _bad("name", f"no built-in dataset {name!r}{_hint(name, catalog)}")
    info = catalog[name]
    opts = dict(info.options)
    _check_keys(spec, ("name", "n", "target", *COMMON, *opts))
    if spec.get("target", "input") != "input":
        raise _bad("target", f'a built-in dataset takes only "input" here (reconstruct the '
                   f'input, for autoencoders), got {spec["target"]!r}')
    if "target" in spec:
        if info.input_dtype != "float32":
            raise _bad("target", f"{name} has integer token inputs; an autoencoder target "
                       '"input" needs float inputs')
        if task not in (None, "regression"):
            raise _bad("task", 'reconstructing the input (target "input") is a regression task')
        from .builtin_sets import reconstruction

        inner = _builtin({k: v for k, v in spec.items() if k not in ("target", "task")},
                         seed, vf, None)
        return reconstruction(inner, seed=seed, val_fraction=vf)
    if task is not None and task != info.task:
        raise _bad("task", f"{name} is a {info.task} dataset, but the task is set to {task!r}; "
                   "remove training.task or choose another dataset")
    n = _option(spec, "n", info.default_n) if "n" in spec else None
    given = {k: _option(spec, k, d) for k, d in opts.items() if k in spec}
    from .builtin_sets import builtin

    return builtin(name, seed=seed, val_fraction=vf, n=n, **given)
