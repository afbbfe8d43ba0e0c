"""The ``training`` section of a project, checked and with defaults filled in.

:func:`parse_training` turns the JSON dict of ``project-format.md``
("Training") into a :class:`TrainConfig`.  Every key is optional; an unknown
key or a value of the wrong type is a :class:`~runtime.errors.ConfigError`
naming the key (with a "did you mean" hint for typos).  Loss, optimizer and
schedule *names and kwargs* are checked where they are built
(:mod:`runtime.optim`).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError

KEYS = ("dataset", "task", "loss", "optimizer", "scheduler", "epochs", "batch_size", "seed",
        "device", "grad_accum_steps", "grad_clip_norm", "l1", "early_stopping", "amp",
        "compile")
DEVICES = ("auto", "cpu", "cuda", "mps")
MONITORS = ("val_loss", "val_accuracy", "val_mae", "val_rmse", "train_loss")


def did_you_mean(name: str, known) -> str:
    """A hint for a misspelt name: ``"; did you mean 'epochs'?"`` or the known list."""
    close = difflib.get_close_matches(str(name), list(known), n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return "; known: " + ", ".join(known)


@dataclass
class TrainConfig:
    """Training settings with defaults (``project-format.md``, "Training")."""

    dataset: dict | None = None
    task: str | None = None
    loss: dict | None = None
    optimizer: dict = field(default_factory=lambda: {"type": "Adam", "lr": 1e-3})
    scheduler: dict | None = None
    epochs: int = 10
    batch_size: int = 64
    seed: int = 0
    device: str = "auto"
    grad_accum_steps: int = 1
    grad_clip_norm: float | None = None
    l1: float = 0.0
    early_stopping: dict | None = None
    amp: bool | str = False
    compile: bool = False


def _int(v: Any, key: str, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ConfigError(f"must be a whole number, got {v!r}", key)
    if v < lo:
        raise ConfigError(f"must be at least {lo}, got {v}", key)
    return v


def _float(v: Any, key: str, lo: float = 0.0, allow_none: bool = False) -> float | None:
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ConfigError(f"must be a number, got {v!r}", key)
    if v < lo:
        raise ConfigError(f"must be at least {lo}, got {v}", key)
    return float(v)


def _typed(v: Any, key: str, allow_none: bool = True) -> dict | None:
    if v is None and allow_none:
        return None
    if not isinstance(v, dict) or not isinstance(v.get("type"), str):
        raise ConfigError(f'must be an object with a "type" name, got {v!r}', key)
    return dict(v)


def parse_training(training: dict | None, overrides: dict | None = None) -> TrainConfig:
    """Check a project's ``training`` dict and fill in defaults.

    Args:
        training: the project's ``training`` section (may be None or empty).
        overrides: values that replace the file's (command-line options);
            None values are ignored.

    Raises:
        ConfigError: an unknown key or a bad value, naming the key.
    """
    t = dict(training or {})
    if not isinstance(training or {}, dict):
        raise ConfigError(f"the training settings must be an object, got {training!r}")
    for k, v in (overrides or {}).items():
        if v is not None:
            t[k] = v
    for k in t:
        if k not in KEYS:
            raise ConfigError(f"unknown setting{did_you_mean(k, KEYS)}", k)
    c = TrainConfig()
    if t.get("dataset") is not None:
        if not isinstance(t["dataset"], dict):
            raise ConfigError(f"must be an object, got {t['dataset']!r}", "dataset")
        c.dataset = dict(t["dataset"])
    task = t.get("task")
    if task not in (None, "classification", "regression"):
        raise ConfigError(f'must be "classification" or "regression", got {task!r}', "task")
    c.task = task
    c.loss = _typed(t.get("loss"), "loss")
    if t.get("optimizer") is not None:
        c.optimizer = _typed(t["optimizer"], "optimizer", allow_none=False)
    c.scheduler = _typed(t.get("scheduler"), "scheduler")
    c.epochs = _int(t.get("epochs", c.epochs), "epochs", 1)
    c.batch_size = _int(t.get("batch_size", c.batch_size), "batch_size", 1)
    c.seed = _int(t.get("seed", c.seed), "seed", 0)
    device = t.get("device", "auto")
    if device not in DEVICES:
        raise ConfigError(f"must be one of {', '.join(DEVICES)}, got {device!r}", "device")
    c.device = device
    c.grad_accum_steps = _int(t.get("grad_accum_steps", 1), "grad_accum_steps", 1)
    c.grad_clip_norm = _float(t.get("grad_clip_norm"), "grad_clip_norm", allow_none=True)
    if c.grad_clip_norm == 0:
        raise ConfigError("must be a positive number (or null for no clipping)", "grad_clip_norm")
    c.l1 = _float(t.get("l1", 0.0), "l1")
    c.early_stopping = _early(t.get("early_stopping"))
    amp = t.get("amp", False)
    if not isinstance(amp, bool) and amp not in ("bf16", "fp16"):
        raise ConfigError(f'must be false, true, "bf16" or "fp16", got {amp!r}', "amp")
    c.amp = amp
    comp = t.get("compile", False)
    if not isinstance(comp, bool):
        raise ConfigError(f"must be true or false, got {comp!r}", "compile")
    c.compile = comp
    return c


def _early(v: Any) -> dict | None:
    if v is None or v is False:
        return None
    if not isinstance(v, dict):
        raise ConfigError(f'must be null or {{"patience": P, "monitor": "val_loss"}}, got {v!r}',
                          "early_stopping")
    for k in v:
        if k not in ("patience", "monitor", "min_delta"):
            raise ConfigError(f"unknown setting{did_you_mean(k, ('patience', 'monitor', 'min_delta'))}",
                              f"early_stopping.{k}")
    out = {"patience": _int(v.get("patience", 5), "early_stopping.patience", 1),
           "monitor": v.get("monitor", "val_loss"),
           "min_delta": _float(v.get("min_delta", 0.0), "early_stopping.min_delta")}
    if out["monitor"] not in MONITORS:
        raise ConfigError(f"must be one of {', '.join(MONITORS)}, got {out['monitor']!r}",
                          "early_stopping.monitor")
    return out


def higher_is_better(monitor: str) -> bool:
    """Whether a larger value of a monitored metric is an improvement."""
    return monitor.endswith("accuracy")
