"""Datasets with one array per ``Input`` and per ``Output`` (``project-format.md``,
"Several inputs and outputs in training").

An ``.npz`` file may hold ``X_<input id>`` for each ``Input`` and
``y_<output id>`` for the ``Output`` nodes that have a target; an ``Output``
without one takes no loss.  :func:`load_node_arrays` reads such a file into
a :class:`NodeDataset`: each input array is converted like ``X`` (signed
integers are token ids, int64; other numbers float32, used as they are), each
target like ``y`` (floats are regression values, integers, booleans and text
are classes, 1-D labels mapped to 0..K-1 in sorted order; or the project's
``task``), and all of them are split by one shuffle, so that sample ``i`` of
every array stays together.  The file is read with ``allow_pickle=False`` and
its sizes are checked before decompressing (:func:`runtime.data.npz.read_arrays`).

A :class:`NodeDataset` is a :class:`~runtime.data.Dataset` whose ``X_*`` and
``y_*`` are its first input's and first target's arrays, so code that shows
a dataset (its name, sizes, first input) reads it as before.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .dataset import Dataset, DatasetError
# at the top, not inside the functions: the exported training script copies this
# module's functions (codegen.bundle), which follows top-level imports only
from .npz import read_arrays
from .prepare import encode_labels, split_indices

#: Prefixes of the arrays that belong to one node.
INPUT_PREFIX, TARGET_PREFIX = "X_", "y_"


@dataclass
class TargetArrays:
    """One ``Output``'s targets, split.

    Attributes:
        task: ``"classification"`` or ``"regression"``.
        train, val: int64 class indices (``(n,)``, or ``(n, T)`` per step) or
            float32 values ``(n, k)``.
        num_classes, class_names: for classification (else None).
    """

    task: str
    train: np.ndarray
    val: np.ndarray
    num_classes: int | None = None
    class_names: list[str] | None = None

    @property
    def shape(self) -> tuple:
        """One sample's target shape."""
        return tuple(self.train.shape[1:])


@dataclass
class NodeDataset(Dataset):
    """A dataset with arrays by node id.

    Attributes:
        inputs: ``Input`` id → ``(train, val)`` arrays, in the file's order.
        targets: ``Output`` id → :class:`TargetArrays`.
    """

    inputs: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    targets: dict[str, TargetArrays] = field(default_factory=dict)

    def input_dtype_of(self, input_id: str) -> str:
        """``"int64"`` (token ids) or ``"float32"``."""
        return "int64" if self.inputs[input_id][0].dtype == np.int64 else "float32"


def holds_node_arrays(path: Path) -> bool:
    """Whether an ``.npz`` file names its arrays by node (``X_<id>``/``y_<id>``) rather
    than ``X`` and ``y`` (read from the archive's directory only)."""
    try:
        with zipfile.ZipFile(path) as z:
            names = {n[:-4] for n in z.namelist() if n.endswith(".npy")}
    except (OSError, zipfile.BadZipFile, ValueError):
        return False  # the ordinary reader says what is wrong with the file
    if {"X", "y"} <= names:
        return False
    return any(n.startswith((INPUT_PREFIX, TARGET_PREFIX)) for n in names)


def _input_array(name: str, key: str, a: np.ndarray) -> np.ndarray:
    if a.ndim < 2:
        raise DatasetError(f"{name}: {key} has shape {tuple(a.shape)}; it needs one row per "
                           "sample (shape (n, features...))")
    if a.dtype.kind == "i":
        return a.astype(np.int64)
    if a.dtype.kind not in "buf":
        raise DatasetError(f"{name}: {key} has dtype {a.dtype}; it must be numeric")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        first = int(np.argwhere(~np.isfinite(a))[0][0])
        raise DatasetError(f"{name}: {key} contains NaN or infinite values (first at sample "
                           f"{first}); remove or fill them first")
    return a.astype(np.float32)


def _target_array(name: str, key: str, y: np.ndarray, task: str | None):
    """``(array, task, num_classes, class_names)`` for one target array."""
    where = f"{name}: {key}"
    if y.ndim < 1:
        raise DatasetError(f"{where} is a single value; it needs one target per sample")
    if y.dtype.kind not in "biufUS":
        raise DatasetError(f"{where} has dtype {y.dtype}; it must hold numbers or labels")
    task = task or ("regression" if y.dtype.kind == "f" else "classification")
    if task == "regression":
        if y.dtype.kind in "US":
            raise DatasetError(f"{where} holds text labels, which cannot be regression "
                               'targets; set training.task to "classification"')
        y = y.astype(np.float32)
        if not np.isfinite(y).all():
            raise DatasetError(f"{where} contains NaN or infinite values; remove or fill "
                               "them first")
        return (y.reshape(-1, 1) if y.ndim == 1 else y), task, None, None
    if y.dtype.kind == "f":
        if not np.isfinite(y).all() or not np.all(y == np.round(y)):
            raise DatasetError(f"{where} holds fractional values, which are not class labels; "
                               'use whole numbers or set training.task to "regression"')
        y = y.astype(np.int64)
    if y.ndim == 1:
        y, names = encode_labels(y, where)
        return y, task, len(names), names
    if y.dtype.kind in "US" or y.min() < 0:
        raise DatasetError(f"{where} has shape {y.shape} (one class per step); its classes "
                           "must be whole numbers from 0")
    k = int(y.max()) + 1
    return y.astype(np.int64), task, k, [str(i) for i in range(k)]


def load_node_arrays(spec: dict, base_dir: Path | None, seed: int, input_ids: list[str],
                     output_ids: list[str], task: str | None = None) -> NodeDataset:
    """Read an ``.npz`` with arrays by node id and split it.

    Args:
        spec: the ``training.dataset`` object (``{"npz": PATH, "val_fraction": …}``).
        base_dir: the folder a relative path is relative to (the project's).
        seed: the split's random state.
        input_ids: the network's ``Input`` ids (each needs its ``X_<id>``).
        output_ids: the network's ``Output`` ids (``y_<id>`` optional for each,
            at least one needed).
        task: the project's ``task`` for every target (None: from each array).

    Raises:
        DatasetError: a missing, unknown or malformed array; the message names it.
    """
    path = Path(spec["npz"])
    if base_dir is not None and not path.is_absolute():
        path = Path(base_dir) / path
    name = path.name
    if not path.is_file():
        raise DatasetError(f"{name}: no such file ({path})")
    arrays = read_arrays(path)
    have = ", ".join(arrays) or "none"
    unknown = [k for k in arrays
               if not (k.startswith(INPUT_PREFIX) and k[2:] in input_ids)
               and not (k.startswith(TARGET_PREFIX) and k[2:] in output_ids)]
    if unknown:
        raise DatasetError(
            f"{name}: array {unknown[0]} belongs to no node of the network (its Inputs: "
            f"{', '.join(input_ids) or 'none'}; its Outputs: {', '.join(output_ids) or 'none'}); "
            "name the arrays X_<input id> and y_<output id>")
    missing = [f"{INPUT_PREFIX}{i}" for i in input_ids if f"{INPUT_PREFIX}{i}" not in arrays]
    if missing:
        raise DatasetError(f"{name}: has no array {' or '.join(missing)} for the network's "
                           f"Input(s) (arrays in the file: {have}); save one array per Input "
                           "with numpy.savez(path, X_<input id>=..., y_<output id>=...)")
    targets = [o for o in output_ids if f"{TARGET_PREFIX}{o}" in arrays]
    if not targets:
        raise DatasetError(f"{name}: has no target array (y_<output id>) for any of the "
                           f"network's Outputs ({', '.join(output_ids)}); arrays in the file: "
                           f"{have}")
    n = None
    for k, a in arrays.items():
        if a.ndim < 1:
            raise DatasetError(f"{name}: {k} is a single value; it needs one row per sample")
        if n is None:
            n, first = a.shape[0], k
        elif a.shape[0] != n:
            raise DatasetError(f"{name}: {first} has {n} samples but {k} has {a.shape[0]}; "
                               "all arrays must have the same length")
    if not n:
        raise DatasetError(f"{name}: has no samples; save arrays with one row per sample")
    vf = spec.get("val_fraction", 0.2)
    n_val = int(np.ceil(n * vf))
    if n_val < 1 or n - n_val < 1:
        raise DatasetError(f"{name}: {n} samples cannot be split with val_fraction {vf}; both "
                           "parts need at least one sample")
    tr, va = split_indices(n, n_val, seed)
    inputs = {}
    for i in input_ids:
        a = _input_array(name, f"{INPUT_PREFIX}{i}", arrays[f"{INPUT_PREFIX}{i}"])
        inputs[i] = (a[tr], a[va])
    outs = {}
    for o in targets:
        y, t, k, names = _target_array(name, f"{TARGET_PREFIX}{o}",
                                       arrays[f"{TARGET_PREFIX}{o}"], task)
        outs[o] = TargetArrays(t, y[tr], y[va], k, names)
    x0, t0 = inputs[input_ids[0]], outs[targets[0]]
    desc = f"{name}: inputs {', '.join(input_ids)} → targets {', '.join(targets)}"
    return NodeDataset(name=name, task=t0.task, X_train=x0[0], y_train=t0.train, X_val=x0[1],
                       y_val=t0.val, input_shape=tuple(x0[0].shape[1:]),
                       input_dtype="int64" if x0[0].dtype == np.int64 else "float32",
                       num_classes=t0.num_classes, class_names=t0.class_names,
                       target_shape=t0.shape, description=desc, inputs=inputs, targets=outs)
