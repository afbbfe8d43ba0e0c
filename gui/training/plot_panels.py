"""The four training panels, their grid, and the Follow button.

:class:`PlotPanels` builds the loss, metric, learning-rate and gradient-norm
:class:`~gui.training.panel.Panel`\\ s, lays them out (2×2, or one row in a
wide, short area), puts the gradient heat map in the gradient panel's cell
for a deep run, and keeps every panel zoomed to its visible data while
Follow is on: after each redraw of the clock, a following panel is refitted
to the bounds of the runs' visible curves; zooming by hand turns Follow off.
:class:`~gui.training.plots.TrainingPlots` composes it with the runs.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from gui.training.curves import RedrawClock
from gui.training.grad_heatmap import HEATMAP_LAYERS, GradHeatmap
from gui.training.panel import Panel
from gui.training.run_curves import RunCurves, data_bounds, planned_end

PANELS = ("loss", "metric", "lr", "grad_norm")
#: Seconds between two redraws of the learning-rate plot.
LR_REDRAW_S = 0.25
#: the loss curve's most frequent redraw: 10 a second reads as live, and each
#: redraw costs a repaint of its panel (≈ 4 ms, up to 15 ms when an axis
#: changes) that the event loop cannot serve input during (quality.md B4)
LOSS_REDRAW_S = 0.1
#: Width over height above which the four panels stand in one row.
WIDE_RATIO = 2.6


class PlotPanels:
    """The panels in a grid, with Follow and the status line.

    Args:
        clock: the clock that redraws the curves; panels refit after its redraws.
        runs: the runs, by id (the very dict the plots add runs to): their
            visible curves are what a following panel is zoomed to.

    Attributes:
        panels: the panels, by name (:data:`PANELS`).
        grid: the layout that holds them.
        grad_heatmap: the gradient norms of a deep run, in the gradient panel's cell.
        toolbar: Follow and the status line: a host may show them elsewhere (the
            training view puts them beside its tabs, a row of plot height saved
            at 1280×800).
    """

    def __init__(self, clock: RedrawClock, runs: dict[str, RunCurves]):
        self.clock, self.runs = clock, runs
        self.clock.after_flush.append(self._refit)
        self.clock.move_first = self._move_first
        self.panels: dict[str, Panel] = {
            "loss": Panel("Loss", "step", "loss"),
            "metric": Panel("Accuracy", "epoch", "accuracy"),
            "lr": Panel("Learning rate", "step", "learning rate"),
            "grad_norm": Panel("Gradient norm per layer", "epoch", "‖grad‖ (log)", log_y=True),
        }
        # the learning rate moves slowly: its redraws leave the ticks to the loss
        self.clock.set_min_interval(self.panels["lr"].getPlotItem(), LR_REDRAW_S)
        self.clock.set_min_interval(self.panels["loss"].getPlotItem(), LOSS_REDRAW_S)
        # accuracy is a fraction: "accuracy (x0.001)" would be nonsense
        for name in PANELS:  # "loss (x0.001)" reads worse than 0.5
            self.panels[name].getPlotItem().getAxis("left").enableAutoSIPrefix(False)

        self.follow_button = QPushButton("Follow")
        self.follow_button.setCheckable(True)
        self.follow_button.setChecked(True)
        self.follow_button.setToolTip("Keep every plot zoomed to all of its data")
        self.follow_button.clicked.connect(self._follow_clicked)
        self.status = QLabel("")
        self.toolbar = QWidget()
        bar = QHBoxLayout(self.toolbar)
        bar.setContentsMargins(4, 0, 4, 0)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.follow_button)
        for name in PANELS:
            self.panels[name].userZoomed.connect(lambda n=name: self._user_zoomed(n))
        # a deep run's gradient norms: shown in the line panel's place (show_grads)
        self.grad_heatmap = GradHeatmap()
        self.grad_heatmap.hide()
        self.grid = QGridLayout()
        self.grid.setSpacing(4)
        self._columns = 0
        self.arrange(2)
        self._metric_title: tuple[str, str] | None = None

    def arrange(self, columns: int) -> None:
        """Lay the panels out in ``columns`` columns (2: a 2×2 grid; 4: one row)."""
        if columns == self._columns:
            return
        self._columns = columns
        # the gradient heat map (a deep run) takes the gradient panel's cell
        cells = [(self.panels[name], i) for i, name in enumerate(PANELS)]
        cells.append((self.grad_heatmap, PANELS.index("grad_norm")))
        for widget, _i in cells:
            self.grid.removeWidget(widget)
        for widget, i in cells:
            self.grid.addWidget(widget, i // columns, i % columns)
        for k in range(4):
            self.grid.setColumnStretch(k, 1 if k < columns else 0)
            self.grid.setRowStretch(k, 1 if k < 4 // columns else 0)

    def fit_to(self, width: int, height: int) -> None:
        """A wide, short area (the training band at 1280×800) puts the four panels in
        one row: 2×2 there leaves each plot a flat strip with its axes clipped."""
        self.arrange(4 if width >= WIDE_RATIO * max(1, height) else 2)

    def show_grads(self, run: RunCurves | None) -> None:
        """Lines for a few layers; the heat map in their place for ``run`` (the
        active run, if shown) when it has more than :data:`HEATMAP_LAYERS`."""
        deep = run is not None and len(run.grads) > HEATMAP_LAYERS
        if deep:
            self.grad_heatmap.set_norms(list(run.grads),
                                        [(c.series.x, c.series.y) for c in run.grads.values()])
        self.grad_heatmap.setVisible(deep)
        self.panels["grad_norm"].setVisible(not deep)

    def show_metric_title(self, task: str, output_tasks: set) -> None:
        """Accuracy, MAE, or both where the active run's outputs measure both.

        Args:
            task: the network's task (``classification`` or ``regression``).
            output_tasks: the tasks of the active run's outputs (may be empty).
        """
        if {"classification", "regression"} <= output_tasks:
            title = ("Accuracy and MAE (per output)", "accuracy / MAE")
        elif task == "classification":
            title = ("Accuracy", "accuracy")
        else:
            title = ("Mean absolute error (MAE)", "MAE")
        if title != self._metric_title:
            self._metric_title = title
            self.panels["metric"].set_title(*title)

    def save_png(self, panel: str, path: Path) -> Path:
        """Save one panel, as drawn now, as a PNG image.

        Raises:
            KeyError: no such panel.
            OSError: the image could not be written.
        """
        if panel not in self.panels:
            raise KeyError(f"no plot {panel!r}; plots are {', '.join(PANELS)}")
        if not self.panels[panel].grab().save(str(path), "PNG"):
            raise OSError(f"could not write the image {path}")
        return path

    # -- follow -------------------------------------------------------------
    def following(self, panel: str) -> bool:
        return self.panels[panel].following()

    def set_follow(self, on: bool = True) -> None:
        """Re-enable (or stop) following the data on every panel."""
        for p in self.panels.values():
            p.follow(on)
        self.follow_button.setChecked(on)

    def reset(self) -> None:
        """No legends, every panel following (the runs were cleared)."""
        for panel in self.panels.values():
            panel.set_legend([])
            panel.follow()
        self.follow_button.setChecked(True)

    def _refit(self, plot_items) -> None:
        for panel in self.panels.values():
            if any(panel.getPlotItem() is p for p in plot_items):
                self._fit(panel)

    def _move_first(self, plot) -> bool:
        """Move ``plot``'s axes to fit its new points, before they are drawn; whether
        they moved (the clock draws the points at the plot's next tick)."""
        for panel in self.panels.values():
            if panel.getPlotItem() is plot:
                return self._fit(panel)
        return False

    def _fit(self, panel: Panel) -> bool:
        item = panel.getPlotItem()
        return panel.refit(bounds=data_bounds(self.runs.values(), item, panel.log_y),
                           x_end=planned_end(self.runs.values(), item, panel.x_label))

    def _follow_clicked(self, checked: bool) -> None:
        self.set_follow(checked)

    def _user_zoomed(self, panel: str) -> None:
        self.follow_button.setChecked(False)
        plot = self.panels[panel].getPlotItem()
        for run in self.runs.values():
            for curve in run.all_curves():
                if curve.plot is plot:  # re-slice at the new zoom's resolution
                    self.clock.mark(curve)
