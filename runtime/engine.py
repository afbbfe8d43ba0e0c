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

The trainer owns its state: the settings and run folder given to it, a
:class:`~runtime.control.RunControl` for stop and pause, and once prepared
a :class:`~runtime.session.Session` (the built model, optimizer, schedule and
the run's progress).  The loop (:class:`runtime.loop.TrainLoop`) and the
checkpoint code (:mod:`runtime.resume`) are collaborators that receive the
session, not the trainer.

Faults during training (NaN/Inf loss, an exception inside a layer, out of
memory, a checkpoint the disk has no room for) do not raise: the run ends with
``stopped="error"`` and a :class:`~runtime.faults.Fault` in the
:class:`RunResult`.  Problems found before training (bad settings, a dataset
that does not fit, a run folder that cannot be written) raise a
:class:`~runtime.errors.TrainingError` from :meth:`Trainer.prepare`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from .config import TrainConfig, parse_training
from .control import RunControl
from .result import RunResult
from .session import RunState, Session
from .setup import Setup

if TYPE_CHECKING:  # pragma: no cover
    from graph import Graph

    from .data import Dataset

__all__ = ["Callback", "RunResult", "Trainer"]


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
        ``diagnosis`` (the findings so far, as in :attr:`RunResult.diagnosis`), and
        ``samples``: a teacher-forced sequence-to-sequence run's greedy decodes of
        3 fixed validation samples (:func:`runtime.decode.epoch_samples`), else None."""

    def on_run_end(self, result: "RunResult") -> None:
        """Once, however the run ended (also after a fault)."""


class Trainer:
    """Trains a graph's model on its dataset.

    Args:
        graph: the network (:class:`graph.Graph`).
        training: the project's ``training`` settings (``project-format.md``).
        name: the project name.
        callbacks: :class:`Callback` objects (or anything with those methods).
        dataset: an already loaded :class:`runtime.data.Dataset` (else loaded
            from ``training["dataset"]``); a
            :class:`runtime.data.node_arrays.NodeDataset` for a network with several
            Inputs or Outputs.
        base_dir: folder for relative dataset paths (the project file's).
        out_dir: folder for ``best.pt``/``last.pt``; None writes no checkpoints.
        resume: a checkpoint to continue from (weights, optimizer, schedule,
            epoch and history).
        init_weights: a checkpoint whose weights start this run (a fresh
            optimizer, epoch 0): a finished run's model loaded back.
        overrides: settings replacing the file's (e.g. ``{"epochs": 3}``).
        project: the project document (dict) stored in checkpoints.
        report_every: seconds between ``on_step`` calls.

    Attributes:
        config: the parsed settings.
        control: the stop/pause requests (:meth:`stop`, :meth:`pause`, :meth:`resume`).
        session: the prepared run (None before :meth:`prepare`); :attr:`setup`,
            :attr:`model`, :attr:`history`, :attr:`epoch`, :attr:`step` and the
            other properties read it.
        notes: remarks for the user, shown at the run's start.

    Raises:
        ConfigError: a bad setting (checked here, before anything is built).
    """

    def __init__(self, graph, training: dict | None = None, *, name: str = "Network",
                 callbacks=(), dataset=None, base_dir=None, out_dir=None, resume=None,
                 overrides: dict | None = None, project: dict | None = None,
                 report_every: float = 0.25, init_weights=None):
        self.graph: Graph = graph
        self.training: dict = dict(training or {})
        self.config: TrainConfig = parse_training(self.training, overrides, graph)
        self.name: str = name
        self.callbacks: list = list(callbacks)
        self.dataset: Dataset | None = dataset
        self.base_dir: str | Path | None = base_dir
        self.out_dir: Path | None = Path(out_dir) if out_dir is not None else None
        self.resume_from: str | Path | None = resume
        self.init_weights: str | Path | None = init_weights
        #: what ``init_weights`` loaded (a :class:`~runtime.weight_transfer.TransferReport`)
        self.weights_report = None
        self.project: dict = project or {"name": name, "training": self.training}
        self.report_every: float = report_every
        self.notes: list[str] = []
        self.control: RunControl = RunControl()
        #: The built run (None until :meth:`prepare`).
        self.session: Session | None = None

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
        self.control.stop()

    def pause(self) -> None:
        """Hold before the next batch until :meth:`resume` (or :meth:`stop`)."""
        self.control.pause()

    def resume(self) -> None:
        """Continue after :meth:`pause`."""
        self.control.resume()

    def wait_while_paused(self) -> float:
        """Block while paused, until :meth:`resume` or :meth:`stop`; seconds waited."""
        return self.control.wait_while_paused()

    @property
    def hold(self) -> bool:
        """A stop or pause is asked (the flag the loop reads per step)."""
        return self.control.hold

    @property
    def paused(self) -> bool:
        return self.control.paused

    @property
    def stopping(self) -> bool:
        return self.control.stopping

    # ------------------------------------------------------------ the prepared run
    @property
    def prepared(self) -> bool:
        return self.session is not None

    def _session(self) -> Session:
        if self.session is None:
            raise RuntimeError("the trainer is not prepared yet: call prepare() or run()")
        return self.session

    @property
    def setup(self) -> Setup:
        """Model, data and target handling on the device."""
        return self._session().setup

    @property
    def state(self) -> RunState:
        """The run's progress (epoch, step, history, best value)."""
        return self._session().state

    @property
    def model(self) -> nn.Module:
        return self._session().model

    @property
    def device(self) -> torch.device:
        return self._session().device

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        return self._session().optimizer

    @property
    def schedule(self):
        """The :class:`runtime.optim.Schedule` of the run."""
        return self._session().schedule

    @property
    def steps_per_epoch(self) -> int:
        return self._session().steps_per_epoch

    @property
    def monitor(self) -> str:
        return self.state.monitor

    @property
    def epoch(self) -> int:
        """Completed epochs."""
        return self.state.epoch

    @property
    def step(self) -> int:
        """Training steps made."""
        return self.state.step

    @property
    def history(self) -> list[dict]:
        """Per-epoch metric rows."""
        return self.state.history

    @property
    def step_losses(self) -> list[float]:
        return self.state.step_losses

    @property
    def best(self) -> dict:
        return self.state.best

    @property
    def sync_loss(self) -> bool:
        """Whether each step's loss is read at once (the CPU's NaN check before the update)."""
        return self._session().sync_loss

    @sync_loss.setter
    def sync_loss(self, value: bool) -> None:
        self._session().sync_loss = value

    # ------------------------------------------------------------ set-up
    def prepare(self) -> None:
        """Load data, build the model, optimizer and schedule; resume if asked; make
        sure the run folder (``out_dir``) can be written.

        Raises:
            TrainingError: any reason training cannot start (message for a person).
        """
        from .session import build_session
        from .setup import build_setup

        setup = build_setup(self.graph, self.config, self.name, self.training, self.dataset,
                            self.base_dir)
        session = build_session(setup, self.config, self.notes)
        if self.resume_from is not None:
            from .resume import restore

            restore(session, self.resume_from, self.notes)
        elif self.init_weights is not None:
            from .checkpoint import load_checkpoint
            from .weight_transfer import transfer

            # by name and shape: a classifier takes a pretrained encoder's blocks
            ck = load_checkpoint(self.init_weights)
            self.weights_report = transfer(session.model, ck["model"], str(self.init_weights))
            self.notes.append(self.weights_report.summary())
        if self.out_dir is not None:  # refused now, not after the first epoch has trained
            from .checkpoint import check_run_folder, checkpoint_size

            check_run_folder(self.out_dir, checkpoint_size(session.model))
        self.session = session

    # ------------------------------------------------------------ running
    def run(self) -> RunResult:
        """Train to the end (or until stopped, early-stopped or a fault).

        Raises:
            TrainingError: from :meth:`prepare`, before any callback is called.
        """
        from .loop import TrainLoop

        if self.session is None:
            self.prepare()
        session = self._session()
        return TrainLoop(session, self.control, self.emit, self.out_dir,
                         self.checkpoint_state, self.notes, self.report_every).run()

    def emit(self, event: str, payload) -> None:
        """Call ``event`` (a :class:`Callback` method name) on every callback that has it."""
        for cb in self.callbacks:
            fn = getattr(cb, event, None)
            if fn is not None:
                fn(payload)

    def improved(self, value: float | None) -> bool:
        """Update the best monitored value; True when ``value`` is a new best."""
        return self.state.improved(value, (self.config.early_stopping or {}).get("min_delta",
                                                                                 0.0))

    def checkpoint_state(self, partial: bool) -> dict:
        """What a checkpoint holds now (``partial``: stopped inside an epoch)."""
        from .resume import checkpoint_state

        return checkpoint_state(self._session(), partial, self.project, self.training)
