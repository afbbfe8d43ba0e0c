"""Errors of the training engine.

Everything the engine refuses before training starts is a :class:`TrainingError`
subclass with a message ready to show; faults *during* training are not raised
but reported in the run's result (see :mod:`runtime.faults`).
"""

from __future__ import annotations


class TrainingError(Exception):
    """Training cannot start; the message says why and what to change."""


class ConfigError(TrainingError):
    """A training setting is unknown or has a bad value.

    Attributes:
        key: where in the training settings (``"optimizer.betas"``), or None.
    """

    def __init__(self, message: str, key: str | None = None):
        self.key = key
        super().__init__(f"training.{key}: {message}" if key else message)


class DataMismatchError(TrainingError):
    """The dataset does not fit the network (input shape/dtype or targets)."""


class TooLargeError(TrainingError):
    """One training step of the model would not fit in the device's memory.

    Attributes:
        node: the id of the node to make smaller (or None).
    """

    def __init__(self, message: str, node: str | None = None):
        self.node = node
        super().__init__(message)


class CheckpointError(TrainingError):
    """A checkpoint cannot be read, is not a NetCanvas checkpoint, or does not
    match the network."""


class CheckpointFieldError(CheckpointError):
    """A checkpoint lacks a field, or holds one of the wrong type, shape or value.

    A file that ``torch.load(weights_only=True)`` reads holds only tensors and
    plain containers, but nothing says they are arranged as a checkpoint: this
    names the first field that is not (see :mod:`runtime.checkpoint_schema`).

    Attributes:
        field: the field's path from the checkpoint's top, e.g.
            ``checkpoint.epoch_state.perm`` or ``checkpoint.model['fc.weight']``.
        problem: what is wrong, e.g. ``expected a non-negative integer, got 'one'``.
    """

    def __init__(self, field: str, problem: str, path: str | None = None):
        self.field = field
        self.problem = problem
        where = f"checkpoint {path!r} cannot be used: " if path else ""
        super().__init__(f"{where}{field}: {problem}")


class CheckpointWriteError(CheckpointError):
    """A checkpoint cannot be written (full disk, no permission); the file that
    was there before is left whole."""


class OutputFolderError(TrainingError):
    """The run's folder (``--out``) cannot be created or written, or its disk has
    no room for a checkpoint; found before training starts."""


class ResumeError(CheckpointError):
    """A checkpoint cannot be continued with these settings (nothing is left to
    train, or its schedule was made for a run of another length)."""
