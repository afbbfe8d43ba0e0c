"""What a ``training.dataset`` object gives, as validation's plain data
(:class:`graph.dataset_info.DatasetInfo`), without loading the samples.

A built-in set is described by its catalogue entry (with the options that
change it: ``seq_len``, ``vocab``, ``classes``, ``target: "input"``; a set
with one array per Input, ``reverse``, by input id); a file by
its header (:func:`runtime.data.sample_shape`: the CSV header row, the
``.npy`` headers, the images').  The targets of a file are not known before
loading (a CSV column's or an ``.npz``'s labels decide the task and the
classes), so a CSV or image folder's info checks the ``Input`` only; Start
checks the targets when it loads them.

An ``.npz`` also tells its targets from ``y``'s header (or each ``y_<output
id>``'s, in a file with one array per node): their shape per sample, and the
task their dtype suggests (the project's ``task`` decides, as the loader
does); their class count is known once they are loaded.

The editor calls :func:`dataset_info` on a thread (a big file never blocks the
window), ``check`` on the command line directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graph.dataset_info import ArrayInfo, DatasetInfo, TargetInfo

from . import DatasetError, sample_shape
from .catalog import builtin_catalog, node_arrays
from .loader import source_path

#: Array name prefixes of an ``.npz`` with one array per node (project-format.md).
INPUT_PREFIX, TARGET_PREFIX = "X_", "y_"


def builtin_info(spec: dict) -> DatasetInfo | None:
    """The info of a built-in set's spec, or None (an unknown name or an option
    value the loader refuses: that is said by the training section's check)."""
    name = spec.get("name")
    info = builtin_catalog().get(name) if isinstance(name, str) else None
    if info is None:
        return None
    opts = dict(info.options)
    x_shape, y_shape, classes = tuple(info.input_shape), tuple(info.target_shape), info.num_classes
    for key in ("seq_len", "vocab", "classes"):
        if key not in spec:
            continue
        v = spec[key]
        if key not in opts or type(v) is not int or v < 1:
            return None  # the loader names the bad option at Start
        if key == "seq_len":  # every sequence set has the sequence on its first axis
            # per-step targets follow it (next_token); one per sequence do not (adding)
            if y_shape and y_shape[0] == info.input_shape[0]:
                y_shape = (v, *y_shape[1:])
            x_shape = (v, *x_shape[1:])
        else:
            classes = v
    task = info.task
    if spec.get("target") == "input":  # an autoencoder: the input is the target
        if info.input_dtype != "float32":
            return None
        task, y_shape, classes = "regression", x_shape, None
    elif "target" in spec:
        return None
    if task == "regression":
        classes = None
    if info.inputs:  # one array per Input, by id, and the target of the Output it names
        ins, y_shape, classes = node_arrays(info, spec.get("seq_len"), spec.get("vocab"))
        return DatasetInfo(name, tuple((i, ArrayInfo(shape, dt)) for i, shape, dt in ins),
                           ((info.output or None, TargetInfo(y_shape, task, classes)),))
    return DatasetInfo(name, ((None, ArrayInfo(x_shape, info.input_dtype)),),
                       ((None, TargetInfo(y_shape, task, classes)),))


def dataset_info(spec: Any, base_dir: Path | None = None) -> DatasetInfo | None:
    """What a ``training.dataset`` object gives, or None when nothing can be
    told before loading (no dataset, a malformed object).

    A file that cannot be read gives an info with its ``error`` (the
    loader's own message), so validation shows it where Start would refuse.
    """
    if not isinstance(spec, dict) or not spec:
        return None
    if isinstance(spec.get("name"), str):
        return builtin_info(spec)
    try:
        if isinstance(spec.get("npz"), str) and spec["npz"].strip():
            return _npz_info(spec, base_dir)
        shape = sample_shape(spec, base_dir)
    except DatasetError as exc:
        return DatasetInfo(_file_name(spec), error=str(exc))
    except Exception as exc:  # noqa: BLE001 (a file no check foresaw: say so, never crash)
        return DatasetInfo(_file_name(spec), error=f"the dataset file cannot be read "
                                                   f"({type(exc).__name__}: {exc})")
    if shape is None:
        return None
    return DatasetInfo(shape.name, ((None, ArrayInfo(tuple(shape.input_shape),
                                                     shape.input_dtype)),))


def _file_name(spec: dict) -> str:
    for key in ("csv", "npz", "image_folder"):
        if isinstance(spec.get(key), str):
            return Path(spec[key]).name
    return "the dataset"


def _headers(path: Path) -> dict[str, tuple]:
    """``name → (shape, dtype)`` of every array in an ``.npz``, from the
    ``.npy`` headers alone (nothing is decompressed beyond them)."""
    import zipfile

    import numpy as np

    out = {}
    try:
        with zipfile.ZipFile(path) as z:
            for member in z.namelist():
                if not member.endswith(".npy"):
                    continue
                with z.open(member) as f:
                    version = np.lib.format.read_magic(f)
                    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                            else np.lib.format.read_array_header_2_0)
                    shape, _fortran, dtype = read(f)
                out[member[:-4]] = (tuple(int(d) for d in shape), dtype)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise DatasetError(f"{path.name}: cannot be read as a NumPy .npz file ({exc})") from None
    return out


def _target(shape: tuple, dtype) -> TargetInfo | None:
    """A target array's info from its header (None: not one target per sample)."""
    if len(shape) < 1:
        return None
    task = "regression" if dtype.kind == "f" else "classification"
    return TargetInfo(tuple(shape[1:]), task, None, fixed=False)


def _input(shape: tuple, dtype) -> ArrayInfo | None:
    if len(shape) < 2 or dtype.kind not in "biuf":
        return None  # the loader says what is wrong with it
    return ArrayInfo(tuple(shape[1:]), "int64" if dtype.kind == "i" else "float32")


def _npz_info(spec: dict, base_dir: Path | None) -> DatasetInfo:
    """An ``.npz``'s info: ``X``/``y`` (with the loader's checks of ``X``), or
    one array per node (``X_<input id>``, ``y_<output id>``)."""
    path = source_path(spec["npz"], base_dir)
    if not path.is_file():
        sample_shape(spec, base_dir)  # raises the loader's message for the path
    arrays = _headers(path) if _is_zip(path) else {}
    if not {"X", "y"} <= set(arrays) and any(
            k.startswith((INPUT_PREFIX, TARGET_PREFIX)) for k in arrays):
        inputs = tuple((k[len(INPUT_PREFIX):], a) for k, (shape, dt) in arrays.items()
                       if k.startswith(INPUT_PREFIX) and (a := _input(shape, dt)) is not None)
        targets = tuple((k[len(TARGET_PREFIX):], t) for k, (shape, dt) in arrays.items()
                        if k.startswith(TARGET_PREFIX) and (t := _target(shape, dt)) is not None)
        return DatasetInfo(path.name, inputs, targets)
    found = sample_shape(spec, base_dir)  # X: the loader's own checks and messages
    y = arrays.get("y")
    target = _target(*y) if y is not None else None
    return DatasetInfo(found.name, ((None, ArrayInfo(tuple(found.input_shape),
                                                     found.input_dtype)),),
                       ((None, target),) if target is not None else ())


def _is_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(2) == b"PK"
    except OSError:
        return False
