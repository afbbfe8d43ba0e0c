"""Tables: scikit-learn's bundled real datasets and the user's CSV files.

A CSV file has a header row naming its columns; the delimiter (comma,
semicolon or tab) is detected.  The target column is chosen by name (the last
column when none is given).  A target with text values is a class label;
numeric targets are classes when they are few whole numbers (at most
:data:`MAX_NUMERIC_CLASSES` distinct values) and regression values otherwise,
unless the project sets ``task``.  Every other column must be numeric: a cell
that is not is an error naming its line and column, and so is a number too
large for float32 (the features' type).  A quoted value may not run over a
line break: that is nearly always a closing quote left out, reported at the
line where the quote opens.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from graph.humanize import size

from .dataset import Dataset, DatasetError
from .prepare import FLOAT32_MAX, encode_labels, finish

MAX_NUMERIC_CLASSES = 20

_SKLEARN = {"digits": "load_digits", "iris": "load_iris", "wine": "load_wine",
            "breast_cancer": "load_breast_cancer"}


def real(name: str, rng: np.random.Generator, n: int | None):
    """One of scikit-learn's bundled sets (read from files shipped with it, no download).

    Returns:
        ``(X, y, class_names)``; digits as ``(n, 1, 8, 8)`` in [0, 1], the
        others raw features (standardised later, with training statistics).
    """
    try:
        import sklearn.datasets
    except ImportError:
        raise DatasetError(f"the built-in dataset {name} is read from scikit-learn's bundled "
                           "files, and scikit-learn is not installed; install it with "
                           "`pip install scikit-learn`") from None
    bunch = getattr(sklearn.datasets, _SKLEARN[name])()
    X = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target, dtype=np.int64)
    if name == "digits":
        X = (X / 16.0).reshape(-1, 1, 8, 8)
    if n is not None:
        if n > len(X):
            raise DatasetError(f"training.dataset.n: {name} has {len(X)} samples, "
                               f"so n can be at most {len(X)}, got {n}")
        keep = np.sort(rng.permutation(len(X))[:n])
        X, y = X[keep], y[keep]
    return X.astype(np.float32), y, [str(c) for c in bunch.target_names]


#: Bytes read at a time while looking for the end of a CSV file's header line.
HEAD_BYTES = 65536
#: The longest header line read to tell a CSV file's sample shape (about ten
#: million columns); past it the file is not a table this program can train on.
MAX_HEADER_BYTES = 64_000_000


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{name}: is not UTF-8 text (byte {exc.start}); save the "
                           "CSV file as UTF-8") from None


def _parse(text: str, name: str) -> list[tuple[int, list[str]]]:
    """``(line number, cells)`` of every non-blank row (at least one)."""
    if not text.strip():
        raise DatasetError(f"{name}: the file is empty")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    rows = []
    start = 1  # the line the next row starts on (reader.line_num is where it ends)
    try:
        for cells in reader:
            if any("\n" in c or "\r" in c for c in cells):  # only a quoted value holds one
                raise DatasetError(_open_quote(name, start, reader.line_num, text))
            if any(c.strip() for c in cells):
                rows.append((start, [c.strip() for c in cells]))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise DatasetError(f"{name}, line {start}: {exc}") from None
    if not rows:
        raise DatasetError(f"{name}: the file is empty")
    return rows


def _open_quote(name: str, start: int, end: int, text: str) -> str:
    """A quoted value running over line breaks: where it opens, and how far it runs."""
    if end <= start:
        runs = "is not closed on that line"
    elif end >= text.count("\n") + (0 if text.endswith("\n") else 1):
        runs = "runs to the end of the file"
    else:
        runs = f"runs to line {end}"
    return (f"{name}, line {start}: a quoted value opens there and {runs}; is a closing "
            "quote (\") missing? A value cannot hold a line break")


def _target_column(header: list[str], target: str | None, name: str) -> str:
    """The target column's name (the last column by default), checked against the header."""
    if len(header) < 2:
        raise DatasetError(f"{name}: has only one column ({header[0]!r}); it needs "
                           "feature columns and a target column")
    if target is None:
        target = header[-1]
    if target not in header:
        raise DatasetError(f"{name}: there is no column {target!r} for the target; "
                           "columns: " + ", ".join(repr(h) for h in header))
    if header.count(target) > 1:
        raise DatasetError(f"{name}: more than one column is named {target!r}; "
                           "rename one so the target is unambiguous")
    return target


def _header_line(path: Path) -> bytes:
    """The file's first line, however long (a header of 10⁵ columns is megabytes)."""
    chunks: list[bytes] = []
    n_read = 0
    try:
        with open(path, "rb") as f:
            while True:
                chunk = f.read(HEAD_BYTES)
                chunks.append(chunk)
                n_read += len(chunk)
                if not chunk or b"\n" in chunk:
                    break
                if n_read > MAX_HEADER_BYTES:
                    raise DatasetError(f"{path.name}: the first line is longer than "
                                       f"{size(MAX_HEADER_BYTES)}, so it is no "
                                       "header row of column names")
    except OSError as exc:
        raise DatasetError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None
    head = b"".join(chunks)
    end = head.find(b"\n")
    return head if end < 0 else head[:end + 1]


def csv_sample_shape(path: Path, target: str | None) -> tuple[int, ...]:
    """One sample's shape, from the header line alone."""
    head = _header_line(path)
    header = _parse(_decode(head, path.name), path.name)[0][1]
    _target_column(header, target, path.name)
    return (len(header) - 1,)


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and ``(line number, cells)`` of every non-blank row."""
    rows = _parse(_decode(path.read_bytes(), path.name), path.name)
    header = rows[0][1]
    if not rows[1:]:
        raise DatasetError(f"{path.name}: has a header row but no data rows")
    for line, cells in rows[1:]:
        if len(cells) != len(header):
            raise DatasetError(f"{path.name}, line {line}: has {len(cells)} values but the "
                               f"header has {len(header)} columns; every row needs one value "
                               "per column")
    return header, rows[1:]


def _number(s: str) -> float | None:
    try:
        return float(s)
    except ValueError:
        return None


def from_csv(path: str | Path, target: str | None = None, task: str | None = None, *,
             seed: int = 0, val_fraction: float = 0.2) -> Dataset:
    """A CSV file's rows as a split :class:`~runtime.data.Dataset` (public API).

    Features are standardised with the training part's statistics (the
    means and deviations are in ``preprocessing``).

    Args:
        path: the file (a header row, then one row per sample).
        target: the target column's name; the last column when None.
        task: ``"classification"`` or ``"regression"``; None: from the target's values.
        seed: the split's random state.
        val_fraction: the validation part's share, in (0, 1).

    Returns:
        ``X_*`` float32 ``(n, features)``; ``y_*`` int64 class indices
        ``(n,)`` or float32 values ``(n, 1)``.

    Raises:
        DatasetError: the file cannot give samples; the message names the line and column.
    """
    path = Path(path)
    X, y, task, names, desc = read_csv(path, target, task)
    return finish(path.name, task, X, y, seed=seed, val_fraction=val_fraction,
                  description=desc, num_classes=len(names) if names else None,
                  class_names=names, standardise=True)


def read_csv(path: Path, target: str | None, task: str | None):
    """Read a CSV file into features and target.

    Returns:
        ``(X float32 (n, f), y, task, class_names, description)`` with ``y``
        int64 classes or float32 ``(n, 1)`` values.
    """
    header, rows = _read_rows(path)
    target = _target_column(header, target, path.name)
    ti = header.index(target)
    features = [i for i in range(len(header)) if i != ti]
    X = np.empty((len(rows), len(features)), dtype=np.float64)
    for r, (line, cells) in enumerate(rows):
        for j, ci in enumerate(features):
            v = _number(cells[ci])
            if v is not None and np.isfinite(v) and abs(v) > FLOAT32_MAX:
                raise DatasetError(_too_large(path.name, line, header[ci], cells[ci]))
            if v is None or not np.isfinite(v):
                what = "is empty" if not cells[ci] else f"{cells[ci]!r} is not a number"
                if v is not None:
                    what = f"{cells[ci]!r} is missing or infinite"
                raise DatasetError(
                    f"{path.name}, line {line}, column {header[ci]!r}: {what}; feature "
                    "columns must hold numbers (remove the column, encode it as numbers, "
                    "or fill the missing values)")
            X[r, j] = v
    raw = [cells[ti] for _, cells in rows]
    y, task, class_names = _target(raw, rows, path, target, task)
    desc = (f"{path.name}: {len(rows)} rows, {len(features)} numeric features → "
            f"{target!r} ({task}" + (f", {len(class_names)} classes)" if class_names else ")"))
    return X.astype(np.float32), y, task, class_names, desc


def _too_large(name: str, line: int, column: str, cell: str) -> str:
    return (f"{name}, line {line}, column {column!r}: {cell!r} is too large for float32 "
            f"(numbers up to about ±3.4e38); scale the column down, e.g. take its logarithm")


def _target(raw: list[str], rows, path: Path, target: str, task: str | None):
    nums = [_number(v) for v in raw]
    numeric = all(v is not None for v in nums)
    where = f"{path.name}, column {target!r}"
    for (line, _), v, s in zip(rows, nums, raw):
        if not s:
            raise DatasetError(f"{path.name}, line {line}, column {target!r}: the target is "
                               "empty; remove that row or fill in its value")
        if numeric and not np.isfinite(v):
            raise DatasetError(f"{path.name}, line {line}, column {target!r}: the target is "
                               f"{s!r}; remove that row")
    if task is None:
        whole = numeric and all(float(v).is_integer() for v in nums)
        few = len(set(nums if numeric else raw)) <= MAX_NUMERIC_CLASSES
        task = "classification" if not numeric or (whole and few) else "regression"
    if task == "regression":
        if not numeric:
            bad = next((line, s) for (line, _), v, s in zip(rows, nums, raw) if v is None)
            raise DatasetError(f"{path.name}, line {bad[0]}, column {target!r}: {bad[1]!r} is "
                               "not a number, so the target cannot be used for regression; "
                               'set training.task to "classification"')
        big = next(((line, s) for (line, _), v, s in zip(rows, nums, raw)
                    if abs(v) > FLOAT32_MAX), None)
        if big is not None:
            raise DatasetError(_too_large(path.name, big[0], target, big[1]))
        return np.asarray(nums, dtype=np.float32).reshape(-1, 1), task, None
    y, names = encode_labels(nums if numeric else raw, where)
    return y, task, names
