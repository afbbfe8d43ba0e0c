"""The ``training`` section of a project, checked and with defaults filled in.

:func:`parse_training` turns the JSON dict of ``project-format.md``
("Training") into a :class:`TrainConfig`.  Every key is optional.  The
checking itself is :func:`graph.training_check.training_problems` — the same
walk that ``check`` and the editor's Problems panel show — so a setting is
refused here exactly when it is listed there; the first problem becomes a
:class:`~runtime.errors.ConfigError` naming the key (with a "did you mean"
hint for typos).  What only torch can tell (a keyword argument this torch
version lacks, a combination it refuses) is checked where losses,
optimizers and schedules are built (:mod:`runtime.optim`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graph.problems import ERROR
from graph.training_check import (KEYS, did_you_mean, first_error_text, per_output,
                                  training_problems)
from graph.training_names import DEVICES, MONITORS

from .errors import ConfigError

__all__ = ["KEYS", "DEVICES", "MONITORS", "did_you_mean", "TrainConfig", "parse_training",
           "higher_is_better"]


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
    augment: dict | None = None
    #: Output id → weight of its loss in the sum (default 1 each).
    loss_weights: dict | None = None
    #: Output id → its own loss (a per-output ``loss``; an Output not named, or
    #: named with null, takes ``loss`` or its task's default).  None: one ``loss``.
    losses: dict | None = None


def _refuse(problems) -> None:
    """Raise the first error of the training section as a :class:`ConfigError`."""
    errors = [p for p in problems if p.severity == ERROR]
    if not errors:
        return
    first = errors[0]
    text = first_error_text(errors)
    key = None if first.location == "training" else first.location.removeprefix("training.")
    if not key:  # the section itself, or a key written as "": the text says where
        exc = ConfigError(text)
        exc.key = key
        raise exc
    raise ConfigError(text.removeprefix(f"{first.location}: "), key)


def parse_training(training: dict | None, overrides: dict | None = None,
                   graph=None) -> TrainConfig:
    """Check a project's ``training`` dict and fill in defaults.

    Args:
        training: the project's ``training`` section (may be None or empty).
        overrides: values that replace the file's (command-line options);
            None values are ignored.  They are checked like the file's.
        graph: the network (:class:`graph.Graph`), to check the Output ids a
            per-output ``loss`` and ``loss_weights`` name.

    Raises:
        ConfigError: the first problem of the section (an unknown key or a bad
            value), naming the key; or a setting the engine cannot honour yet.
    """
    if training is not None and not isinstance(training, dict):
        _refuse(training_problems(training))
    t = dict(training or {})
    for k, v in (overrides or {}).items():
        if v is not None:
            t[k] = v
    _refuse(training_problems(t, graph))
    c = TrainConfig()
    c.dataset = dict(t["dataset"]) if t.get("dataset") is not None else None
    c.task = t.get("task")
    loss = t.get("loss")
    if per_output(loss, [o.id for o in graph.ends("output")] if graph is not None else None):
        c.losses = {oid: dict(entry) if entry is not None else None
                    for oid, entry in loss.items()}
    else:
        c.loss = dict(loss) if loss is not None else None
    if t.get("optimizer") is not None:
        c.optimizer = dict(t["optimizer"])
    c.scheduler = dict(t["scheduler"]) if t.get("scheduler") is not None else None
    c.epochs = t.get("epochs", c.epochs)
    c.batch_size = t.get("batch_size", c.batch_size)
    c.seed = t.get("seed", c.seed)
    c.device = t.get("device", c.device)
    c.grad_accum_steps = t.get("grad_accum_steps", c.grad_accum_steps)
    clip = t.get("grad_clip_norm")
    c.grad_clip_norm = float(clip) if clip is not None else None
    c.l1 = float(t.get("l1", 0.0))
    es = t.get("early_stopping")
    c.early_stopping = None if es is None or es is False else {
        "patience": es.get("patience", 5), "monitor": es.get("monitor", "val_loss"),
        "min_delta": float(es.get("min_delta", 0.0))}
    c.amp = t.get("amp", False)
    c.compile = t.get("compile", False)
    c.augment = dict(t["augment"]) if t.get("augment") else None
    weights = t.get("loss_weights")
    c.loss_weights = {oid: float(w) for oid, w in weights.items()} if weights else None
    return c


def higher_is_better(monitor: str) -> bool:
    """Whether a larger value of a monitored metric is an improvement."""
    return monitor.endswith("accuracy")
