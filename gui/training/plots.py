"""The live training curves: loss, accuracy or MAE, learning rate, gradient norms.

:class:`TrainingPlots` composes four :class:`~gui.training.panel.Panel`\\ s and
keeps, per run, the :class:`~gui.training.curves.LiveCurve`\\ s that draw it.
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
from gui.training.grad_heatmap import HEATMAP_LAYERS, GradHeatmap
from gui.training.panel import Panel
from gui.training.run_metrics import RunMetrics
from gui.training.series import PlotInputError, ema

TASKS = ("classification", "regression")
PANELS = ("loss", "metric", "lr", "grad_norm")
_DIM = 0.3  # alpha of the curves of runs that are not the active one
#: Seconds between two redraws of the learning-rate plot.
LR_REDRAW_S = 0.25
_EPOCH_KEYS = ("train_accuracy", "val_accuracy", "train_mae", "val_mae")
#: Series key prefix of a layer's gradient norm in a run's metrics.
GRAD_PREFIX = "grad_norm/"
#: Per-output metrics drawn, and their panel (the rest stay in the history rows).
_OUTPUT_PANELS = {"val_loss": "loss", "train_accuracy": "metric", "val_accuracy": "metric",
                  "train_mae": "metric", "val_mae": "metric"}
#: The marker of each output's curves (the n-th output, in the run's order).
_OUTPUT_SYMBOLS = ("t", "d", "p", "h", "star", "t1", "t2", "t3", "s", "o")


class UnknownRunError(KeyError):
    """A run id that was never added."""


class _Run:
    """The curves of one run in every panel: views of the run's metrics."""

    def __init__(self, plots: TrainingPlots, run_id: str, label: str, index: int,
                 metrics: RunMetrics):
        self.id, self.label, self.color = run_id, label, theme.series_color(index)
        self.index = index
        self.metrics = metrics
        #: the trained outputs (``RunStart.per_output()``): ``id``, ``name``, ``task``
        self.outputs: list[dict] = []
        #: per-output curves: key → (panel, legend label, output index, train curve?)
        self.per_output: dict[str, tuple[str, str, int, bool]] = {}
        self.ema_state = (0.0, 0)
        clock, p = plots.clock, plots.panels

        def live(panel: str, key: str | None, **style) -> LiveCurve:
            series = metrics.series_of(key) if key is not None else None
            return LiveCurve(p[panel].getPlotItem(), clock, follows=p[panel].following,
                             series=series, **style)

        self.curves: dict[str, LiveCurve] = {
            "loss": live("loss", "loss"),
            "loss_smooth": live("loss", None),  # drawn from the loss, not a metric of its own
            "val_loss": live("loss", "val_loss", symbol="o", symbolSize=7),
            "train_accuracy": live("metric", "train_accuracy", symbol="o", symbolSize=5),
            "val_accuracy": live("metric", "val_accuracy", symbol="s", symbolSize=6),
            "train_mae": live("metric", "train_mae", symbol="o", symbolSize=5),
            "val_mae": live("metric", "val_mae", symbol="s", symbolSize=6),
            "lr": live("lr", "lr"),
        }
        #: curves added by :meth:`TrainingPlots.add_points`: key → (panel, legend label)
        self.extras: dict[str, tuple[str, str]] = {}
        self.grads: dict[str, LiveCurve] = {}
        self._live = live
        for key in list(metrics.series):
            if key.startswith(GRAD_PREFIX):
                self.grad(key[len(GRAD_PREFIX):])
        loss = metrics.series.get("loss")
        if loss is not None and len(loss):  # a run read back: smooth what it has
            self.smooth(loss.x, loss.y, plots.smoothing)

    @property
    def last_step(self) -> float:
        loss = self.curves["loss"].series
        return float(loss.x[-1]) if len(loss) else 0.0

    def smooth(self, steps, losses, smoothing: float) -> None:
        smooth, self.ema_state = ema(losses, smoothing, self.ema_state)
        self.curves["loss_smooth"].append(steps, smooth)

    def grad(self, name: str) -> LiveCurve:
        if name not in self.grads:
            self.grads[name] = self._live("grad_norm", GRAD_PREFIX + name)
        return self.grads[name]

    def extra(self, key: str, panel: str, label: str) -> LiveCurve:
        if key not in self.curves:
            self.curves[key] = self._live(panel, key, symbol="d", symbolSize=6)
            self.extras[key] = (panel, label)
        return self.curves[key]

    def output_curve(self, oid: str, metric: str) -> LiveCurve:
        """The curve of one output's metric (made on first use)."""
        key = f"{metric}_{oid}"
        if key not in self.curves:
            ids = [o["id"] for o in self.outputs]
            if oid not in ids:  # not announced at the start: named by its id
                self.outputs.append({"id": oid, "name": oid})
                ids.append(oid)
            out = self.outputs[ids.index(oid)]
            tasks = {o.get("task") for o in self.outputs}
            train = metric.startswith("train_")
            label = f"{out.get('name') or oid} {'train' if train else 'val'}"
            if len(tasks) > 1 and metric != "val_loss":  # one panel, two kinds of number
                label += " MAE" if metric.endswith("mae") else " acc."
            panel = _OUTPUT_PANELS[metric]
            symbol = _OUTPUT_SYMBOLS[ids.index(oid) % len(_OUTPUT_SYMBOLS)]
            self.curves[key] = self._live(panel, key, symbol=symbol, symbolSize=7)
            self.per_output[key] = (panel, label, ids.index(oid), train)
        return self.curves[key]

    def style_outputs(self, active: bool, own_colors: bool) -> None:
        """Per-output curves: a colour per output (``own_colors``) or the run's, a
        marker per output; validation dashed with hollow markers."""
        a = 1.0 if active else _DIM
        for key, (_panel, _label, k, train) in self.per_output.items():
            col = theme.series_color(self.index + 1 + k) if own_colors else self.color
            col = theme.with_alpha(col, a)
            item = self.curves[key].item
            item.setPen(pg.mkPen(col, width=2, style=Qt.PenStyle.SolidLine if train
                                 else Qt.PenStyle.DashLine))
            item.setSymbolPen(None if train else pg.mkPen(col, width=1.5))
            item.setSymbolBrush(pg.mkBrush(col) if train
                                else pg.mkBrush(theme.with_alpha(col, 0.0)))

    def style(self, active: bool, own_colors: bool = True) -> None:
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
        dotted = pg.mkPen(theme.with_alpha(c, a), width=1.5, style=Qt.PenStyle.DotLine)
        for key in self.extras:
            cv[key].item.setPen(dotted)
            cv[key].item.setSymbolPen(None)
            cv[key].item.setSymbolBrush(fill)
        self.style_outputs(active, own_colors)
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


#: Width over height above which the four panels stand in one row.
WIDE_RATIO = 2.6


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
        #: Follow and the status line: a host may show them elsewhere (the training
        #: view puts them beside its tabs, a row of plot height saved at 1280×800)
        self.toolbar = QWidget()
        bar = QHBoxLayout(self.toolbar)
        bar.setContentsMargins(4, 0, 4, 0)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.follow_button)
        self.grid = grid = QGridLayout()
        grid.setSpacing(4)
        self._columns = 0
        self._arrange(2)
        for name in PANELS:
            self.panels[name].userZoomed.connect(lambda n=name: self._user_zoomed(n))
        # a deep run's gradient norms: shown in the line panel's place (_show_grads)
        self.grad_heatmap = GradHeatmap()
        self.grad_heatmap.hide()
        grid.addWidget(self.grad_heatmap, *divmod(PANELS.index("grad_norm"), self._columns))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toolbar)
        layout.addLayout(grid, 1)
        self.set_task(task)

    def _arrange(self, columns: int) -> None:
        """Lay the panels out in ``columns`` columns (2: a 2×2 grid; 4: one row)."""
        if columns == self._columns:
            return
        self._columns = columns
        # the gradient heat map (a deep run) takes the gradient panel's cell
        cells = [(self.panels[name], i) for i, name in enumerate(PANELS)]
        heatmap = getattr(self, "grad_heatmap", None)
        if heatmap is not None:
            cells.append((heatmap, PANELS.index("grad_norm")))
        for widget, _i in cells:
            self.grid.removeWidget(widget)
        for widget, i in cells:
            self.grid.addWidget(widget, i // columns, i % columns)
        for k in range(4):
            self.grid.setColumnStretch(k, 1 if k < columns else 0)
            self.grid.setRowStretch(k, 1 if k < 4 // columns else 0)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """A wide, short area (the training band at 1280×800) puts the four panels in
        one row: 2×2 there leaves each plot a flat strip with its axes clipped."""
        super().resizeEvent(event)
        size = event.size()
        self._arrange(4 if size.width() >= WIDE_RATIO * max(1, size.height()) else 2)

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
        self.runs[run_id] = _Run(self, run_id, label or run_id, len(self.runs),
                                 metrics if metrics is not None else RunMetrics())
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
        run.smooth(steps, losses, self.smoothing)
        if lr is not None:
            run.curves["lr"].append(steps, lr)

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
        if new:
            self._restyle()

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
        if val_loss is not None:
            run.curves["val_loss"].append(at, val_loss)
        values = dict(zip(_EPOCH_KEYS, (train_accuracy, val_accuracy, train_mae, val_mae)))
        for key, value in values.items():
            if value is not None:
                run.curves[key].append(epoch, value)
        new_curves = False
        for oid, metrics in (outputs or {}).items():
            for metric, value in metrics.items():
                if metric not in _OUTPUT_PANELS or not isinstance(value, (int, float)):
                    continue
                new_curves |= f"{metric}_{oid}" not in run.curves
                run.output_curve(str(oid), metric).append(
                    at if _OUTPUT_PANELS[metric] == "loss" else epoch, value)
        if new_curves:  # the first epoch only: their style and legend entries
            self._show_metric_title()
            self._restyle()
        if grad_norms:
            new = [n for n in grad_norms if n not in run.grads]
            for name, norm in grad_norms.items():
                # log axis: a zero norm (frozen layer) would be -inf, draw it as a gap;
                # a curve of gaps only (a head no target trains) stays empty, as
                # pyqtgraph's markers warn on an all-NaN curve
                curve = run.grad(str(name))
                if norm > 0 or curve.series.y_min is not None:
                    curve.append(epoch, norm if norm > 0 else np.nan)
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
        """Accuracy, MAE, or both where the active run's outputs measure both."""
        run = self.runs.get(self.active) if self.active is not None else None
        tasks = {o.get("task") for o in run.outputs} if run is not None else set()
        if {"classification", "regression"} <= tasks:
            title = ("Accuracy and MAE (per output)", "accuracy / MAE")
        elif self.task == "classification":
            title = ("Accuracy", "accuracy")
        else:
            title = ("Mean absolute error (MAE)", "MAE")
        if title != getattr(self, "_metric_title", None):
            self._metric_title = title
            self.panels["metric"].set_title(*title)

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
            run.style(run.id == self.active, own_colors=not prefix)
            for key, curve in run.curves.items():
                curve.set_visible(visible and key not in hidden_keys)
            for curve in run.grads.values():
                curve.set_visible(visible and run.id == self.active)
            if not visible:
                continue
            lab = f"{run.label} " if prefix else ""
            several = bool(run.outputs or run.per_output)
            legends["loss"] += [(run.curves["loss_smooth"].item, f"{lab}train (smoothed)"),
                                (run.curves["val_loss"].item,
                                 f"{lab}validation" + (" (weighted sum)" if several else ""))]
            if not several:  # with several outputs, the metrics are each output's
                legends["metric"] += [(run.curves[metric_keys[0]].item, f"{lab}train"),
                                      (run.curves[metric_keys[1]].item, f"{lab}validation")]
            for key, (panel, label, _k, _train) in run.per_output.items():
                legends[panel].append((run.curves[key].item, f"{lab}{label}"))
            if prefix:
                legends["lr"].append((run.curves["lr"].item, run.label))
            for key, (panel, label) in run.extras.items():
                legends[panel].append((run.curves[key].item, f"{lab}{label}"))
            if run.id == self.active:
                legends["grad_norm"] = [(c.item, n) for n, c in run.grads.items()]
        for name, entries in legends.items():
            self.panels[name].set_legend(entries)
        self._show_grads()

    def _show_grads(self) -> None:
        """Lines for a few layers; the heat map in their place for the active
        run when it has more than :data:`HEATMAP_LAYERS`."""
        run = self.runs.get(self.active) if self.active in self._visible else None
        deep = run is not None and len(run.grads) > HEATMAP_LAYERS
        if deep:
            self.grad_heatmap.set_norms(list(run.grads),
                                        [(c.series.x, c.series.y) for c in run.grads.values()])
        self.grad_heatmap.setVisible(deep)
        self.panels["grad_norm"].setVisible(not deep)

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
        ``grad_norm/<layer>``, an output's metrics under the engine's names
        (``val_loss_<id>``, ``val_accuracy_<id>``).
        """
        path = Path(path)
        with path.open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(["run", "label", "metric", "x_axis", "x", "value"])
            for run in self.runs.values():
                named = [(k, c) for k, c in run.curves.items() if k != "loss_smooth"]
                named += [(f"grad_norm/{n}", c) for n, c in run.grads.items()]
                step_panels = {"loss", "lr"}
                for key, curve in named:
                    panel = run.extras.get(key, run.per_output.get(key, (None,)))[0]
                    axis = ("step" if key in ("loss", "val_loss", "lr") or panel in step_panels
                            else "epoch")
                    for x, y in zip(curve.series.x.tolist(), curve.series.y.tolist()):
                        out.writerow([run.id, run.label, key, axis, _num(x), _num(y)])
        return path


def _num(v: float):
    return int(v) if float(v).is_integer() else repr(float(v))
