"""Following panels move their axes seldom (quality.md B4: each move repaints
the axes, grid and labels, the window's longest event-loop turns while
training): an epoch axis shows the whole run from its first epoch, a step axis
doubles towards the run's end, a falling loss moves the y axis a few times and
never below zero; a move
and the redraw of the points it makes room for come at separate ticks; the
axis and the grid work the tick values out once per move."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont

from runtime.protocol import Epoch, Kind, RunStart, Steps
from test_training_parts import parts, record


def moves(panel, axis: int) -> list:
    """Record each range the panel's view moves to on ``axis`` (0: x, 1: y)."""
    seen = []
    signal = panel.getViewBox().sigXRangeChanged if axis == 0 \
        else panel.getViewBox().sigYRangeChanged
    signal.connect(lambda _vb, rng: seen.append(tuple(rng)))
    return seen


def test_the_epoch_axis_shows_the_whole_run_from_its_first_epoch(qtbot):
    live, _saved = parts(qtbot)
    rec = record()
    live.runs.add(rec)
    live.plots.add_run(rec.id, metrics=rec.metrics)
    live.begin(rec, None)
    live.dispatch(Kind.RUN_START, RunStart(task="classification", epochs=20,
                                           steps_per_epoch=50, batch_size=16))
    steps = list(range(1, 51))
    live.dispatch(Kind.STEPS, Steps(steps, [1.0 / s for s in steps], epoch=1, step=50,
                                    lr=0.1, samples_per_s=100.0))
    live.dispatch(Kind.EPOCH, Epoch(epoch=1, step=50, train_loss=0.5, val_loss=0.6,
                                    train_accuracy=0.6, val_accuracy=0.55, lr=0.1,
                                    grad_norms={"hidden": 0.5}))
    live.plots.flush()
    for name in ("metric", "grad_norm"):
        (x0, x1), _ = live.plots.panels[name].getViewBox().viewRange()
        assert x0 <= 1 and 20 <= x1 < 21, (name, x0, x1)  # epochs 1…20, from epoch 1
    # the step axis makes room for as many steps again, not for the whole run
    (x0, x1), _ = live.plots.panels["loss"].getViewBox().viewRange()
    assert x0 <= 1 and 100 <= x1 < 120, (x0, x1)


def test_a_step_axis_doubles_towards_the_runs_end(plots):
    plots.add_run("r1")
    plots.plan("r1", epochs=10, steps=10_000)
    panel = plots.panels["loss"]
    seen = moves(panel, 0)
    for start in range(1, 10_001, 50):
        s = np.arange(start, start + 50)
        plots.add_steps(s, 1.0 / np.sqrt(s))
        plots.flush()
        (_x0, x1), _ = panel.getViewBox().viewRange()
        assert x1 >= s[-1]  # every point in view all along
    # 50 → 10,000 steps by doubling: 9 moves (growing by a quarter would take 25)
    assert 1 <= len(seen) <= 10, len(seen)
    (x0, x1), _ = panel.getViewBox().viewRange()
    assert x0 <= 1 and 10_000 <= x1 <= 10_000 * 1.05  # the whole run at the end, no more


def test_a_falling_loss_moves_the_y_axis_a_few_times_and_never_below_zero(plots):
    plots.add_run("r1")
    panel = plots.panels["loss"]
    seen = moves(panel, 1)
    for start in range(1, 5001, 50):
        s = np.arange(start, start + 50)
        plots.add_steps(s, 0.02 + np.exp(-s / 800.0))
        plots.flush()
        _, (y0, y1) = panel.getViewBox().viewRange()
        low = 0.02 + np.exp(-s[-1] / 800.0)
        assert y0 <= low <= y1
        assert y0 >= -0.1  # a pad below a loss near zero, never a band of negative loss
    # ≈ 1.0 → 0.02 in small steps: 8 % of room below moved the axis 18 times
    assert len(seen) <= 8, [round(r[0], 3) for r in seen]


def test_a_move_and_the_points_it_makes_room_for_come_at_separate_ticks(plots):
    plots.add_run("r1")
    plots.add_steps(np.arange(1, 101), np.linspace(1.0, 0.5, 100))
    plots.flush()
    loss = plots.runs["r1"].curves["loss"]
    panel = plots.panels["loss"]
    (_x0, x1), _ = panel.getViewBox().viewRange()
    redraws = loss.redraws
    plots.add_steps(np.arange(101, 301), np.linspace(0.5, 0.1, 200))  # beyond the view
    plots.clock._tick()  # this tick moves the axes only
    (_x0, moved_x1), (y0, _y1) = panel.getViewBox().viewRange()
    assert moved_x1 >= 300 > x1 and y0 <= 0.1
    assert loss.redraws == redraws and loss.item.getData()[0][-1] == 100
    plots.clock._tick()  # the next draws the points in the moved view
    assert loss.redraws == redraws + 1 and loss.item.getData()[0][-1] == 300
    assert panel.getViewBox().viewRange()[0][1] == moved_x1  # and moves nothing


def test_the_axis_and_the_grid_work_the_ticks_out_once_per_move(plots, monkeypatch):
    plots.add_run("r1")
    plots.add_steps(np.arange(1, 201), np.linspace(1.0, 0.5, 200))
    plots.flush()
    panel = plots.panels["loss"]
    panel.grab()
    computed = []
    real = pg.AxisItem.tickValues

    def counting(self, lo, hi, size):
        computed.append(self.orientation)
        return real(self, lo, hi, size)

    monkeypatch.setattr(pg.AxisItem, "tickValues", counting)
    panel.follow(False)
    panel.getViewBox().setRange(xRange=(0, 400), yRange=(0.2, 1.1), padding=0)
    panel.grab()  # the grid's lines and the axes' labels, at the new range
    assert sorted(computed) == ["bottom", "left"]


def test_a_new_tick_font_fits_the_labels_anew(plots):
    panel = plots.panels["loss"]
    panel.follow(False)
    panel.getViewBox().setRange(yRange=(0, 1), padding=0)
    axis = panel.getPlotItem().getAxis("left")
    small = axis.tick_levels()[0]
    axis.setTickFont(QFont(axis.font().family(), 40))
    large = axis.tick_levels()[0]
    assert 2 <= len(large) < len(small)  # fewer labels: each needs its room
