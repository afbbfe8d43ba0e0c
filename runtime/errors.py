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


class CheckpointError(TrainingError):
    """A checkpoint cannot be read, is not a NetCanvas checkpoint, or does not
    match the network."""


class ResumeError(CheckpointError):
    """A checkpoint cannot be continued with these settings (nothing is left to
    train, or its schedule was made for a run of another length)."""
