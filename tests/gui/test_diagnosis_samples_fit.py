"""A sequence-to-sequence run's decoded samples are readable without scrolling
in the training view at the size a 1280×800 window gives it: the diagnosis
shows them beside the findings as a compact monospace table (wrong tokens in
red) and grows just enough to show them; without samples it goes back to its
two lines, and a height the user dragged the splitter to is kept."""

from __future__ import annotations

from test_epoch_samples_view import NAMES, sample, send, start
from test_training_parts import parts, record

from runtime.protocol import Epoch, Kind

#: the training view's size in a 1280×800 window (bench/screenshots.py training_1280)
VIEW = (934, 380)
LONG = [5, 2, 1, 4, 3, 5, 3, 5]  # eight tokens, as the reverse template's samples


def shown_view(qtbot):
    live, _ = parts(qtbot)
    live.view.resize(*VIEW)
    live.view.show()
    qtbot.waitExposed(live.view)
    start(live, record())
    return live


def three() -> list[dict]:
    return [sample(LONG, LONG[::-1]), sample(LONG[1:] + [9], [9, 9, 9, 9, 9, 9, 9, 9]),
            sample([10, 8, 1, 5, 10, 3, 4, 10], [10, 4, 3, 10, 5, 1, 8, 1])]


def test_the_samples_fit_without_scrolling_and_leave_the_plots_most_of_the_height(qtbot):
    live = shown_view(qtbot)
    view, panel = live.view, live.view.diagnosis
    split = panel.parentWidget()  # the splitter between the tabs and the diagnosis
    before = split.sizes()
    findings = [{"kind": "overfitting", "message": "validation loss rose for 3 epochs while "
                 "the training loss fell", "suggestion": "add dropout or weight decay"}]
    send(live, Kind.EPOCH, Epoch(epoch=2, step=2, val_loss=1.0, samples=three(),
                                 diagnosis=findings))
    qtbot.waitUntil(lambda: panel.verticalScrollBar().maximum() == 0, timeout=2000)
    plots, diag = split.sizes()
    assert diag > before[1] and plots >= 0.6 * sum(before)
    # a table: a header of columns, a line per sample; wrong tokens and marks in red
    text = panel.toPlainText()
    assert "input" in text and "target" in text and "predicted" in text
    assert "4 2 4 2 3 0 1 4" in text and "validation loss rose" in text
    html = panel.toHtml()
    assert "<table" in html and "<pre" in html and "monospace" in html.lower()
    assert html.count("✗") == 2 and html.count("✓") == 1
    panel.grab().save("/tmp/helpers/hF_samples_fit.png")
    # a run without samples: the panel goes back to its two lines
    send(live, Kind.EPOCH, Epoch(epoch=3, step=3, val_loss=1.0))
    assert split.sizes()[1] == before[1]


def test_a_height_the_user_dragged_to_is_kept(qtbot):
    live = shown_view(qtbot)
    split = live.view.diagnosis.parentWidget()
    total = sum(split.sizes())
    split.moveSplitter(total - 120, 1)  # as a drag of the handle does
    dragged = split.sizes()
    assert dragged[1] > 100
    send(live, Kind.EPOCH, Epoch(epoch=1, step=1, val_loss=1.0, samples=three()))
    send(live, Kind.EPOCH, Epoch(epoch=2, step=2, val_loss=1.0))
    assert split.sizes() == dragged
