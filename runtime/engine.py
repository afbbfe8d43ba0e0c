"""The training engine: a plain, Qt-free :class:`Trainer` driven through callbacks.

The command line and the GUI's worker thread drive the same object
(architecture rule 5): they pass :class:`Callback` objects and may call
:meth:`Trainer.stop`, :meth:`Trainer.pause` and :meth:`Trainer.resume` from
any thread (one condition variable guards them, so a stop can never be lost
behind a pause).  A stop takes effect before the next batch, keeps the
metrics so far and writes a checkpoint from which a resumed run continues
exactly: a stop inside an epoch saves that epoch's permutation and step.

Resuming (``resume=``): the run continues to ``epochs`` with the saved
optimizer, schedule and RNG states.  A schedule whose length follows the
run's length (``OneCycleLR``'s ``total_steps``, ``CosineAnnealingLR``'s
``T_max``, also behind ``LinearWarmup``) cannot be stretched halfway through,
so resuming it with another number of epochs (or steps per epoch) is refused
before training, with the two lengths named: resume with the original
epochs, or start a new run from the weights (``init_weights=``).

Fast by design (``quality.md`` B2): the dataset lives on the training device
as tensors; each epoch draws one ``torch.randperm`` there and indexes batches
from it; metrics accumulate on the device and are read back a few times per
second (``report_every`` seconds), never per step.  The one exception is the
CPU, where reading a scalar costs nothing (there is no queue to drain): there
the loss is checked for NaN/Inf at every step, *before* the update, so the
layer that produced it can be named while the weights are still intact.

Faults during training (NaN/Inf loss, an exception inside a layer, out of
memory, a checkpoint the disk has no room for) do not raise: the run ends with
``stopped="error"`` and a :class:`~runtime.faults.Fault` in the
:class:`RunResult`.  Problems found before training (bad settings, a dataset
that does not fit, a run folder that cannot be written) raise a
:class:`~runtime.errors.TrainingError` from :meth:`Trainer.prepare`.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import loop
from .config import higher_is_better, parse_training
from .errors import ConfigError
from .faults import Fault


class Callback:
    """Receives a run's events; override what you need (all no-ops here).

    Called on the training thread; keep them quick (a GUI should post the
    data to its own thread).
    """

    def on_run_start(self, info: dict) -> None:
        """Before the first step: device, sizes, node names, settings, notes."""

    def on_step(self, metrics: dict) -> None:
        """A few times per second: epoch, step, loss, losses, lr, samples_per_s, and the
        epoch's running ``train_accuracy`` (classification) or ``train_mae``."""

    def on_epoch_end(self, metrics: dict) -> None:
        """After validation: train/val loss, accuracy or MAE/RMSE, grad norms, dead units,
        and ``diagnosis`` (the findings so far, as in :attr:`RunResult.diagnosis`)."""

    def on_run_end(self, result: "RunResult") -> None:
        """Once, however the run ended (also after a fault)."""


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
        out["diagnosis"] = [d["message"] + "; " + d["suggestion"] for d in self.diagnosis]
        out["checkpoints"] = self.checkpoints
        if self.fault is not None:
            out["error"] = self.fault.message
            out["fault"] = self.fault.to_json()
        return out


class Trainer:
    """Trains a graph's model on its dataset.

    Args:
        graph: the network (:class:`graph.Graph`).
        training: the project's ``training`` settings (``project-format.md``).
        name: the project name.
        callbacks: :class:`Callback` objects (or anything with those methods).
        dataset: an already loaded :class:`runtime.data.Dataset` (else loaded
            from ``training["dataset"]``).
        base_dir: folder for relative dataset paths (the project file's).
        out_dir: folder for ``best.pt``/``last.pt``; None writes no checkpoints.
        resume: a checkpoint to continue from (weights, optimizer, schedule,
            epoch and history).
        init_weights: a checkpoint whose weights start this run (a fresh
            optimizer, epoch 0): a finished run's model loaded back.
        overrides: settings replacing the file's (e.g. ``{"epochs": 3}``).
        project: the project document (dict) stored in checkpoints.
        report_every: seconds between ``on_step`` calls.

    Raises:
        ConfigError: a bad setting (checked here, before anything is built).
    """

    def __init__(self, graph, training: dict | None = None, *, name: str = "Network",
                 callbacks=(), dataset=None, base_dir=None, out_dir=None, resume=None,
                 overrides: dict | None = None, project: dict | None = None,
                 report_every: float = 0.25, init_weights=None):
        self.graph = graph
        self.training = dict(training or {})
        self.config = parse_training(self.training, overrides, graph)
        self.name = name
        self.callbacks = list(callbacks)
        self.dataset = dataset
        self.base_dir = base_dir
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.resume_from = resume
        self.init_weights = init_weights
        self.project = project or {"name": name, "training": self.training}
        self.report_every = report_every
        self.notes: list[str] = []
        self._cond = threading.Condition()
        self._stopping = False
        self._paused = False
        #: True while a stop or pause is asked: the one flag the loop reads per step.
        self.hold = False
        self.pending_epoch: dict | None = None  # a stopped epoch to continue (resume)
        self.epoch_state: dict | None = None    # the epoch under way, for a partial checkpoint
        self.prepared = False

    @classmethod
    def from_project(cls, project, **kwargs) -> "Trainer":
        """A trainer for a :class:`graph.project.Project` (dataset paths relative to it)."""
        from graph.project import project_to_dict

        base = Path(project.path).parent if getattr(project, "path", None) else None
        kwargs.setdefault("base_dir", base)
        kwargs.setdefault("project", project_to_dict(project))
        return cls(project.graph, project.training, name=project.name, **kwargs)

    # ------------------------------------------------------------ control (any thread)
    def stop(self) -> None:
        """Stop before the next batch; metrics and a checkpoint are kept."""
        with self._cond:
            self._stopping = True
            self.hold = True
            self._cond.notify_all()

    def pause(self) -> None:
        """Hold before the next batch until :meth:`resume` (or :meth:`stop`)."""
        with self._cond:
            if not self._stopping:
                self._paused = True
                self.hold = True

    def resume(self) -> None:
        """Continue after :meth:`pause`."""
        with self._cond:
            self._paused = False
            self.hold = self._stopping
            self._cond.notify_all()

    def wait_while_paused(self) -> float:
        """Block while paused, until :meth:`resume` or :meth:`stop`; seconds waited."""
        with self._cond:
            if not self._paused or self._stopping:
                return 0.0
            t0 = self.now()
            while self._paused and not self._stopping:
                self._cond.wait()
            return self.now() - t0

    @property
    def paused(self) -> bool:
        return self._paused and not self._stopping

    @property
    def stopping(self) -> bool:
        return self._stopping

    # ------------------------------------------------------------ set-up
    def prepare(self) -> None:
        """Load data, build the model, optimizer and schedule; resume if asked; make
        sure the run folder (``out_dir``) can be written.

        Raises:
            TrainingError: any reason training cannot start (message for a person).
        """
        from .optim import build_loss, build_optimizer, build_schedule
        from .setup import build_setup

        c = self.config
        s = self.setup = build_setup(self.graph, c, self.name, self.training, self.dataset,
                                     self.base_dir)
        self.device = s.device
        #: Read each step's loss at once (the NaN check before the update): on the CPU
        #: reading a scalar costs nothing; elsewhere it would wait for the queue to drain,
        #: so losses stay on the device and are checked when reported.
        self.sync_loss = s.device.type == "cpu"
        self.model = s.model
        self.criterion = build_loss(s.loss_spec, s.device)
        self.optimizer = build_optimizer(c.optimizer, s.model.parameters())
        n = len(s.X)
        # A last batch of one sample is left out of the epoch (each epoch shuffles,
        # so no sample is left out for good): BatchNorm cannot normalise a batch
        # of one and would stop the run at the end of every epoch.
        self.steps_per_epoch = n // c.batch_size if n % c.batch_size == 1 and n > 1 \
            else math.ceil(n / c.batch_size)
        opt_steps = math.ceil(self.steps_per_epoch / c.grad_accum_steps)
        self.schedule = build_schedule(c.scheduler, self.optimizer, c.epochs, opt_steps)
        self.schedule.check_fits(c.epochs * opt_steps, f"{c.epochs} epochs × {opt_steps} "
                                 "optimizer steps")
        self.monitor = (c.early_stopping or {}).get("monitor") or \
            ("val_loss" if len(s.Xv) else "train_loss")
        measured = {"train_loss", "val_loss", "val_accuracy"} if s.plan.classification else \
            {"train_loss", "val_loss", "val_mae", "val_rmse"}
        if self.monitor not in measured or (self.monitor.startswith("val") and not len(s.Xv)):
            raise ConfigError(f"{self.monitor} is not measured in this run (measured: "
                              f"{', '.join(sorted(measured))})", "early_stopping.monitor")
        self.autocast, self.scaler = self._amp()
        self.fwd = self._compiled()
        self.generator = torch.Generator(device=s.device)
        self.generator.manual_seed(c.seed)
        self.history: list[dict] = []
        self.step_losses: list[float] = []
        self.epoch = 0
        self.step = 0
        self.best = {"monitor": self.monitor, "value": None, "epoch": None, "bad_epochs": 0}
        if self.resume_from is not None:
            from .resume import restore

            restore(self, self.resume_from)
        elif self.init_weights is not None:
            from .checkpoint import load_checkpoint, load_weights

            ck = load_checkpoint(self.init_weights)
            load_weights(self.model, ck["model"], f"checkpoint {str(self.init_weights)!r}")
            self.notes.append(f"weights loaded from {str(self.init_weights)!r}")
        if self.out_dir is not None:  # refused now, not after the first epoch has trained
            from .checkpoint import check_run_folder, checkpoint_size

            check_run_folder(self.out_dir, checkpoint_size(self.model))
        self.prepared = True

    def _amp(self):
        amp = self.config.amp
        if not amp:
            return None, None
        if self.device.type != "cuda":
            self.notes.append(f"mixed precision is used on CUDA only; training in float32 on "
                              f"{self.device.type}")
            return None, None
        bf16 = amp in (True, "bf16") and torch.cuda.is_bf16_supported()
        dtype = torch.bfloat16 if bf16 else torch.float16
        scaler = None if bf16 else torch.amp.GradScaler("cuda")
        return (lambda: torch.autocast("cuda", dtype=dtype)), scaler

    def _compiled(self):
        if not self.config.compile:
            return self.model
        try:
            fwd = torch.compile(self.model)
            with torch.no_grad():
                fwd(self.setup.X[:2])
            return fwd
        except Exception as exc:  # a missing compiler must not stop training
            from .faults import describe_error

            self.notes.append(f"torch.compile is not available here ({describe_error(exc)}); "
                              "training without it")
            return self.model

    # ------------------------------------------------------------ running
    def run(self) -> RunResult:
        """Train to the end (or until stopped, early-stopped or a fault).

        Raises:
            TrainingError: from :meth:`prepare`, before any callback is called.
        """
        if not self.prepared:
            self.prepare()
        return loop.run(self)

    def emit(self, event: str, payload) -> None:
        for cb in self.callbacks:
            fn = getattr(cb, event, None)
            if fn is not None:
                fn(payload)

    def improved(self, value: float | None) -> bool:
        """Update the best monitored value; True when ``value`` is a new best."""
        if value is None or not math.isfinite(value):
            return False
        best = self.best["value"]
        delta = (self.config.early_stopping or {}).get("min_delta", 0.0)
        better = best is None or (value > best + delta if higher_is_better(self.monitor)
                                  else value < best - delta)
        if better:
            self.best.update(value=value, epoch=self.epoch, bad_epochs=0)
        else:
            self.best["bad_epochs"] += 1
        return better

    def checkpoint_state(self, partial: bool) -> dict:
        """What a checkpoint holds now (``partial``: stopped inside an epoch)."""
        from .resume import checkpoint_state

        return checkpoint_state(self, partial)

    def now(self) -> float:
        return time.perf_counter()
