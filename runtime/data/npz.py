"""NumPy ``.npz`` files holding arrays ``X`` and ``y`` (as ``numpy.savez`` writes).

Files are read with ``allow_pickle=False``: an object array or a pickle is
refused, never unpickled.  ``X`` of signed integers is taken as token ids
(int64, for an Embedding); any other numeric ``X`` becomes float32, used as is
(not standardised: the arrays are the user's prepared data).  The task comes
from ``y`` unless the project sets it: integer, boolean or text labels are
classes, floats are regression values.  A 1-D ``y`` of classes is mapped to
0..K-1 in sorted order; a ``y`` of integers with more dimensions (one class per
step, e.g. next-token targets) is kept as is with ``max + 1`` classes.

Before anything is decompressed, the sizes ``X`` and ``y`` declare (the zip
directory's uncompressed size of each member, and the ``.npy`` header's shape
× item size) are checked against a share of the memory available now
(:func:`memory_limit`): a few kilobytes of zeros that would expand to
gigabytes (a "zip bomb") are refused at once, with both sizes named.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from graph.humanize import size

from ..memory import available_memory
from .dataset import Dataset, DatasetError
from .prepare import check_float32, encode_labels, finish

#: The share of the memory available now that the arrays of a file may take
#: once read (they are then converted, split and copied to the device).
MEMORY_SHARE = 0.5

#: What a damaged or unusual zip archive raises while numpy reads it.
_BROKEN = (OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError,
           KeyError, MemoryError)


def _check_magic(path: Path) -> bytes:
    """Refuse a pickle or a file that is no NumPy file, before numpy reads it."""
    name = path.name
    try:
        with open(path, "rb") as fh:
            magic = fh.read(6)
    except OSError as exc:
        raise DatasetError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if magic[:1] == b"\x80":  # a pickle's protocol opcode: refuse before numpy sees it
        raise DatasetError(f"{name}: holds pickled Python objects, which are not loaded "
                           "for safety; save plain arrays with numpy.savez(path, X=..., y=...)")
    if not magic.startswith((b"PK", b"\x93NUMPY")):
        raise DatasetError(f"{name}: cannot be read as a NumPy .npz file (it is not a zip "
                           "archive); save the arrays with numpy.savez(path, X=..., y=...)")
    return magic


def memory_limit() -> int | None:
    """Bytes the arrays of an ``.npz`` file may hold once read (None: no limit known)."""
    avail = available_memory()
    return None if avail is None else int(avail * MEMORY_SHARE)


def _header(f) -> tuple[tuple, np.dtype]:
    """Shape and dtype from an open ``.npy`` member's header (nothing else is read)."""
    version = np.lib.format.read_magic(f)
    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
            else np.lib.format.read_array_header_2_0)
    shape, _fortran, dtype = read(f)
    return shape, dtype


def _check_sizes(name: str, z: zipfile.ZipFile, keys=("X", "y")) -> None:
    """Refuse arrays that would not fit in memory once read, from what the
    archive and the ``.npy`` headers declare (before decompressing them)."""
    limit = memory_limit()
    if limit is None:
        return
    for key in keys:
        try:
            info = z.getinfo(f"{key}.npy")
        except KeyError:
            continue  # said by the caller, which names the arrays there are
        declared = info.file_size
        if declared <= limit:
            with z.open(info) as f:
                shape, dtype = _header(f)
            n = 1
            for d in shape:
                n *= int(d)
            declared = max(declared, n * dtype.itemsize)
            what = f"shape {tuple(int(d) for d in shape)} of {dtype}"
        else:
            what = f"{info.compress_size:,} bytes compressed"
        if declared > limit:
            raise DatasetError(f"{name}: array {key} ({what}) would take {size(declared)} "
                               f"once read, more than the {size(limit)} this machine can "
                               "spare now; use a smaller dataset (or free memory)")


def _no_array(name: str, missing, have) -> DatasetError:
    return DatasetError(f"{name}: has no array named {' or '.join(missing)} (arrays in the "
                        f"file: {', '.join(have) or 'none'}); save them with "
                        "numpy.savez(path, X=..., y=...)")


def _x_dtype(name: str, shape: tuple, dtype: np.dtype) -> str:
    """``"int64"`` or ``"float32"``: what X's samples become; refuses a bad X."""
    if len(shape) < 2:
        raise DatasetError(f"{name}: X has shape {tuple(shape)}; it needs one row per sample "
                           "(shape (n, features...))")
    if dtype.kind == "i":
        return "int64"
    if dtype.kind in "biuf":
        return "float32"
    raise DatasetError(f"{name}: X has dtype {dtype}; it must be numeric")


def npz_sample_shape(path: Path) -> tuple[tuple[int, ...], str]:
    """One sample's shape and dtype, from X's header alone (no array is read)."""
    _check_magic(path)
    name = path.name
    try:
        with zipfile.ZipFile(path) as z:
            arrays = [n[:-4] for n in z.namelist() if n.endswith(".npy")]
            missing = [k for k in ("X", "y") if k not in arrays]
            if missing:
                raise _no_array(name, missing, arrays)
            _check_sizes(name, z)
            with z.open("X.npy") as f:
                shape, dtype = _header(f)
    except (ValueError, *_BROKEN) as exc:
        raise DatasetError(f"{name}: cannot be read as a NumPy .npz file ({exc})") from None
    return tuple(int(d) for d in shape[1:]), _x_dtype(name, shape, dtype)


def _single_array(name: str) -> DatasetError:
    return DatasetError(f"{name}: holds a single array; save both X and y with "
                        "numpy.savez(path, X=..., y=...)")


def _load(path: Path) -> tuple[np.ndarray, np.ndarray]:
    name = path.name
    if _check_magic(path).startswith(b"\x93NUMPY"):  # refused before numpy reads it all
        raise _single_array(name)
    try:
        with zipfile.ZipFile(path) as z:
            _check_sizes(name, z)
    except (ValueError, *_BROKEN) as exc:
        raise DatasetError(f"{name}: cannot be read as a NumPy .npz file ({exc})") from None
    try:
        f = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):
            raise DatasetError(f"{name}: holds pickled Python objects, which are not loaded "
                               "for safety; save plain arrays with numpy.savez(path, X=..., "
                               "y=...)") from None
        raise DatasetError(f"{name}: is not a NumPy .npz file ({exc})") from None
    except _BROKEN as exc:
        raise DatasetError(f"{name}: cannot be read as a NumPy .npz file ({exc})") from None
    if isinstance(f, np.ndarray):
        raise _single_array(name)
    with f:
        missing = [k for k in ("X", "y") if k not in f.files]
        if missing:
            raise _no_array(name, missing, f.files)
        out = [_read_array(f, name, k) for k in ("X", "y")]
    return out[0], out[1]


def _read_array(f, name: str, k: str) -> np.ndarray:
    """Array ``k`` of an open ``.npz``, refusing pickled objects by name."""
    try:
        return f[k]
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object" in str(exc):
            raise DatasetError(f"{name}: array {k} holds Python objects, which are "
                               "not loaded for safety; save a numeric array") from None
        raise DatasetError(f"{name}: array {k} cannot be read ({exc})") from None
    except _BROKEN as exc:
        raise DatasetError(f"{name}: array {k} cannot be read ({exc})") from None


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file by name, with the checks of ``X`` and ``y``
    (no pickles, sizes checked before decompressing); for the files with one
    array per ``Input`` and per ``Output`` (``X_<input id>``, ``y_<output id>``).

    Raises:
        DatasetError: the file or an array cannot be read; the message says why.
    """
    name = path.name
    if _check_magic(path).startswith(b"\x93NUMPY"):
        raise _single_array(name)
    try:
        with zipfile.ZipFile(path) as z:
            keys = [n[:-4] for n in z.namelist() if n.endswith(".npy")]
            _check_sizes(name, z, keys)
        f = np.load(path, allow_pickle=False)
    except (ValueError, *_BROKEN) as exc:
        raise DatasetError(f"{name}: cannot be read as a NumPy .npz file ({exc})") from None
    with f:
        return {k: _read_array(f, name, k) for k in f.files}


def from_npz(path: str | Path, task: str | None = None, *, seed: int = 0,
             val_fraction: float = 0.2) -> Dataset:
    """An ``.npz`` file's arrays ``X`` and ``y`` as a split
    :class:`~runtime.data.Dataset` (public API); the arrays are used as they
    are (not standardised).

    Args:
        path: the file, as ``numpy.savez(path, X=..., y=...)`` writes it.
        task: ``"classification"`` or ``"regression"``; None: from ``y``'s dtype.
        seed: the split's random state.
        val_fraction: the validation part's share, in (0, 1).

    Returns:
        ``X_*`` float32, or int64 token ids for a signed-integer ``X``; ``y_*``
        int64 class indices (``(n,)``, or ``(n, T)`` per step) or float32 values.

    Raises:
        DatasetError: the file or its arrays cannot be used; the message says why.
    """
    path = Path(path)
    X, y, task, k, names, desc = read_npz(path, task)
    return finish(path.name, task, X, y, seed=seed, val_fraction=val_fraction,
                  description=desc, num_classes=k, class_names=names)


def read_npz(path: Path, task: str | None):
    """Read and check ``X`` and ``y``.

    Returns:
        ``(X, y, task, num_classes, class_names, description)``.
    """
    X, y = _load(path)
    name = path.name
    x_dtype = _x_dtype(name, X.shape, X.dtype)
    if y.ndim < 1:
        raise DatasetError(f"{name}: y is a single value; it needs one target per sample")
    if X.shape[0] != y.shape[0]:
        raise DatasetError(f"{name}: X has {X.shape[0]} samples but y has {y.shape[0]}; "
                           "they must have the same length")
    if X.shape[0] == 0:
        raise DatasetError(f"{name}: has no samples (X has shape {tuple(X.shape)}); save "
                           "arrays with one row per sample")
    check_float32(X, "X", name)
    X = X.astype(x_dtype)
    if X.dtype == np.float32 and not np.isfinite(X).all():
        first = int(np.argwhere(~np.isfinite(X))[0][0])
        raise DatasetError(f"{name}: X contains NaN or infinite values (first at sample "
                           f"{first}); remove or fill them first")
    if y.dtype.kind not in "biufUS":
        raise DatasetError(f"{name}: y has dtype {y.dtype}; it must hold numbers or labels")
    if task is None:
        task = "regression" if y.dtype.kind == "f" else "classification"
    if task == "regression":
        if y.dtype.kind in "US":
            raise DatasetError(f"{name}: y holds text labels, which cannot be regression "
                               'targets; set training.task to "classification"')
        check_float32(y, "y", name)
        y = y.astype(np.float32)
        y = y.reshape(-1, 1) if y.ndim == 1 else y
        desc = f"{name}: X {_shape(X)} → y {_shape(y)} (regression)"
        return X, y, task, None, None, desc
    if y.dtype.kind == "f":
        if not np.isfinite(y).all() or not np.all(y == np.round(y)):
            raise DatasetError(f"{name}: y holds fractional values, which are not class "
                               'labels; use whole numbers or set training.task to '
                               '"regression"')
        y = y.astype(np.int64)
    if y.ndim == 1:
        y, names = encode_labels(y, name)
        desc = f"{name}: X {_shape(X)} → {len(names)} classes"
        return X, y, task, len(names), names, desc
    if y.dtype.kind in "US" or y.min() < 0:
        raise DatasetError(f"{name}: y has shape {y.shape} (one class per step); its classes "
                           "must be whole numbers from 0")
    y = y.astype(np.int64)
    k = int(y.max()) + 1
    desc = f"{name}: X {_shape(X)} → y {_shape(y)}, {k} classes per step"
    return X, y, task, k, [str(i) for i in range(k)], desc


def _shape(a: np.ndarray) -> str:
    return "×".join(str(d) for d in a.shape[1:]) or "scalar"
