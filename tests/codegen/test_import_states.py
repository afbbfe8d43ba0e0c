"""Recurrent state in and out (issue 12): the ``h0``/``c0`` input ports and the
``h_n``/``c_n`` output ports of RNN, GRU and LSTM, on the canvas, in the
generated code and on import of ``forward(x, h)`` returning ``(out, h)``.

PyTorch keeps states (layers·directions)×N×H, the batch second; the canvas
keeps every tensor batch first, so an imported model takes and returns its
states transposed: each round trip here feeds the original PyTorch's layout,
the import the transpose, and compares the states transposed back.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import main
from codegen import build_model, generate
from codegen.compile import module_class
from codegen.fx_import import ModelImportError, import_model
from graph import Graph, analyze

ROOT = Path(__file__).resolve().parents[2]


def state_round_trip(model, shapes, states_in, states_out, batch=3):
    """Import ``model``, load its weights into the generated class and compare.

    Args:
        shapes: sample shapes as :func:`import_model` takes them (a state
            argument's without its batch, which PyTorch has in dim 1).
        states_in: indices of the forward arguments that are states.
        states_out: indices (in the flattened result) of returned states.

    Returns:
        The imported graph.
    """
    g = import_model(model, input_shapes=shapes)
    again = module_class(generate(g, type(model).__name__))()
    again.load_state_dict(model.state_dict())
    model.eval(), again.eval()
    torch.manual_seed(3)
    canvas = [torch.randn(batch, *s) for s in shapes]  # batch first, as the import takes them
    torch_layout = [a.transpose(0, 1).contiguous() if k in states_in else a
                    for k, a in enumerate(canvas)]
    with torch.no_grad():
        want, got = flat(model(*torch_layout)), flat(again(*canvas))
    assert len(want) == len(got)
    for k, (w, o) in enumerate(zip(want, got)):
        if k in states_out:
            w = w.transpose(0, 1)
        assert w.shape == o.shape, (k, w.shape, o.shape)
        torch.testing.assert_close(o, w, rtol=1e-5, atol=1e-6)
    return g


def flat(v) -> list:
    if isinstance(v, (tuple, list)):
        return [x for item in v for x in flat(item)]
    return [v]


def edges_of(g) -> set:
    return {(g.nodes[e.source].type, e.source_port, g.nodes[e.target].type, e.target_port)
            for e in g.edges}


# ------------------------------------------------------------------ import

class GRUWithState(nn.Module):
    def __init__(self, **kwargs):
        super().__init__()
        self.gru = nn.GRU(4, 6, batch_first=True, **kwargs)
        self.fc = nn.Linear(12 if kwargs.get("bidirectional") else 6, 2)

    def forward(self, x, h):
        out, h = self.gru(x, h)
        return self.fc(out), h


def test_gru_forward_x_h_returning_out_and_h_imports_with_state_ports():
    g = state_round_trip(GRUWithState(), [(5, 4), (1, 6)], {1}, {1})
    assert ("Input", "out", "GRU", "h0") in edges_of(g)
    assert ("GRU", "h_n", "Output", "in") in edges_of(g)
    source = generate(g, "GRUWithState").source
    assert "x, gru_h_n = self.gru(x, h.transpose(0, 1).contiguous())" in source
    assert "gru_h_n = gru_h_n.transpose(0, 1)" in source


def test_bidirectional_two_layer_gru_state_round_trip():
    g = state_round_trip(GRUWithState(num_layers=2, bidirectional=True),
                         [(5, 4), (4, 6)], {1}, {1})
    gru = next(n for n in g.nodes.values() if n.type == "GRU")
    assert gru.params == {"hidden_size": 6, "num_layers": 2, "bidirectional": True}


class LSTMWithState(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 5, num_layers=2, batch_first=True)
        self.head = nn.Linear(5, 1)

    def forward(self, x, h0, c0):
        out, (h, c) = self.lstm(x, (h0, c0))
        return self.head(out[:, -1]), (h, c)


def test_lstm_with_h0_c0_returning_out_and_h_n_c_n():
    g = state_round_trip(LSTMWithState(), [(7, 3), (2, 5), (2, 5)], {1, 2}, {1, 2})
    assert {("Input", "out", "LSTM", "h0"), ("Input", "out", "LSTM", "c0"),
            ("LSTM", "h_n", "Output", "in"), ("LSTM", "c_n", "Output", "in")} <= edges_of(g)
    source = generate(g, "LSTMWithState").source
    assert "(lstm_h_n, lstm_c_n) = self.lstm(" in source


class Seq2Seq(nn.Module):
    """An encoder's final (h, c) is the decoder's initial state."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.LSTM(4, 8, batch_first=True)
        self.decoder = nn.LSTM(3, 8, batch_first=True)
        self.out = nn.Linear(8, 3)

    def forward(self, src, tgt):
        _, hidden = self.encoder(src)
        dec, _ = self.decoder(tgt, hidden)
        return self.out(dec)


def test_encoder_state_tuple_feeds_the_decoder():
    g = state_round_trip(Seq2Seq(), [(6, 4), (5, 3)], set(), set())
    assert {("LSTM", "h_n", "LSTM", "h0"), ("LSTM", "c_n", "LSTM", "c0")} <= edges_of(g)


class ZeroState(nn.Module):
    """The tutorial form: an explicit zero initial state, the last step's output."""

    def __init__(self, ones=False):
        super().__init__()
        self.ones = ones
        self.rnn = nn.RNN(4, 6, num_layers=2, batch_first=True)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        make = torch.ones if self.ones else torch.zeros
        h0 = make(2, x.size(0), 6)
        out, hn = self.rnn(x, h0.detach())
        return self.fc(out[:, -1, :])


def test_an_explicit_zero_initial_state_is_the_default_state():
    g = state_round_trip(ZeroState(), [(5, 4)], set(), set())
    assert [n.type for n in g.nodes.values()] == ["Input", "RNN", "SelectTimestep", "Linear",
                                                   "Output"]


def test_a_non_zero_constant_initial_state_is_refused_by_the_exactness_check():
    with pytest.raises(ModelImportError, match="computes something else"):
        import_model(ZeroState(ones=True), input_shapes=[(5, 4)])


class BothUsed(nn.Module):
    """The sequence output and the first layer's final state, both read."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 6, num_layers=2, batch_first=True)
        self.a = nn.Linear(6, 2)
        self.b = nn.Linear(6, 2)
        self.c = nn.Linear(6, 2)

    def forward(self, x):
        out, h = self.gru(x)
        return self.a(out[:, -1]) + self.b(h[0]) + self.c(h[-1])


def test_indexing_the_state_while_the_sequence_is_used_selects_from_h_n():
    g = state_round_trip(BothUsed(), [(5, 4)], set(), set())
    gru = next(n for n in g.nodes.values() if n.type == "GRU")
    assert gru.params.get("return_sequences", True) is True  # the sequence is still read
    picks = [e for e in g.edges if e.source == gru.id and e.source_port == "h_n"]
    assert len(picks) == 2


class TransposedState(nn.Module):
    """The final state made batch first by hand, then flattened."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 3, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(12, 2)

    def forward(self, x):
        _, h = self.gru(x)
        return self.fc(h.transpose(0, 1).reshape(x.size(0), -1))


def test_the_state_transposed_batch_first_is_the_h_n_port():
    g = state_round_trip(TransposedState(), [(5, 4)], set(), set())
    assert ("GRU", "h_n", "Reshape", "in") in edges_of(g)


class StateTwice(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(6, 6, batch_first=True)

    def forward(self, x, h):
        out, _ = self.gru(x, h)
        return out + h


def test_an_argument_used_as_the_state_and_elsewhere_is_refused_by_name():
    with pytest.raises(ModelImportError) as info:
        import_model(StateTwice(), input_shapes=[(1, 6), (1, 6)])
    assert "initial state h0" in str(info.value)
    assert "state layout (layers·directions)×N×H" in str(info.value)


class StateArithmetic(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 6, batch_first=True)

    def forward(self, x):
        _, h = self.gru(x)
        return h.sum(dim=0)


def test_an_operation_on_the_state_without_a_block_is_named():
    with pytest.raises(ModelImportError) as info:
        import_model(StateArithmetic(), input_shapes=[(5, 4)])
    assert ".sum() of the recurrent state" in str(info.value)


# ------------------------------------------------------------------ canvas graphs

def state_graph(kind, params, h_shape=(1, 6), both=True, outputs=("out", "h_n")):
    g = Graph()
    g.add_node("Input", {"shape": [5, 4]}, id="x", name="x")
    g.add_node(kind, dict(params, hidden_size=6), id="rnn", name="rnn")
    g.connect("x", "rnn")
    for port in (("h0", "c0") if kind == "LSTM" and both else ("h0",)):
        g.add_node("Input", {"shape": list(h_shape)}, id=port, name=port)
        g.connect(port, "rnn", target_port=port)
    for port in outputs:
        g.add_node("Output", id=f"y_{port}")
        g.connect("rnn", f"y_{port}", source_port=port)
    return g


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("sequences, bidirectional", [(True, False), (False, False),
                                                      (False, True), (True, True)])
def test_generated_code_matches_torch_called_directly(kind, sequences, bidirectional):
    layers = 2
    stacks = layers * (2 if bidirectional else 1)
    outs = ("out", "h_n", "c_n") if kind == "LSTM" else ("out", "h_n")
    g = state_graph(kind, {"num_layers": layers, "bidirectional": bidirectional,
                           "return_sequences": sequences}, (stacks, 6), outputs=outs)
    an = analyze(g)
    assert not an.errors(), [p.message for p in an.errors()]
    assert tuple(an.output_type("rnn", "h_n").shape) == ("N", stacks, 6)
    model, code = build_model(g, "M")
    model.eval()
    x = torch.randn(3, 5, 4)
    states = [torch.randn(3, stacks, 6) for _ in outs[1:]]
    layer = model.rnn
    hx = [s.transpose(0, 1).contiguous() for s in states]
    with torch.no_grad():
        got = model(x, *states)
        seq, final = layer(x, tuple(hx) if kind == "LSTM" else hx[0])
    finals = list(final) if kind == "LSTM" else [final]
    h = finals[0]
    want_out = seq if sequences else (torch.cat((h[-2], h[-1]), dim=1) if bidirectional
                                      else h[-1])
    torch.testing.assert_close(got[0], want_out)
    for mine, theirs in zip(got[1:], finals):
        torch.testing.assert_close(mine, theirs.transpose(0, 1))


def test_unused_state_outputs_cost_nothing_in_the_code():
    body = generate(state_graph("GRU", {}, outputs=("out",)), "M").source.split("forward")[1]
    assert "x, _ = self.rnn(x, h0.transpose(0, 1).contiguous())\n        return x" in body
    body = generate(state_graph("LSTM", {"return_sequences": False}, outputs=("out", "c_n")),
                    "M").source.split("forward")[1]
    assert "_, (x, rnn_c_n) = self.rnn(" in body
    assert "x = x[-1]\n        rnn_c_n = rnn_c_n.transpose(0, 1)\n        return x, rnn_c_n" \
        in body


def test_an_lstm_with_h0_but_no_c0_says_to_connect_both():
    an = analyze(state_graph("LSTM", {}, both=False))
    [problem] = [p for p in an.errors() if p.node == "rnn"]
    assert problem.port == "c0"
    assert "connect c0 (N×1×6) too, or neither" in problem.message


# ------------------------------------------------------------------ the command line

def project(tmp_path, h_shape, outputs=("out", "h_n"), training=None):
    nodes = [{"id": "x", "type": "Input", "name": "x", "params": {"shape": [5, 4]}},
             {"id": "h", "type": "Input", "name": "h", "params": {"shape": list(h_shape)}},
             {"id": "gru", "type": "GRU", "name": "gru",
              "params": {"hidden_size": 6, "num_layers": 2}}]
    edges = [{"source": "x", "target": "gru"},
             {"source": "h", "target": "gru", "target_port": "h0"}]
    for port in outputs:
        nodes.append({"id": f"y_{port}", "type": "Output"})
        edges.append({"source": "gru", "target": f"y_{port}", "source_port": port})
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"format": "netcanvas", "version": 1, "name": "state",
                                "nodes": nodes, "edges": edges, "training": training or {}}))
    return path


def cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, encoding="utf-8", cwd=ROOT,
                          timeout=120)


def test_check_json_keys_the_state_port_and_export_runs_against_torch(tmp_path):
    path = project(tmp_path, (2, 6))
    r = cli("check", path, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert report["valid"] is True
    assert report["shapes"]["gru.h_n"] == ["N", 2, 6]
    assert report["shapes"]["gru.out"] == ["N", 5, 6]
    assert report["shapes"]["y_h_n.out"] == ["N", 2, 6]
    out = tmp_path / "state_model.py"
    r = cli("export", path, "-o", out)
    assert r.returncode == 0, r.stderr
    check = (
        "import torch, state_model\n"
        "m = state_model.State().eval()\n"
        "ref = torch.nn.GRU(4, 6, num_layers=2, batch_first=True).eval()\n"
        "ref.load_state_dict(m.gru.state_dict())\n"
        "x, h = torch.randn(3, 5, 4), torch.randn(3, 2, 6)\n"
        "out, hn = m(x, h)\n"
        "want, want_h = ref(x, h.transpose(0, 1).contiguous())\n"
        "assert torch.equal(out, want) and torch.equal(hn, want_h.transpose(0, 1))\n"
        "print('same')\n")
    r = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert "same" in r.stdout


def test_check_names_the_port_and_both_shapes_of_a_wrong_initial_state(tmp_path):
    r = cli("check", project(tmp_path, (1, 6)), "--json")
    report = json.loads(r.stdout)
    assert report["valid"] is False
    [problem] = [p for p in report["problems"] if p["node"] == "gru"]
    assert problem["port"] == "h0"
    assert problem["code"] == "size_mismatch"
    assert "the initial hidden state h0 must be N×2×6" in problem["message"]
    assert "but receives N×1×6" in problem["message"]


def test_training_a_model_whose_output_is_the_final_state(tmp_path):
    rng = np.random.default_rng(0)
    data = tmp_path / "d.npz"
    np.savez(data, X_x=rng.normal(size=(64, 5, 4)).astype("float32"),
             X_h=rng.normal(size=(64, 2, 6)).astype("float32"),
             y_y_h_n=rng.normal(size=(64, 2, 6)).astype("float32"))
    path = project(tmp_path, (2, 6), outputs=("h_n",),
                   training={"dataset": {"npz": "d.npz"}, "task": "regression", "epochs": 2,
                             "batch_size": 16, "device": "cpu"})
    assert main.main(["train", str(path), "--out", str(tmp_path / "run")]) == 0


class SequenceFirstClassifier(nn.Module):
    """PyTorch's default layout, time first, classifying from the last layer's state."""

    def __init__(self, bidirectional=False):
        super().__init__()
        self.bidirectional = bidirectional
        self.lstm = nn.LSTM(4, 6, num_layers=2, bidirectional=bidirectional)
        self.fc = nn.Linear(12 if bidirectional else 6, 3)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        if self.bidirectional:
            return self.fc(torch.cat((h[-2], h[-1]), dim=1))
        return self.fc(h[-1])


@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_final_state_of_a_sequence_first_layer_imports(bidirectional):
    # x is T×N×4: the sample shape given is N×4 (here N = 5 sequences) and the
    # import's first dimension, the canvas's batch, is the time
    g = state_round_trip(SequenceFirstClassifier(bidirectional), [(5, 4)], set(), set())
    lstm = next(n for n in g.nodes.values() if n.type == "LSTM")
    assert lstm.params["batch_first"] is False
    an = analyze(g)
    assert tuple(an.output_type(lstm.id, "h_n").shape) == (5, 4 if bidirectional else 2, 6)


@pytest.mark.parametrize("kind", ["GRU", "LSTM"])
def test_generated_code_with_state_ports_imports_back_to_the_same_ports(kind):
    outs = ("out", "h_n", "c_n") if kind == "LSTM" else ("out", "h_n")
    g = state_graph(kind, {"num_layers": 2}, (2, 6), outputs=outs)
    model, code = build_model(g, "M")
    shapes = [(5, 4)] + [(2, 6)] * (len(outs) - 1)
    # generated code takes and returns states batch first: no argument is in torch's layout
    again = state_round_trip(model, shapes, set(), set())
    assert edges_of(again) == edges_of(g)
