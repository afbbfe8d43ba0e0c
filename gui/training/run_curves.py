"""One run's curves in the four training panels, and what is read off them.

A :class:`RunCurves` is the set of :class:`~gui.training.curves.LiveCurve`\\ s
that draw one run's :class:`~gui.training.run_metrics.RunMetrics` in the
panels of :class:`~gui.training.plots.TrainingPlots`: the step loss and its
smoothed line, validation loss, accuracy or MAE, learning rate, each layer's
gradient norm, each trained output's metrics and any extra series.  It knows
how it is styled (its colour, dimmed when it is not the active run), what it
adds to each panel's legend and how it is written as CSV rows;
:func:`data_bounds` gives the extent of the visible curves that a following
panel zooms to.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from gui.training import theme
from gui.training.curves import LiveCurve, RedrawClock
from gui.training.panel import Panel
from gui.training.run_metrics import RunMetrics
from gui.training.series import ema

_DIM = 0.3  # alpha of the curves of runs that are not the active one
#: The epoch metrics of the metric panel (accuracy for classification, MAE for regression).
EPOCH_KEYS = ("train_accuracy", "val_accuracy", "train_mae", "val_mae")
#: Series key prefix of a layer's gradient norm in a run's metrics.
GRAD_PREFIX = "grad_norm/"
#: Per-output metrics drawn, and their panel (the rest stay in the history rows).
OUTPUT_PANELS = {"val_loss": "loss", "train_accuracy": "metric", "val_accuracy": "metric",
                 "train_mae": "metric", "val_mae": "metric"}
#: The marker of each output's curves (the n-th output, in the run's order).
_OUTPUT_SYMBOLS = ("t", "d", "p", "h", "star", "t1", "t2", "t3", "s", "o")


class RunCurves:
    """The curves of one run in every panel: views of the run's metrics.

    Args:
        run_id: the run's id.
        label: its legend name.
        index: its place among the runs (picks its colour).
        metrics: the run's metrics, which the curves draw.
        clock: the clock that redraws the curves.
        panels: the panels, by name (``loss``, ``metric``, ``lr``, ``grad_norm``).
        smoothing: exponential smoothing of the step loss, in [0, 1).
    """

    def __init__(self, run_id: str, label: str, index: int, metrics: RunMetrics,
                 clock: RedrawClock, panels: dict[str, Panel], smoothing: float):
        self.id, self.label, self.color = run_id, label, theme.series_color(index)
        self.index = index
        self.metrics = metrics
        #: the trained outputs (``RunStart.per_output()``): ``id``, ``name``, ``task``
        self.outputs: list[dict] = []
        #: per-output curves: key → (panel, legend label, output index, train curve?)
        self.per_output: dict[str, tuple[str, str, int, bool]] = {}
        self.ema_state = (0.0, 0)
        #: where a live run will end: its last ``epoch`` and ``step`` (:meth:`plan`)
        self.ends: dict[str, float] = {}
        p = panels

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
            self.smooth(loss.x, loss.y, smoothing)

    def plan(self, epochs: int, steps: int) -> None:
        """The run will end after ``epochs`` epochs, at step ``steps``: following
        panels make room for it (:meth:`~gui.training.panel.Panel.refit`)."""
        self.ends = {"epoch": float(epochs), "step": float(steps)}

    @property
    def last_step(self) -> float:
        loss = self.curves["loss"].series
        return float(loss.x[-1]) if len(loss) else 0.0

    def smooth(self, steps, losses, smoothing: float) -> None:
        smooth, self.ema_state = ema(losses, smoothing, self.ema_state)
        self.curves["loss_smooth"].append(steps, smooth)

    def add_steps(self, step, loss, lr, smoothing: float) -> None:
        """Append the loss (and learning rate, unless None) at one step or a chunk
        of steps, and the smoothed loss (see :meth:`TrainingPlots.add_steps`)."""
        steps = np.atleast_1d(np.asarray(step, dtype=np.float64))
        losses = np.atleast_1d(np.asarray(loss, dtype=np.float64))
        self.curves["loss"].append(steps, losses)
        self.smooth(steps, losses, smoothing)
        if lr is not None:
            self.curves["lr"].append(steps, lr)

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
            panel = OUTPUT_PANELS[metric]
            symbol = _OUTPUT_SYMBOLS[ids.index(oid) % len(_OUTPUT_SYMBOLS)]
            self.curves[key] = self._live(panel, key, symbol=symbol, symbolSize=7)
            self.per_output[key] = (panel, label, ids.index(oid), train)
        return self.curves[key]

    # -- an epoch's points --------------------------------------------------
    def add_epoch(self, epoch: int, at: float, val_loss, values: tuple,
                  outputs: dict[str, dict] | None) -> bool:
        """Append an epoch's metrics (see :meth:`TrainingPlots.add_epoch`).

        Args:
            epoch: the epoch number, where the epoch metrics are drawn.
            at: the step where validation losses are drawn.
            val_loss: validation loss, or None.
            values: train and validation accuracy, train and validation MAE
                (each None when not measured).
            outputs: each output's metrics, by output id.

        Returns:
            Whether a per-output curve was made (its style and legend are due).
        """
        if val_loss is not None:
            self.curves["val_loss"].append(at, val_loss)
        for key, value in zip(EPOCH_KEYS, values):
            if value is not None:
                self.curves[key].append(epoch, value)
        new_curves = False
        for oid, metrics in (outputs or {}).items():
            for metric, value in metrics.items():
                if metric not in OUTPUT_PANELS or not isinstance(value, (int, float)):
                    continue
                new_curves |= f"{metric}_{oid}" not in self.curves
                self.output_curve(str(oid), metric).append(
                    at if OUTPUT_PANELS[metric] == "loss" else epoch, value)
        return new_curves

    def add_grad_norms(self, epoch: int, grad_norms: dict[str, float]) -> list:
        """Append each layer's gradient norm at ``epoch``; returns the layers new
        to this run."""
        new = [n for n in grad_norms if n not in self.grads]
        for name, norm in grad_norms.items():
            # log axis: a zero norm (frozen layer) would be -inf, draw it as a gap;
            # a curve of gaps only (a head no target trains) stays empty, as
            # pyqtgraph's markers warn on an all-NaN curve
            curve = self.grad(str(name))
            if norm > 0 or curve.series.y_min is not None:
                curve.append(epoch, norm if norm > 0 else np.nan)
        return new

    # -- style and legends --------------------------------------------------
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
        for key in self.extras:
            self.style_extra(key, active)
        self.style_outputs(active, own_colors)
        self.style_grads()

    def style_extra(self, key: str, active: bool) -> None:
        """A curve of :meth:`TrainingPlots.add_points`: dotted, filled markers."""
        col = theme.with_alpha(self.color, 1.0 if active else _DIM)
        item = self.curves[key].item
        item.setPen(pg.mkPen(col, width=1.5, style=Qt.PenStyle.DotLine))
        item.setSymbolPen(None)
        item.setSymbolBrush(pg.mkBrush(col))

    def style_grads(self) -> None:
        """One colour per layer, markers on the epochs."""
        for i, curve in enumerate(self.grads.values()):
            col = theme.series_color(i)
            curve.item.setPen(pg.mkPen(col, width=2))
            curve.item.setSymbol("o")
            curve.item.setSymbolSize(5)
            curve.item.setSymbolPen(None)
            curve.item.setSymbolBrush(pg.mkBrush(col))

    def show(self, visible: bool, active: bool, hidden_keys) -> None:
        """Show the run's curves (but ``hidden_keys``) or hide them; the gradient
        norms are shown for the active run only."""
        for key, curve in self.curves.items():
            curve.set_visible(visible and key not in hidden_keys)
        for curve in self.grads.values():
            curve.set_visible(visible and active)

    def add_legend_entries(self, legends: dict[str, list], prefix: bool,
                           metric_keys: tuple[str, str]) -> None:
        """Add this run's entries to each panel's legend (but the gradient norms').

        Args:
            legends: panel name → its ``(item, name)`` entries so far.
            prefix: several runs are shown: each name starts with the run's label.
            metric_keys: the train and validation curves of the metric panel.
        """
        lab = f"{self.label} " if prefix else ""
        several = bool(self.outputs or self.per_output)
        legends["loss"] += [(self.curves["loss_smooth"].item, f"{lab}train (smoothed)"),
                            (self.curves["val_loss"].item,
                             f"{lab}validation" + (" (weighted sum)" if several else ""))]
        if not several:  # with several outputs, the metrics are each output's
            legends["metric"] += [(self.curves[metric_keys[0]].item, f"{lab}train"),
                                  (self.curves[metric_keys[1]].item, f"{lab}validation")]
        for key, (panel, label, _k, _train) in self.per_output.items():
            legends[panel].append((self.curves[key].item, f"{lab}{label}"))
        if prefix:
            legends["lr"].append((self.curves["lr"].item, self.label))
        for key, (panel, label) in self.extras.items():
            legends[panel].append((self.curves[key].item, f"{lab}{label}"))

    def all_curves(self) -> list[LiveCurve]:
        return list(self.curves.values()) + list(self.grads.values())

    # -- export -------------------------------------------------------------
    def csv_rows(self):
        """The run's points as CSV rows ``run, label, metric, x_axis, x, value``
        (see :meth:`TrainingPlots.export_csv`)."""
        named = [(k, c) for k, c in self.curves.items() if k != "loss_smooth"]
        named += [(f"{GRAD_PREFIX}{n}", c) for n, c in self.grads.items()]
        step_panels = {"loss", "lr"}
        for key, curve in named:
            panel = self.extras.get(key, self.per_output.get(key, (None,)))[0]
            axis = ("step" if key in ("loss", "val_loss", "lr") or panel in step_panels
                    else "epoch")
            for x, y in zip(curve.series.x.tolist(), curve.series.y.tolist()):
                yield [self.id, self.label, key, axis, _num(x), _num(y)]


def data_bounds(runs, plot, log_y: bool):
    """The visible curves' data bounds in ``plot``, from their series' running
    extremes (x never decreases, so its ends are the first and last x).

    Args:
        runs: the :class:`RunCurves` of every run.
        plot: the ``PlotItem`` whose curves count.
        log_y: the plot's y axis is logarithmic (bounds in log10; no y ≤ 0).

    Returns:
        ``((x_min, x_max), (y_min, y_max))``, or ``(None, None)`` when no
        visible curve there has data.
    """
    xs, ys = [], []
    for run in runs:
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


def metric_keys(task: str) -> tuple[str, str]:
    """The train and validation curves of the metric panel for ``task``."""
    return (("train_accuracy", "val_accuracy") if task == "classification"
            else ("train_mae", "val_mae"))


def legend_entries(shown, active: str | None, metric: tuple[str, str],
                   panels) -> dict[str, list]:
    """Each panel's legend entries ``(item, name)``.

    Args:
        shown: the :class:`RunCurves` of the visible runs, in order.
        active: the active run's id (its layers name the gradient panel's entries).
        metric: the metric panel's train and validation keys (:func:`metric_keys`).
        panels: the panels' names.
    """
    legends: dict[str, list] = {name: [] for name in panels}
    for run in shown:
        run.add_legend_entries(legends, len(shown) > 1, metric)
        if run.id == active:
            legends["grad_norm"] = [(c.item, n) for n, c in run.grads.items()]
    return legends


def planned_end(runs, plot, axis: str) -> float | None:
    """The furthest planned end on ``axis`` (``"epoch"`` or ``"step"``) of the runs
    with a visible curve in ``plot``; None when none of them has a plan."""
    ends = [run.ends[axis] for run in runs if axis in run.ends
            and any(c.plot is plot and c.item.isVisible() for c in run.all_curves())]
    return max(ends) if ends else None


def write_csv(path: Path, runs) -> Path:
    """Every run's points as CSV rows (:meth:`RunCurves.csv_rows`) under a header."""
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["run", "label", "metric", "x_axis", "x", "value"])
        for run in runs:
            out.writerows(run.csv_rows())
    return path


def _num(v: float):
    return int(v) if float(v).is_integer() else repr(float(v))
