"""Every panel binds to one document at a time: after File → Open (or New) the
document that was closed drives none of them; the views follow the document's
own announcements (an edit through the graph API too), and the code panel
reads the document's analysis instead of analysing the network again."""

from __future__ import annotations

import pytest

from conftest import small_project
from gui.code_view import CodeView
from gui.document import Document
from gui.inspector import Inspector
from gui.problems import ProblemsPanel
from gui.training.settings import TrainingSettings
from gui.training.settings_data import SetTraining


def _counting(monkeypatch, cls, name: str) -> list:
    """Count calls of ``cls.name`` (patched before any instance binds it)."""
    calls: list = []
    original = getattr(cls, name)

    def spy(self, *args):
        calls.append(self)
        return original(self, *args)
    monkeypatch.setattr(cls, name, spy)
    return calls


@pytest.mark.parametrize("cls, slot", [(Inspector, "refresh"), (ProblemsPanel, "refresh"),
                                       (CodeView, "schedule"), (TrainingSettings, "load")])
def test_a_panel_listens_only_to_the_document_it_is_bound_to(qtbot, monkeypatch, cls, slot):
    calls = _counting(monkeypatch, cls, slot)
    panel = cls()
    qtbot.addWidget(panel)
    first, second = Document(small_project()), Document(small_project())
    panel.bind(first)
    panel.bind(second)
    calls.clear()
    first.push(SetTraining(first, {"epochs": 9}))  # the old document is edited
    first.refresh()
    assert calls == []
    second.push(SetTraining(second, {"epochs": 2}))
    assert calls and all(c is panel for c in calls)
    assert panel.doc is second
    first.close()
    second.close()


def test_the_training_panels_leave_the_closed_document(qtbot, window, monkeypatch):
    """TrainingSettings and TrainingArea used to connect to each new document
    and never disconnect from the old one."""
    from gui.training.controller import TrainingArea

    edited = _counting(monkeypatch, TrainingArea, "_edited")
    weights = _counting(monkeypatch, TrainingArea, "update_weights_line")
    loads = _counting(monkeypatch, TrainingSettings, "load")
    window.train.show_training()
    area = window.training
    old = window.doc
    window.set_document(Document(small_project()))
    assert area.doc is window.doc and area.settings.doc is window.doc
    edited.clear(), weights.clear(), loads.clear()
    # the old document, closed but not yet deleted, changes: nobody hears it
    old.push(SetTraining(old, {"epochs": 7}))
    old.set_weights(object())
    assert (edited, weights, loads) == ([], [], [])
    window.doc.push(SetTraining(window.doc, {"epochs": 4}))
    assert edited and loads
    assert area.settings.epochs.value() == 4


def _without_the_loose_block(window) -> None:
    """Delete fc2 (its input is unconnected: no code until it goes)."""
    window.scene.select_nodes(["l2"])
    window.actions["delete"].trigger()


def test_an_edit_through_the_graph_api_reaches_the_panels(qtbot, window):
    """The views listen to the document, not to the undo stack."""
    _without_the_loose_block(window)
    window.scene.select_nodes(["l1"])
    before = window.totals_label.text()
    window.doc.graph.set_param("l1", "out_features", 48)  # no undo command: a script, say
    qtbot.waitUntil(lambda: window.totals_label.text() != before)
    assert window.inspector.editors["out_features"].widget.value() == 48
    qtbot.waitUntil(lambda: "nn.Linear(8, 48" in window.code.toPlainText(), timeout=3000)


def test_the_code_panel_uses_the_documents_analysis(qtbot, window, monkeypatch):
    import codegen.source
    import graph.analysis

    made = []
    real = graph.analysis.Analyzer.__init__

    def counting_init(self, *args, **kwargs):
        made.append(self)
        real(self, *args, **kwargs)
    monkeypatch.setattr(graph.analysis.Analyzer, "__init__", counting_init)
    monkeypatch.setattr(codegen.source, "analyze", lambda *a, **k: pytest.fail("analysed again"))
    _without_the_loose_block(window)
    window.scene.select_nodes(["l1"])
    window.inspector.editors["out_features"].widget.setValue(24)
    window.code.regenerate()
    assert "nn.Linear(8, 24" in window.code.toPlainText()
    assert made == []


def test_loaded_weights_are_shown_when_the_document_takes_them(qtbot, window, tmp_path):
    from gui.training.weights import LoadedWeights

    window.train.show_training()
    area = window.training
    assert not area.weights_box.isVisibleTo(area)
    ckpt = tmp_path / "best.pt"
    ckpt.write_bytes(b"")
    window.doc.set_weights(LoadedWeights("run-1", "best", 3, ckpt, {}))
    assert area.weights_box.isVisibleTo(area)
    assert "run-1" in area.weights_line.text()
    window.doc.set_weights(None)
    assert not area.weights_box.isVisibleTo(area)
