"""The gradient-norm panel of a deep run: a heat map of layer × epoch with the
layer names on its axis and a colour bar, instead of one line per layer; a
shallow run keeps its lines.  Driven by the training protocol's events, as the
training process sends them, and the diagnosis of vanishing gradients shown
in words."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF
from test_training_parts import parts, record

from gui.training.grad_heatmap import HEATMAP_LAYERS, TITLE
from runtime.diagnose import diagnose
from runtime.protocol import Epoch, Kind, RunStart, Steps

DEPTH = 52


def layers(n: int) -> list[str]:
    return ["stem"] + [f"body.{i}.conv" for i in range(n - 2)] + ["fc"]


def vanishing_norms(names: list[str], epoch: int) -> dict[str, float]:
    """Norms that fall by 10× every 4 layers towards the input (default init, tanh)."""
    n = len(names)
    return {name: 0.5 * 10 ** (-(n - 1 - i) / 4) / epoch for i, name in enumerate(names)}


def feed_deep(live, rec, names: list[str], epochs: int = 3) -> list[dict]:
    live.runs.add(rec)
    live.plots.add_run(rec.id, metrics=rec.metrics)
    live.begin(rec, None)
    live.dispatch(Kind.RUN_START, RunStart(task="classification", epochs=epochs,
                                           steps_per_epoch=2, batch_size=16, nodes={}))
    history = []
    for epoch in range(1, epochs + 1):
        norms = vanishing_norms(names, epoch)
        history.append({"train_loss": 2.3, "val_loss": 2.3, "train_accuracy": 0.1,
                        "val_accuracy": 0.1, "grad_norms": norms})
        findings = [f.to_json() for f in diagnose(history)]
        live.dispatch(Kind.STEPS, Steps([2 * epoch - 1, 2 * epoch], [2.3, 2.3], epoch=epoch,
                                        step=2 * epoch, lr=0.1, samples_per_s=100.0))
        live.dispatch(Kind.EPOCH, Epoch(epoch=epoch, step=2 * epoch, train_loss=2.3,
                                        val_loss=2.3, train_accuracy=0.1, val_accuracy=0.1,
                                        lr=0.1, grad_norms=norms, diagnosis=findings,
                                        extra={"seconds": 1.0}))
    return history


def test_a_50_layer_run_shows_its_gradient_norms_as_a_heat_map(qtbot):
    live, _ = parts(qtbot)
    view = live.view
    view.resize(1200, 800)
    view.show()
    names = layers(DEPTH)
    feed_deep(live, record(), names)
    plots = view.plots
    plots.flush()
    heat = plots.grad_heatmap
    assert heat.isVisibleTo(view) and not plots.panels["grad_norm"].isVisibleTo(view)
    # one row per layer in forward order, one column per epoch, log10 of the norm
    assert heat.layers == names and heat.matrix.shape == (DEPTH, 3)
    assert list(heat.epochs) == [1, 2, 3]
    assert math.isclose(heat.value_at(0, 2), vanishing_norms(names, 3)["stem"], rel_tol=1e-9)
    assert math.isclose(heat.value_at(DEPTH - 1, 0), 0.5, rel_tol=1e-9)
    # the colour bar spans the norms shown; the rows are named on the axis
    lo, hi = heat.bar.levels()
    assert math.isclose(lo, np.nanmin(heat.matrix)) and math.isclose(hi, np.nanmax(heat.matrix))
    ticks = dict(heat.getPlotItem().getAxis("left")._tickLevels[0])
    assert ticks[0] == "stem" and set(ticks.values()) <= set(names) and len(ticks) >= 5
    # the diagnosis says in words that gradients vanish and where
    text = view.diagnosis.plain_text()
    assert "gradients vanish" in text and "stem, body.0.conv" in text
    view.grab().save("/tmp/helpers/h11_heatmap_view.png")


def test_hovering_a_cell_names_its_layer_epoch_and_norm(qtbot):
    live, _ = parts(qtbot)
    live.view.resize(1200, 800)
    live.view.show()
    names = layers(DEPTH)
    feed_deep(live, record(), names, epochs=2)
    heat = live.view.plots.grad_heatmap
    qtbot.waitUntil(lambda: heat.height() > 50)
    vb = heat.getPlotItem().getViewBox()
    heat._hover(vb.mapViewToScene(QPointF(2, 0)))  # the cell of epoch 2, first layer
    assert heat.getPlotItem().titleLabel.text.startswith("stem, epoch 2: ‖grad‖")
    heat._hover(vb.mapViewToScene(QPointF(40, 0)))  # outside the epochs
    assert heat.getPlotItem().titleLabel.text == TITLE


def test_a_shallow_run_keeps_one_line_per_layer(qtbot):
    live, _ = parts(qtbot)
    live.view.show()
    names = layers(HEATMAP_LAYERS)
    feed_deep(live, record(), names, epochs=2)
    plots = live.view.plots
    assert plots.panels["grad_norm"].isVisibleTo(live.view)
    assert not plots.grad_heatmap.isVisibleTo(live.view)
    assert len(plots.runs[plots.active].grads) == HEATMAP_LAYERS
