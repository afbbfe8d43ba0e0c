"""What loading a dataset gives: :class:`Dataset`, :class:`SampleShape` and
:class:`DatasetError` (exported by :mod:`runtime.data`).

A leaf module (standard library only), so that every reader of the package
imports these from here and none imports the package back (no import loop).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import TrainingError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np


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
