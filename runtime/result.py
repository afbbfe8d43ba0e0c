"""How a training run ended and what it measured: :class:`RunResult`.

Kept apart from the engine so that the loop that makes it, the command line
that prints it and the process bridge that sends it need not import the
trainer itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .faults import Fault


@dataclass
class RunResult:
    """How a run ended and what it measured.

    Attributes:
        stopped: ``"completed"``, ``"stopped"`` (stop()), ``"early_stopping"``
            or ``"error"`` (see ``fault``).
        epochs: completed epochs (including those of a resumed run).
        metrics: the last epoch's metrics (or the partial epoch's train loss).
        history: per-epoch metrics.
        step_losses: every step's training loss.
        confusion: rows = true class, columns = predicted (classification).
        per_class_accuracy: recall per class.
        diagnosis: findings as dicts (kind, message, suggestion, node).
        checkpoints: ``{"best": path, "last": path}`` of those written.
    """

    stopped: str
    epochs: int
    task: str
    device: str
    metrics: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    step_losses: list = field(default_factory=list)
    confusion: list | None = None
    class_names: list | None = None
    per_class_accuracy: list | None = None
    diagnosis: list = field(default_factory=list)
    checkpoints: dict = field(default_factory=dict)
    fault: Fault | None = None
    notes: list = field(default_factory=list)

    def summary(self) -> dict:
        """The one JSON object the command line prints last."""
        keys = ("train_loss", "train_accuracy", "train_mae", "val_loss", "val_accuracy",
                "val_mae", "val_rmse")
        out = {"epochs": self.epochs, "stopped": self.stopped, "task": self.task,
               "device": self.device}
        out.update({k: self.metrics[k] for k in keys if self.metrics.get(k) is not None})
        # each trained output's own metric, in a network with several Outputs
        out.update({k: v for k, v in self.metrics.items()
                    if k.startswith(("val_accuracy_", "val_mae_")) and v is not None})
        out["diagnosis"] = [d["message"] + "; " + d["suggestion"] for d in self.diagnosis]
        out["checkpoints"] = self.checkpoints
        if self.fault is not None:
            out["error"] = self.fault.message
            out["fault"] = self.fault.to_json()
        return out
