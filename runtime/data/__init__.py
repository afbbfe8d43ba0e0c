"""Datasets for training: the built-in sets and the user's own files.

:func:`load_dataset` turns a project's ``training.dataset`` object
(``project-format.md``, "Training") into a :class:`Dataset` of NumPy arrays,
already split into training and validation parts; :func:`builtin_catalog`
describes the built-in sets without loading anything; :func:`check_fits` says
in words when a dataset's samples do not fit the network's ``Input``.

Importing this package is cheap (standard library only): numpy, scikit-learn
and Pillow are imported by :func:`load_dataset` when it runs, so the editor can
show the catalogue before torch or numpy are loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import TrainingError
from .catalog import BuiltinInfo, builtin_catalog
from .fit import check_fits

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["Dataset", "DatasetError", "BuiltinInfo", "SampleShape", "load_dataset",
           "sample_shape", "builtin_catalog", "check_fits"]


class DatasetError(TrainingError):
    """A dataset cannot be loaded; the message says why, for a person."""


@dataclass
class Dataset:
    """Arrays ready for training, split into training and validation parts.

    ``X_*`` are float32 (int64 for token ids) with shape ``(n, *input_shape)``;
    ``y_*`` are int64 class indices for classification (shape ``(n,)``, or
    ``(n, T)`` for per-step token targets) and float32 ``(n, k)`` for
    regression, so that ``y_*.shape[1:] == target_shape``.
    """

    name: str
    task: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    input_shape: tuple
    input_dtype: str
    num_classes: int | None
    class_names: list[str] | None
    target_shape: tuple
    description: str
    #: How features were transformed (e.g. ``{"standardise": {"mean": [...],
    #: "std": [...]}}``), so that new samples can be prepared the same way.
    preprocessing: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SampleShape:
    """What one sample of a file dataset looks like, told without loading it
    (what :func:`check_fits` reads)."""

    name: str
    input_shape: tuple
    input_dtype: str


def sample_shape(spec: dict, base_dir: Path | None = None) -> SampleShape | None:
    """One sample's shape and dtype of a file dataset, from its header alone: the
    CSV header row, the ``X.npy`` header inside the ``.npz``, the images' headers.

    The editor checks a file against the network's ``Input`` with it before
    Start; the same checks and messages as :func:`load_dataset` apply to what
    is read.

    Returns:
        The shape, or None for a built-in dataset (its catalogue entry knows it).

    Raises:
        DatasetError: the file cannot give samples; the message says why.
    """
    from .loader import sample_shape as read

    return read(spec, base_dir)


def load_dataset(spec: dict, base_dir: Path | None = None, seed: int = 0) -> Dataset:
    """Load the dataset a project names and split it.

    Args:
        spec: the ``training.dataset`` object: ``{"name": BUILTIN, ...options}``,
            ``{"csv": PATH, "target": COLUMN}``, ``{"npz": PATH}`` or
            ``{"image_folder": PATH, "size": [H, W]}``; each may add
            ``"val_fraction"`` (default 0.2) and, for user files, ``"task"``.
        base_dir: the folder relative paths are resolved against (the project
            file's folder); the current directory when None.
        seed: seeds generation and the split: the same seed gives identical arrays.

    Returns:
        The loaded, split and (for tabular features) standardised dataset.

    Raises:
        DatasetError: the spec or a file is bad; the message says what to change.
    """
    from .loader import load

    return load(spec, base_dir, seed)
