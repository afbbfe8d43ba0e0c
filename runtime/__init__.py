"""Training runtime: datasets, the training engine, metrics, checkpoints, diagnosis.

No Qt here (architecture rule 5): :class:`~runtime.engine.Trainer` is a plain
object driven through callbacks, by the command line (:mod:`runtime.cli`) and
by the GUI's worker thread alike.

Importing this package is cheap: torch is imported only when an engine name
is first used (``from runtime import Trainer``), so the editor can import
``runtime.data`` before torch is loaded.
"""

from __future__ import annotations

from .errors import (CheckpointError, CheckpointFieldError, ConfigError, DataMismatchError,
                     OutputFolderError, ResumeError, TrainingError)

_LAZY = {
    "Trainer": "engine", "Callback": "engine", "RunResult": "engine",
    "Fault": "faults", "Finding": "diagnose", "diagnose": "diagnose",
    "load_checkpoint": "checkpoint", "save_checkpoint": "checkpoint",
    "parse_training": "config", "TrainConfig": "config",
}

__all__ = ["TrainingError", "ConfigError", "DataMismatchError", "CheckpointError",
           "CheckpointFieldError", "OutputFolderError", "ResumeError", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'runtime' has no attribute {name!r}")
