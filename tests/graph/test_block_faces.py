"""A block's face (:mod:`graph.face`) names every setting that differs from
its default, the advanced ones included, compactly (issue 15 item 4)."""

from __future__ import annotations

from graph import Graph
from graph.face import face_parts, face_text


def test_a_conv_with_every_setting_changed_names_each_compactly():
    g = Graph()
    conv = g.add_node("Conv2d", {"out_channels": 16, "kernel_size": 3, "stride": 2,
                                 "padding": "same", "dilation": 2, "groups": 4})
    assert face_parts(conv) == ["channels 16", "3×3 /2 same", "dilation 2", "groups 4"]


def test_an_lstm_shows_its_advanced_settings_when_changed():
    g = Graph()
    lstm = g.add_node("LSTM", {"bidirectional": True, "batch_first": False, "num_layers": 2,
                               "proj_size": 4})
    parts = face_parts(lstm)
    assert {"layers 2", "bidirectional", "proj 4", "no batch first"} <= set(parts), parts
    # left at their defaults, advanced settings stay off the face
    plain = g.add_node("LSTM", {})
    assert face_text(plain) == "hidden 64 · layers 1"


def test_a_changed_initialisation_says_it_is_one():
    g = Graph()
    fc = g.add_node("Linear", {"out_features": 8, "init": "orthogonal"})
    assert face_parts(fc) == ["features 8", "init orthogonal"]
    norm = g.add_node("BatchNorm2d", {"eps": 1e-3, "track_running_stats": False})
    assert "eps 0.001" in face_parts(norm) and "no track running stats" in face_parts(norm)
