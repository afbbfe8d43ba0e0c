"""Units as a newcomer meets them, in one go (issue 11, "Done when"): build a
ResNet with two BasicBlock stages by grouping, repeat one stage ×3, open the
unit, change a kernel size and see every instance update, undo, export code
with one ``class BasicBlock(nn.Module)``, train it, and reopen the saved file
unchanged."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from codegen import build_model, generate
from graph import Graph, analyze
from graph.project import Project, dumps_project, load_project
from gui.document import Document
from runtime import Trainer

from conftest import drag, node_point, port_point
from test_inspector_editors import type_in
from test_units_editor import CTRL, key, names_dialog

SAME = {"kernel_size": 3, "padding": "same", "bias": False}


def flat_resnet() -> Project:
    """image → stem → [conv, bn, add(+skip), relu] ×2 (flat) → pool → fc → logits."""
    g = Graph()
    x = 0

    def add(t, params, name, nid):
        nonlocal x
        g.add_node(t, params, name=name, id=nid, pos=(x, 0))
        x += 240

    add("Input", {"shape": [1, 8, 8]}, "image", "img")
    add("Conv2d", {"out_channels": 8, **SAME}, "stem", "stem")
    add("Conv2d", {"out_channels": 8, **SAME}, "conv1", "c1")
    add("BatchNorm2d", {}, "bn1", "b1")
    add("Add", {}, "add", "a1")
    add("ReLU", {}, "relu", "r1")
    add("Conv2d", {"out_channels": 8, **SAME}, "conv1_b", "c2")
    add("BatchNorm2d", {}, "bn1_b", "b2")
    add("Add", {}, "add_b", "a2")
    add("ReLU", {}, "relu_b", "r2")
    add("GlobalAvgPool", {}, "pool", "pool")
    add("Linear", {"out_features": 10}, "fc", "fc")
    add("Output", {}, "logits", "y")
    for s, t in [("img", "stem"), ("stem", "c1"), ("c1", "b1"), ("b1", "a1"), ("stem", "a1"),
                 ("a1", "r1"), ("r1", "c2"), ("c2", "b2"), ("b2", "a2"), ("r1", "a2"),
                 ("a2", "r2"), ("r2", "pool"), ("pool", "fc"), ("fc", "y")]:
        g.connect(s, t)
    training = {"dataset": {"name": "digits"}, "epochs": 1, "batch_size": 64, "seed": 0,
                "device": "cpu"}
    return Project("Tiny ResNet", g, training, {}, None)


def test_a_newcomer_groups_repeats_edits_exports_trains_and_reopens_a_resnet(
        qtbot, window, monkeypatch, tmp_path):
    w = window
    w.set_document(Document(flat_resnet()))
    g = w.doc.graph
    names_dialog(monkeypatch, ["BasicBlock"])

    # 1. stage 1 grouped into a unit (Ctrl+G)
    w.scene.select_nodes(["c1", "b1", "a1", "r1"])
    key(qtbot, w, Qt.Key.Key_G, CTRL)
    (stage1,) = [n.id for n in g.nodes.values() if n.type == "BasicBlock"]
    # 2. stage 2: its flat blocks deleted, the instance duplicated (Ctrl+D) and
    #    wired in by dragging from port to port
    w.scene.select_nodes(["c2", "b2", "a2", "r2"])
    key(qtbot, w, Qt.Key.Key_Delete)
    assert not {"c2", "b2", "a2", "r2"} & set(g.nodes)
    w.scene.select_nodes([stage1])
    key(qtbot, w, Qt.Key.Key_D, CTRL)
    (stage2,) = [n.id for n in g.nodes.values() if n.type == "BasicBlock" and n.id != stage1]
    spec = g.nodes[stage1].spec
    p_in, p_out = spec.inputs[0].name, spec.outputs[0].name
    w.view.centerOn(w.scene.nodes[stage2])
    drag(qtbot, w, port_point(w, stage1, p_out, True), port_point(w, stage2, p_in, False))
    w.view.centerOn(w.scene.nodes[stage2])
    drag(qtbot, w, port_point(w, stage2, p_out, True), port_point(w, "pool", "in", False))
    an = analyze(g)
    assert an.valid(), [p.message for p in an.errors()]
    assert list(g.units) == ["BasicBlock"]

    # 3. stage 2 repeated ×3 in the inspector
    w.scene.select_nodes([stage2])
    type_in(qtbot, w.inspector.repeat_edit, "3")
    assert g.nodes[stage2].repeat == 3
    one_block = w.scene.nodes[stage1].n_params
    assert w.scene.nodes[stage2].n_params == 3 * one_block

    # 4. the unit opened by double-click; a kernel size changed; every instance updates
    w.view.centerOn(w.scene.nodes[stage1])
    qtbot.mouseDClick(w.view.viewport(), Qt.MouseButton.LeftButton, pos=node_point(w, stage1))
    qtbot.waitUntil(lambda: bool(w.doc.levels))
    assert w.breadcrumb.text() == "Tiny ResNet › BasicBlock"
    conv = next(n.id for n in w.doc.current_graph.nodes.values() if n.type == "Conv2d")
    w.scene.select_nodes([conv])
    type_in(qtbot, w.inspector.editors["kernel_size"].spins[0], "5")
    key(qtbot, w, Qt.Key.Key_Escape)
    assert not w.doc.levels
    grown = 8 * 8 * (5 * 5 - 3 * 3)  # the conv's weights: the linked sizes make it 5×5
    assert w.scene.nodes[stage1].n_params == one_block + grown
    assert w.scene.nodes[stage2].n_params == 3 * (one_block + grown)
    # 5. undo takes it back everywhere
    w.actions["undo"].trigger()
    assert w.scene.nodes[stage1].n_params == one_block
    assert w.scene.nodes[stage2].n_params == 3 * one_block

    # 6. the code: one class per unit, state-dict keys nest as in torchvision
    code = generate(g, w.doc.project.name)
    assert code.source.count("class BasicBlock(nn.Module):") == 1
    model, _ = build_model(g, w.doc.project.name)
    keys = set(model.state_dict())
    s1, s2 = g.nodes[stage1].name, g.nodes[stage2].name
    assert f"{s1}.conv1.weight" in keys
    assert {f"{s2}.{k}.conv1.weight" for k in range(3)} <= keys

    # 7. it trains (the engine the window's training process runs)
    result = Trainer(g, w.doc.project.training, out_dir=tmp_path / "run").run()
    assert result.epochs == 1

    # 8. saved, reopened: the same file
    path = tmp_path / "resnet.json"
    assert w.files.save_to(path)
    text = path.read_text(encoding="utf-8")
    again = load_project(path)
    assert dumps_project(again) == text
    assert json.loads(text)["version"] == 2
