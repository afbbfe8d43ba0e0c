"""The live training curves: loss, accuracy or MAE, learning rate, gradient norms.

:class:`TrainingPlots` composes four :class:`~gui.training.panel.Panel`\\ s and
keeps, per run, the :class:`~gui.training.curves.LiveCurve`\\ s that feed them.
Data arrives as plain numbers or numpy arrays (``add_steps``, ``add_epoch``);
drawing happens on the shared :class:`~gui.training.curves.RedrawClock`.

Several runs can be overlaid: each run gets a colour; the active (latest) run
is drawn at full strength and older visible runs are dimmed.  The gradient
norm panel shows the active run only, one colour per layer — overlaying every
layer of every run would be unreadable.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from gui.training import theme
from gui.training.curves import LiveCurve, RedrawClock
from gui.training.panel import Panel
from gui.training.series import PlotInputError, ema

TASKS = ("classification", "regression")
PANELS = ("loss", "metric", "lr", "grad_norm")
_DIM = 0.3  # alpha of the curves of runs that are not the active one
#: Seconds between two redraws of the learning-rate plot.
LR_REDRAW_S = 0.25
_EPOCH_KEYS = ("train_accuracy", "val_accuracy", "train_mae", "val_mae")


class UnknownRunError(KeyError):
    """A run id that was never added."""


class _Run:
    """The curves of one run in every panel."""

    def __init__(self, plots: TrainingPlots, run_id: str, label: str, index: int):
        self.id, self.label, self.color = run_id, label, theme.series_color(index)
        self.ema_state = (0.0, 0)
        self.last_step = 0.0
        clock, p = plots.clock, plots.panels

        def live(panel: str, **style) -> LiveCurve:
            return LiveCurve(p[panel].getPlotItem(), clock, follows=p[panel].following, **style)

        self.curves: dict[str, LiveCurve] = {
            "loss": live("loss"),
            "loss_smooth": live("loss"),
            "val_loss": live("loss", symbol="o", symbolSize=7),
            "train_accuracy": live("metric", symbol="o", symbolSize=5),
            "val_accuracy": live("metric", symbol="s", symbolSize=6),
            "train_mae": live("metric", symbol="o", symbolSize=5),
            "val_mae": live("metric", symbol="s", symbolSize=6),
            "lr": live("lr"),
        }
        self.grads: dict[str, LiveCurve] = {}
        self._live = live

    def grad(self, name: str) -> LiveCurve:
        if name not in self.grads:
            self.grads[name] = self._live("grad_norm")
        return self.grads[name]

    def style(self, active: bool) -> None:
        a = 1.0 if active else _DIM
        c = self.color
        solid = pg.mkPen(theme.with_alpha(c, a), width=2)
        dashed = pg.mkPen(theme.with_alpha(c, a), width=2, style=Qt.PenStyle.DashLine)
        faint = pg.mkPen(theme.with_alpha(c, 0.25 * a), width=1)
        fill = pg.mkBrush(theme.with_alpha(c, a))
        hollow = pg.mkBrush(theme.with_alpha(c, 0.0))
        cv = self.curves
        cv["loss"].item.setPen(faint)
        cv["loss_smooth"].item.setPen(solid)
        cv["val_loss"].item.setPen(None)
        cv["val_loss"].item.setSymbolPen(pg.mkPen(theme.with_alpha(c, a), width=2))
        cv["val_loss"].item.setSymbolBrush(hollow)
        for key in ("train_accuracy", "train_mae"):
            cv[key].item.setPen(solid)
            cv[key].item.setSymbolPen(None)
            cv[key].item.setSymbolBrush(fill)
        for key in ("val_accuracy", "val_mae"):
            cv[key].item.setPen(dashed)
            cv[key].item.setSymbolPen(pg.mkPen(theme.with_alpha(c, a), width=1.5))
            cv[key].item.setSymbolBrush(hollow)
        cv["lr"].item.setPen(solid)
        self.style_grads()

    def style_grads(self) -> None:
        """One colour per layer, markers on the epochs."""
        for i, curve in enumerate(self.grads.values()):
            col = theme.series_color(i)
            curve.item.setPen(pg.mkPen(col, width=2))
            curve.item.setSymbol("o")
            curve.item.setSymbolSize(5)
            curve.item.setSymbolPen(None)
            curve.item.setSymbolBrush(pg.mkBrush(col))

    def all_curves(self) -> list[LiveCurve]:
        return list(self.curves.values()) + list(self.grads.values())


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
        self.clock.after_flush.append(self._refit)
        self.panels: dict[str, Panel] = {
            "loss": Panel("Loss", "step", "loss"),
            "metric": Panel("Accuracy", "epoch", "accuracy"),
            "lr": Panel("Learning rate", "step", "learning rate"),
            "grad_norm": Panel("Gradient norm per layer", "epoch", "‖grad‖ (log)", log_y=True),
        }
        # the learning rate moves slowly: its redraws leave the ticks to the loss
        self.clock.set_min_interval(self.panels["lr"].getPlotItem(), LR_REDRAW_S)
        # accuracy is a fraction: "accuracy (x0.001)" would be nonsense
        for name in PANELS:  # "loss (x0.001)" reads worse than 0.5
            self.panels[name].getPlotItem().getAxis("left").enableAutoSIPrefix(False)
        self.runs: dict[str, _Run] = {}
        self.active: str | None = None
        self._visible: set[str] = set()
        self.task = "classification"
        self._task_shown = False

        self.follow_button = QPushButton("Follow")
        self.follow_button.setCheckable(True)
        self.follow_button.setChecked(True)
        self.follow_button.setToolTip("Keep every plot zoomed to all of its data")
        self.follow_button.clicked.connect(self._follow_clicked)
        self.status = QLabel("")
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(self.follow_button)
        bar.addWidget(self.status, 1)
        grid = QGridLayout()
        grid.setSpacing(4)
        for i, name in enumerate(PANELS):
            grid.addWidget(self.panels[name], i // 2, i % 2)
            self.panels[name].userZoomed.connect(lambda n=name: self._user_zoomed(n))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addLayout(grid, 1)
        self.set_task(task)

    # -- runs -------------------------------------------------------------
    def add_run(self, run_id: str, label: str | None = None) -> None:
        """Start a run: it becomes the active run and is shown with the others.

        Raises:
            PlotInputError: the id is already used.
        """
        run_id = str(run_id)
        if run_id in self.runs:
            raise PlotInputError(f"run {run_id!r} already exists; clear() or pick a new id")
        self.runs[run_id] = _Run(self, run_id, label or run_id, len(self.runs))
        self.active = run_id
        self._visible.add(run_id)
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
        for panel in self.panels.values():
            panel.set_legend([])
            panel.follow()
        self.follow_button.setChecked(True)

    def _run(self, run_id: str | None) -> _Run:
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
        run = self._run(run_id)
        steps = np.atleast_1d(np.asarray(step, dtype=np.float64))
        losses = np.atleast_1d(np.asarray(loss, dtype=np.float64))
        run.curves["loss"].append(steps, losses)
        smooth, run.ema_state = ema(losses, self.smoothing, run.ema_state)
        run.curves["loss_smooth"].append(steps, smooth)
        if lr is not None:
            run.curves["lr"].append(steps, lr)
        if len(steps):
            run.last_step = float(steps[-1])

    def add_epoch(self, epoch: int, *, step: float | None = None, val_loss=None,
                  train_accuracy=None, val_accuracy=None, train_mae=None, val_mae=None,
                  grad_norms: dict[str, float] | None = None, run_id: str | None = None) -> None:
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
        """
        run = self._run(run_id)
        at = run.last_step if step is None else float(step)
        if val_loss is not None:
            run.curves["val_loss"].append(at, val_loss)
        values = dict(zip(_EPOCH_KEYS, (train_accuracy, val_accuracy, train_mae, val_mae)))
        for key, value in values.items():
            if value is not None:
                run.curves[key].append(epoch, value)
        if grad_norms:
            new = [n for n in grad_norms if n not in run.grads]
            for name, norm in grad_norms.items():
                # log axis: a zero norm (frozen layer) would be -inf, draw it as a gap
                run.grad(str(name)).append(epoch, norm if norm > 0 else np.nan)
            if new:  # style just these, not every curve of every run (B4: ≈ 20 ms)
                run.style_grads()
                shown = run.id in self._visible and run.id == self.active
                for name in new:
                    run.grads[str(name)].set_visible(shown)
                if shown:
                    self.panels["grad_norm"].set_legend(
                        [(c.item, n) for n, c in run.grads.items()])

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
        if task == "classification":
            self.panels["metric"].set_title("Accuracy", "accuracy")
        else:
            self.panels["metric"].set_title("Mean absolute error (MAE)", "MAE")
        self._restyle()

    # -- follow -------------------------------------------------------------
    def following(self, panel: str) -> bool:
        return self.panels[panel].following()

    def set_follow(self, on: bool = True) -> None:
        """Re-enable (or stop) following the data on every panel."""
        for p in self.panels.values():
            p.follow(on)
        self.follow_button.setChecked(on)

    def _refit(self, plot_items) -> None:
        for panel in self.panels.values():
            item = panel.getPlotItem()
            if any(item is p for p in plot_items):
                panel.refit(bounds=self._bounds(item, panel.log_y))

    def _bounds(self, plot, log_y: bool):
        """The visible curves' data bounds in ``plot``, from their series' running
        extremes (x never decreases, so its ends are the first and last x)."""
        xs, ys = [], []
        for run in self.runs.values():
            for curve in run.all_curves():
                s = curve.series
                if curve.plot is not plot or not len(s) or not curve.item.isVisible() \
                        or s.y_min is None:
                    continue
                lo, hi = s.y_min, s.y_max
                if log_y:
                    if hi <= 0:
                        continue
                    lo, hi = math.log10(lo) if lo > 0 else math.log10(hi), math.log10(hi)
                xs += [float(s.x[0]), float(s.x[-1])]
                ys += [lo, hi]
        if not xs:
            return None, None
        return (min(xs), max(xs)), (min(ys), max(ys))

    def _follow_clicked(self, checked: bool) -> None:
        self.set_follow(checked)

    def _user_zoomed(self, panel: str) -> None:
        self.follow_button.setChecked(False)
        plot = self.panels[panel].getPlotItem()
        for run in self.runs.values():
            for curve in run.all_curves():
                if curve.plot is plot:  # re-slice at the new zoom's resolution
                    self.clock.mark(curve)

    # -- styling ------------------------------------------------------------
    def _restyle(self) -> None:
        metric_keys = (("train_accuracy", "val_accuracy") if self.task == "classification"
                       else ("train_mae", "val_mae"))
        hidden_keys = {"train_mae", "val_mae", "train_accuracy", "val_accuracy"} - set(metric_keys)
        shown = self.visible_runs()
        prefix = len(shown) > 1
        legends: dict[str, list] = {name: [] for name in PANELS}
        for run in self.runs.values():
            visible = run.id in self._visible
            run.style(run.id == self.active)
            for key, curve in run.curves.items():
                curve.set_visible(visible and key not in hidden_keys)
            for curve in run.grads.values():
                curve.set_visible(visible and run.id == self.active)
            if not visible:
                continue
            lab = f"{run.label} " if prefix else ""
            legends["loss"] += [(run.curves["loss_smooth"].item, f"{lab}train (smoothed)"),
                                (run.curves["val_loss"].item, f"{lab}validation")]
            legends["metric"] += [(run.curves[metric_keys[0]].item, f"{lab}train"),
                                  (run.curves[metric_keys[1]].item, f"{lab}validation")]
            if prefix:
                legends["lr"].append((run.curves["lr"].item, run.label))
            if run.id == self.active:
                legends["grad_norm"] = [(c.item, n) for n, c in run.grads.items()]
        for name, entries in legends.items():
            self.panels[name].set_legend(entries)

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
        if panel not in self.panels:
            raise KeyError(f"no plot {panel!r}; plots are {', '.join(PANELS)}")
        self.flush()
        path = Path(path)
        if not self.panels[panel].grab().save(str(path), "PNG"):
            raise OSError(f"could not write the image {path}")
        return path

    def export_png(self, folder: str | os.PathLike) -> list[Path]:
        """Save every panel as ``<folder>/<panel>.png``; returns the paths."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        return [self.export_plot_png(name, folder / f"{name}.png") for name in PANELS]

    def export_csv(self, path: str | os.PathLike) -> Path:
        """Write every run's metrics as CSV, one row per point.

        Columns: ``run, label, metric, x_axis, x, value``; ``x_axis`` says
        whether ``x`` is a step or an epoch.  Gradient norms appear as
        ``grad_norm/<layer>``.
        """
        path = Path(path)
        with path.open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(["run", "label", "metric", "x_axis", "x", "value"])
            for run in self.runs.values():
                named = [(k, c) for k, c in run.curves.items() if k != "loss_smooth"]
                named += [(f"grad_norm/{n}", c) for n, c in run.grads.items()]
                for key, curve in named:
                    axis = "step" if key in ("loss", "val_loss", "lr") else "epoch"
                    for x, y in zip(curve.series.x.tolist(), curve.series.y.tolist()):
                        out.writerow([run.id, run.label, key, axis, _num(x), _num(y)])
        return path


def _num(v: float):
    return int(v) if float(v).is_integer() else repr(float(v))
