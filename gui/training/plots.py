"""The live training curves: loss, accuracy or MAE, learning rate, gradient norms.

:class:`TrainingPlots` composes four :class:`~gui.training.panel.Panel`\\ s and
keeps, per run, the :class:`~gui.training.run_curves.RunCurves` that draw it.
A run's curves are views of its record's
:class:`~gui.training.run_metrics.RunMetrics` (``add_run(id, metrics)``): the
points are stored once, in the record, and these methods are how they are
added (``add_steps``, ``append_lr``, ``add_epoch``, ``add_points``), as
plain numbers or numpy arrays; drawing happens on the shared
:class:`~gui.training.curves.RedrawClock`.

Several runs can be overlaid: each run gets a colour; the active (latest) run
is drawn at full strength and older visible runs are dimmed.

A network with several trained ``Output`` nodes has, besides the weighted
loss, one validation-loss curve per output in the Loss panel and its accuracy
(or MAE) curves in the other, named by the output's name
(:meth:`TrainingPlots.set_outputs`, ``add_epoch(outputs=...)``); their series
are named as the engine names the metrics (``val_accuracy_<id>``).  With one
run shown each output has its own colour; overlaid runs keep their run's
colour and tell the outputs apart by the marker.  The gradient
norm panel shows the active run only, one colour per layer — overlaying every
layer of every run would be unreadable.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import QVBoxLayout, QWidget

from gui.training.curves import RedrawClock
from gui.training.plot_panels import PANELS, PlotPanels
from gui.training.run_curves import EPOCH_KEYS, RunCurves, legend_entries, metric_keys, \
    write_csv
from gui.training.run_metrics import RunMetrics
from gui.training.series import PlotInputError

TASKS = ("classification", "regression")


class UnknownRunError(KeyError):
    """A run id that was never added."""


class TrainingPlots(QWidget):
    """The four live panels, with follow, export and run overlay.

    Args:
        task: ``"classification"`` (accuracy panel) or ``"regression"`` (MAE).
        smoothing: exponential smoothing of the step loss, in [0, 1).
    """

    def __init__(self, parent: QWidget | None = None, task: str = "classification",
                 smoothing: float = 0.9):
        super().__init__(parent)
        if not 0.0 <= smoothing < 1.0:
            raise PlotInputError(f"smoothing must be in [0, 1), got {smoothing}")
        self.smoothing = smoothing
        self.clock = RedrawClock(self)
        self.runs: dict[str, RunCurves] = {}
        self.active: str | None = None
        self._visible: set[str] = set()
        self.task = "classification"
        self._task_shown = False
        self.board = PlotPanels(self.clock, self.runs)
        # what hosts and tests reach through the plots
        self.panels, self.grad_heatmap = self.board.panels, self.board.grad_heatmap
        self.follow_button, self.status = self.board.follow_button, self.board.status
        self.toolbar, self.grid = self.board.toolbar, self.board.grid
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toolbar)
        layout.addLayout(self.grid, 1)
        self.set_task(task)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Four panels in one row in a wide, short area (see :meth:`PlotPanels.fit_to`)."""
        super().resizeEvent(event)
        self.board.fit_to(event.size().width(), event.size().height())

    # -- runs -------------------------------------------------------------
    def add_run(self, run_id: str, label: str | None = None,
                metrics: RunMetrics | None = None) -> None:
        """Show a run: it becomes the active run and is shown with the others.

        Args:
            run_id: the run's id.
            label: its legend name (default the id).
            metrics: the run's record's metrics, which the curves draw (what
                they hold already is drawn at once); default a new, empty store.

        Raises:
            PlotInputError: the id is already used.
        """
        run_id = str(run_id)
        if run_id in self.runs:
            raise PlotInputError(f"run {run_id!r} already exists; clear() or pick a new id")
        self.runs[run_id] = RunCurves(run_id, label or run_id, len(self.runs),
                                      metrics if metrics is not None else RunMetrics(),
                                      self.clock, self.panels, self.smoothing)
        self.active = run_id
        self._visible.add(run_id)
        self._show_metric_title()
        self._restyle()

    def set_visible_runs(self, run_ids) -> None:
        """Show only these runs (the others keep their data).

        Raises:
            UnknownRunError: an id was never added.
        """
        ids = {str(r) for r in run_ids}
        unknown = sorted(ids - set(self.runs))
        if unknown:
            raise UnknownRunError(f"no run with id {', '.join(map(repr, unknown))}; "
                                  f"known runs: {', '.join(self.runs) or 'none'}")
        self._visible = ids
        self._restyle()

    def visible_runs(self) -> list[str]:
        return [r for r in self.runs if r in self._visible]

    def remove_run(self, run_id: str) -> None:
        """Forget one run and its curves (a Start refused before training)."""
        run = self.runs.pop(str(run_id), None)
        if run is None:
            return
        for curve in run.all_curves():
            curve.remove()
        self._visible.discard(run.id)
        if self.active == run.id:
            self.active = next(reversed(self.runs), None)
        self._restyle()

    def clear(self) -> None:
        """Forget every run and its points (a fresh start)."""
        for run in self.runs.values():
            for curve in run.all_curves():
                curve.remove()
        self.runs.clear()
        self._visible.clear()
        self.active = None
        self.board.reset()

    def _run(self, run_id: str | None) -> RunCurves:
        if run_id is None:
            if self.active is None:
                self.add_run("run 1")
            return self.runs[self.active]
        if str(run_id) not in self.runs:
            raise UnknownRunError(f"no run with id {run_id!r}; add_run() it first")
        return self.runs[str(run_id)]

    # -- data -------------------------------------------------------------
    def add_steps(self, step, loss, lr=None, run_id: str | None = None) -> None:
        """Training loss (and learning rate) at one step or a chunk of steps.

        Args:
            step: global step number(s), not decreasing.
            loss: loss value(s), same length.
            lr: learning rate(s), same length, or None.
            run_id: the run (default: the active one).
        """
        self._run(run_id).add_steps(step, loss, lr, self.smoothing)

    def append_lr(self, run_id: str | None, steps, lrs) -> None:
        """Learning rates read at these steps (one point per value, not a stair).

        Args:
            run_id: the run (None: the active one).
            steps: global step number(s), not decreasing.
            lrs: the learning rate at each, same length.
        """
        self._run(run_id).curves["lr"].append(steps, lrs)

    def add_points(self, run_id: str | None, key: str, x, y, *, panel: str = "loss",
                   label: str | None = None) -> None:
        """Points of any other metric, drawn in one of the panels (a dotted line
        with markers in the run's colour, named ``label`` in the legend).

        Args:
            run_id: the run (None: the active one).
            key: the metric (its series in the run's metrics, and its CSV name).
            x: step(s) on the loss and learning-rate panels, epoch(s) on the others.
            y: the value(s), same length.
            panel: one of :data:`PANELS`.
            label: the legend name (default ``key``).

        Raises:
            KeyError: no such panel.
        """
        if panel not in self.panels:
            raise KeyError(f"no plot {panel!r}; plots are {', '.join(PANELS)}")
        run = self._run(run_id)
        new = key not in run.curves
        curve = run.extra(key, panel, label or key)
        curve.append(x, y)
        if new:  # its style and its panel's legend only (a whole restyle: ≈ 25 ms, B4)
            run.style_extra(key, run.id == self.active)
            curve.set_visible(run.id in self._visible)
            self.panels[panel].set_legend(self._legends()[panel])

    def set_outputs(self, run_id: str | None, outputs) -> None:
        """The trained outputs of a run with several (``RunStart.per_output()``):
        their names label the per-output curves and their tasks the metric panel.

        Args:
            run_id: the run (None: the active one).
            outputs: dicts with ``id``, ``name`` and ``task``, in the run's order.
        """
        run = self._run(run_id)
        run.outputs = [dict(o) for o in outputs if isinstance(o, dict) and o.get("id")]
        self._show_metric_title()

    def plan(self, run_id: str | None, epochs: int, steps: int) -> None:
        """A live run (None: the active one) will end after ``epochs`` epochs (a
        resumed run counts its earlier ones), at global step ``steps``: following
        panels make room for it (:meth:`~gui.training.panel.Panel.refit`)."""
        self._run(run_id).plan(epochs, steps)

    def steps_done(self, run_id: str) -> int:
        """How many step losses a run has."""
        return len(self._run(run_id).curves["loss"])

    def add_epoch(self, epoch: int, *, step: float | None = None, val_loss=None,
                  train_accuracy=None, val_accuracy=None, train_mae=None, val_mae=None,
                  grad_norms: dict[str, float] | None = None, run_id: str | None = None,
                  outputs: dict[str, dict] | None = None) -> None:
        """Metrics at the end of an epoch.

        Args:
            epoch: the epoch number (1-based as shown to users).
            step: the epoch's last step, where validation loss is drawn on the
                loss plot; default the last step received.
            val_loss: validation loss.
            train_accuracy: fraction in [0, 1] (classification).
            val_accuracy: fraction in [0, 1] (classification).
            train_mae: mean absolute error (regression).
            val_mae: mean absolute error (regression).
            grad_norms: gradient norm per layer, keyed by node name.
            run_id: the run (default: the active one).
            outputs: each output's metrics (``Epoch.outputs``): output id →
                ``{"val_loss", "val_accuracy" | "val_mae", ...}``; validation loss
                is drawn at ``step``, the others at ``epoch``.
        """
        run = self._run(run_id)
        at = run.last_step if step is None else float(step)
        values = (train_accuracy, val_accuracy, train_mae, val_mae)
        if run.add_epoch(epoch, at, val_loss, values, outputs):
            # the first epoch only: their style and legend entries
            self._show_metric_title()
            self._restyle()
        if grad_norms:
            new = run.add_grad_norms(epoch, grad_norms)
            if new:  # style just these, not every curve of every run (B4: ≈ 20 ms)
                run.style_grads()
                shown = run.id in self._visible and run.id == self.active
                for name in new:
                    run.grads[str(name)].set_visible(shown)
                if shown:
                    self.panels["grad_norm"].set_legend(
                        [(c.item, n) for n, c in run.grads.items()])
            self._show_grads()

    def set_task(self, task: str) -> None:
        """Show accuracy (classification) or mean absolute error (regression).

        Raises:
            PlotInputError: the task is neither.
        """
        if task not in TASKS:
            raise PlotInputError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
        if task == self.task and self._task_shown:
            return  # every run start sets it: restyling all runs costs ≈ 20 ms
        self._task_shown = True
        self.task = task
        self._show_metric_title()
        self._restyle()

    def _show_metric_title(self) -> None:
        run = self.runs.get(self.active) if self.active is not None else None
        self.board.show_metric_title(self.task, {o.get("task") for o in run.outputs}
                                     if run is not None else set())

    # -- follow -------------------------------------------------------------
    def following(self, panel: str) -> bool:
        return self.board.following(panel)

    def set_follow(self, on: bool = True) -> None:
        """Re-enable (or stop) following the data on every panel."""
        self.board.set_follow(on)

    # -- styling ------------------------------------------------------------
    def _restyle(self) -> None:
        hidden_keys = set(EPOCH_KEYS) - set(metric_keys(self.task))
        prefix = len(self.visible_runs()) > 1
        for run in self.runs.values():
            visible, active = run.id in self._visible, run.id == self.active
            run.style(active, own_colors=not prefix)
            run.show(visible, active, hidden_keys)
        for name, entries in self._legends().items():
            self.panels[name].set_legend(entries)
        self._show_grads()

    def _legends(self) -> dict[str, list]:
        return legend_entries([self.runs[r] for r in self.visible_runs()], self.active,
                              metric_keys(self.task), PANELS)

    def _show_grads(self) -> None:
        self.board.show_grads(self.runs.get(self.active) if self.active in self._visible
                              else None)

    # -- export -------------------------------------------------------------
    def flush(self) -> None:
        """Draw pending points now (exports and screenshots call this)."""
        self.clock.flush()

    def export_plot_png(self, panel: str, path: str | os.PathLike) -> Path:
        """Save one panel as a PNG image.

        Raises:
            KeyError: no such panel.
            OSError: the image could not be written.
        """
        self.flush()
        return self.board.save_png(panel, Path(path))

    def export_png(self, folder: str | os.PathLike) -> list[Path]:
        """Save every panel as ``<folder>/<panel>.png``; returns the paths."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        return [self.export_plot_png(name, folder / f"{name}.png") for name in PANELS]

    def export_csv(self, path: str | os.PathLike) -> Path:
        """Write every run's metrics as CSV, one row per point.

        Columns: ``run, label, metric, x_axis, x, value``; ``x_axis`` says
        whether ``x`` is a step or an epoch.  Gradient norms appear as
        ``grad_norm/<layer>``, an output's metrics under the engine's names
        (``val_loss_<id>``, ``val_accuracy_<id>``).
        """
        return write_csv(Path(path), self.runs.values())

