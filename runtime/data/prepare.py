"""From raw arrays to a :class:`~runtime.data.Dataset`: checks, split, scaling.

The split (:func:`split_indices`) is scikit-learn's ``train_test_split`` with
``random_state=seed``, written out in NumPy so that splitting needs numpy alone
(an exported training script copies it and runs without scikit-learn):
stratified by class for single-label classification when every class has at
least two samples (otherwise a plain shuffled split, said in the description).
Standardisation uses the mean and standard deviation of the *training* part
only, so nothing about the validation samples leaks into training.
"""

from __future__ import annotations

import numpy as np

from .dataset import Dataset, DatasetError


#: The largest magnitude a float32 (the features' and regression targets' type) holds.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_float32(a: np.ndarray, what: str, where: str) -> None:
    """Refuse values too large for float32 (the cast would make them infinite, and the
    message would then wrongly blame NaN or infinite data); names the first."""
    if a.dtype.kind != "f" or a.dtype.itemsize <= 4:
        return  # float32 and smaller fit; every integer type is within float32's range
    with np.errstate(invalid="ignore"):
        big = np.abs(a) > FLOAT32_MAX  # NaN compares False: said by the finite check
    if big.any():
        idx = tuple(int(i) for i in np.argwhere(big)[0])
        raise DatasetError(f"{where}: {what} holds {float(a[idx]):.4g} (sample {idx[0]}), "
                           "too large for float32 (numbers up to about ±3.4e38); scale the "
                           "data down, e.g. take its logarithm")


def check_arrays(X: np.ndarray, y: np.ndarray, where: str) -> None:
    """Refuse arrays no network can train on, naming ``where`` they came from."""
    if X.shape[0] != y.shape[0]:
        raise DatasetError(f"{where}: X has {X.shape[0]} samples but y has {y.shape[0]}; "
                           "they must have the same length")
    if X.shape[0] < 2:
        raise DatasetError(f"{where}: has {X.shape[0]} sample(s); at least 2 are needed "
                           "to split into training and validation parts")
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        idx = np.argwhere(~np.isfinite(X))[0]
        raise DatasetError(f"{where}: X contains NaN or infinite values (first at sample "
                           f"{int(idx[0])}); remove or fill them first")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        idx = np.argwhere(~np.isfinite(y))[0]
        raise DatasetError(f"{where}: y contains NaN or infinite values (first at sample "
                           f"{int(idx[0])}); remove those samples first")


def encode_labels(values, where: str) -> tuple[np.ndarray, list[str]]:
    """Class labels (any sortable values) → int64 indices and their names, sorted."""
    arr = np.asarray(values)
    classes, y = np.unique(arr, return_inverse=True)
    if len(classes) < 2:
        only = classes[0] if len(classes) else "nothing"
        raise DatasetError(f"{where}: the target has only one class ({_name(only)!r}); a "
                           "classifier needs at least two")
    return y.astype(np.int64).reshape(-1), [_name(c) for c in classes]


def _name(v) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v.item() if isinstance(v, np.generic) else v)


def split_indices(n: int, n_val: int, seed: int, stratify: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``(training, validation)`` indices of a shuffled split of ``n`` samples.

    The same indices as scikit-learn's ``train_test_split(range(n),
    test_size=n_val, random_state=seed, stratify=stratify)`` (its shuffle and
    stratified-shuffle algorithms; a test compares the two).

    Args:
        n: the number of samples.
        n_val: how many go to validation (1 .. n - 1).
        seed: the random state (0 .. 2³² − 1).
        stratify: one class label per sample, each class at least twice, and
            at least as many samples in each part as classes; None: unstratified.
    """
    rng = np.random.RandomState(seed)
    if stratify is None:
        perm = rng.permutation(n)
        return perm[n_val:], perm[:n_val]
    classes, y_idx, counts = np.unique(stratify, return_inverse=True, return_counts=True)
    members = np.split(np.argsort(y_idx.reshape(-1), kind="stable"), np.cumsum(counts)[:-1])
    n_train = _approximate_mode(counts, n - n_val, rng)
    n_valid = _approximate_mode(counts - n_train, n_val, rng)
    train: list = []
    val: list = []
    for i in range(len(classes)):
        mine = members[i].take(rng.permutation(counts[i]), mode="clip")
        train.extend(mine[:n_train[i]])
        val.extend(mine[n_train[i]:n_train[i] + n_valid[i]])
    return rng.permutation(train), rng.permutation(val)


def _approximate_mode(counts: np.ndarray, draws: int, rng: np.random.RandomState) -> np.ndarray:
    """Samples per class when drawing ``draws`` of them in proportion to ``counts``:
    the floors of the shares, then one more for the largest remainders (ties
    broken at random), as scikit-learn's stratified split does."""
    exact = counts / counts.sum() * draws
    out = np.floor(exact)
    need = int(draws - out.sum())
    if need > 0:
        rest = exact - out
        for value in np.sort(np.unique(rest))[::-1]:
            (inds,) = np.where(rest == value)
            now = min(len(inds), need)
            out[rng.choice(inds, size=now, replace=False)] += 1
            need -= now
            if need == 0:
                break
    return out.astype(int)


def finish(name: str, task: str, X: np.ndarray, y: np.ndarray, *, seed: int,
           val_fraction: float, description: str, num_classes: int | None = None,
           class_names: list[str] | None = None, standardise: bool = False,
           where: str | None = None) -> Dataset:
    """Split ``X, y`` into training and validation parts and build the Dataset.

    Args:
        name: the dataset's name (built-in name or file name).
        task: "classification" or "regression".
        X: samples, float32 or int64, shape ``(n, *input_shape)``.
        y: targets (int64 classes, or float32 regression values ``(n, k)``).
        seed: the split's random state.
        val_fraction: the validation part's share, in (0, 1).
        description: one line for people; the split sizes are appended.
        num_classes: for classification.
        class_names: for classification, ``num_classes`` names.
        standardise: scale each feature with the training part's mean and std.
        where: the name used in messages (defaults to ``name``).
    """
    where = where or name
    check_arrays(X, y, where)
    n = X.shape[0]
    n_val = int(np.ceil(n * val_fraction))
    if n_val < 1 or n - n_val < 1:
        raise DatasetError(f"{where}: {n} samples cannot be split with val_fraction "
                           f"{val_fraction}; both parts need at least one sample")
    stratify = None
    note = ""
    if task == "classification" and y.ndim == 1:
        counts = np.bincount(y, minlength=num_classes or 0)
        present = counts[counts > 0]
        if present.min() >= 2 and n_val >= len(present) and n - n_val >= len(present):
            stratify = y
        else:
            note = "; split not stratified (some class has too few samples)"
    tr, va = split_indices(n, n_val, seed, stratify)
    X_train, X_val = X[tr], X[va]
    prep: dict = {}
    if standardise:
        mean = X_train.mean(axis=0, dtype=np.float64)
        std = X_train.std(axis=0, dtype=np.float64)
        std[std == 0] = 1.0  # a constant feature stays constant instead of dividing by 0
        X_train = ((X_train - mean) / std).astype(np.float32)
        X_val = ((X_val - mean) / std).astype(np.float32)
        prep["standardise"] = {"mean": mean.tolist(), "std": std.tolist()}
    description = f"{description} ({len(tr)} training / {len(va)} validation samples{note})"
    return Dataset(
        name=name, task=task,
        X_train=np.ascontiguousarray(X_train), y_train=np.ascontiguousarray(y[tr]),
        X_val=np.ascontiguousarray(X_val), y_val=np.ascontiguousarray(y[va]),
        input_shape=tuple(int(d) for d in X.shape[1:]), input_dtype=str(X.dtype),
        num_classes=num_classes if task == "classification" else None,
        class_names=list(class_names) if task == "classification" and class_names else None,
        target_shape=tuple(int(d) for d in y.shape[1:]), description=description,
        preprocessing=prep)
