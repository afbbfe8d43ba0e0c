"""The built-in unit library: every unit at two sizes gives torch's shapes
(inside the instance too) and the parameter count of the same block written
by hand in PyTorch; copying a library unit into a project never merges it
with a different definition of the same name."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from codegen import build_model
from graph.analysis import analyze
from graph.graph import Graph
from graph.problems import GraphEditError
from graph.project import dumps_project, loads_project, Project
from graph.unit_library import (add_library_unit, library_definition, library_doc,
                                library_names, library_unit, plan_library_unit)
from support import run_and_compare


# ------------------------------------------------------------------ hand-written references
def bn_conv(cin, cout, k, stride=1, groups=1):
    return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout)]


class Basic(nn.Module):
    def __init__(self, cin, channels, stride=1, down=False):
        super().__init__()
        self.body = nn.Sequential(*bn_conv(cin, channels, 3, stride), nn.ReLU(),
                                  *bn_conv(channels, channels, 3))
        self.short = nn.Sequential(*bn_conv(cin, channels, 1, stride)) if down else nn.Identity()

    def forward(self, x):
        return torch.relu(self.body(x) + self.short(x))


class Bottle(nn.Module):
    def __init__(self, cin, width, channels, stride=1, down=False):
        super().__init__()
        self.body = nn.Sequential(*bn_conv(cin, width, 1), nn.ReLU(),
                                  *bn_conv(width, width, 3, stride), nn.ReLU(),
                                  *bn_conv(width, channels, 1))
        self.short = nn.Sequential(*bn_conv(cin, channels, 1, stride)) if down else nn.Identity()

    def forward(self, x):
        return torch.relu(self.body(x) + self.short(x))


class Inverted(nn.Module):
    def __init__(self, cin, hidden, channels, stride=1, residual=True):
        super().__init__()
        self.residual = residual
        self.body = nn.Sequential(*bn_conv(cin, hidden, 1), nn.ReLU6(),
                                  *bn_conv(hidden, hidden, 3, stride, groups=hidden), nn.ReLU6(),
                                  *bn_conv(hidden, channels, 1))

    def forward(self, x):
        return self.body(x) + x if self.residual else self.body(x)


def vgg(cin, channels):
    return nn.Sequential(nn.Conv2d(cin, channels, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))


class SE(nn.Module):
    def __init__(self, cin, channels, reduced):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(cin, reduced), nn.ReLU(), nn.Linear(reduced, channels),
                                nn.Sigmoid())

    def forward(self, x):
        return x * self.fc(x.mean(dim=(2, 3)))[:, :, None, None]


class Inception(nn.Module):
    def __init__(self, cin, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()

        def cr(i, o, k):
            return [nn.Conv2d(i, o, k, padding=k // 2), nn.ReLU()]

        self.b = nn.ModuleList([
            nn.Sequential(*cr(cin, ch1x1, 1)),
            nn.Sequential(*cr(cin, ch3x3red, 1), *cr(ch3x3red, ch3x3, 3)),
            nn.Sequential(*cr(cin, ch5x5red, 1), *cr(ch5x5red, ch5x5, 5)),
            nn.Sequential(nn.MaxPool2d(3, 1, 1), *cr(cin, pool_proj, 1))])

    def forward(self, x):
        return torch.cat([b(x) for b in self.b], dim=1)


class PreNorm(nn.Module):
    def __init__(self, dim, heads, hidden, causal):
        super().__init__()
        self.causal = causal
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x):
        h = self.ln1(x)
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1]) if self.causal else None
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


#: unit → two sizes: (input sample shape, instance params, the hand-written block)
CASES = {
    "BasicBlock": [([8, 6, 6], {"channels": 8}, lambda: Basic(8, 8)),
                   ([16, 5, 7], {"channels": 16}, lambda: Basic(16, 16))],
    "BasicBlockDown": [([8, 6, 6], {"channels": 16, "stride": 2},
                        lambda: Basic(8, 16, 2, down=True)),
                       ([4, 7, 5], {"channels": 4, "stride": 1},
                        lambda: Basic(4, 4, 1, down=True))],
    "Bottleneck": [([16, 6, 6], {"width": 4, "channels": 16}, lambda: Bottle(16, 4, 16)),
                   ([32, 5, 5], {"width": 8, "channels": 32}, lambda: Bottle(32, 8, 32))],
    "BottleneckDown": [([8, 8, 8], {"width": 4, "channels": 16, "stride": 2},
                        lambda: Bottle(8, 4, 16, 2, down=True)),
                       ([16, 7, 7], {"width": 8, "channels": 32, "stride": 1},
                        lambda: Bottle(16, 8, 32, 1, down=True))],
    "VGGBlock": [([3, 8, 8], {"channels": 8}, lambda: vgg(3, 8)),
                 ([8, 7, 9], {"channels": 16}, lambda: vgg(8, 16))],
    "InvertedResidual": [([8, 6, 6], {"hidden": 48, "channels": 8}, lambda: Inverted(8, 48, 8)),
                         ([16, 5, 5], {"hidden": 32, "channels": 16},
                          lambda: Inverted(16, 32, 16))],
    "InvertedResidualDown": [([8, 8, 8], {"hidden": 48, "channels": 12, "stride": 2},
                              lambda: Inverted(8, 48, 12, 2, residual=False)),
                             ([4, 7, 7], {"hidden": 24, "channels": 8, "stride": 1},
                              lambda: Inverted(4, 24, 8, 1, residual=False))],
    "SqueezeExcite": [([16, 6, 6], {"channels": 16, "reduced": 4}, lambda: SE(16, 16, 4)),
                      ([32, 3, 5], {"channels": 32, "reduced": 8}, lambda: SE(32, 32, 8))],
    "InceptionModule": [
        ([8, 6, 6], dict(ch1x1=4, ch3x3red=4, ch3x3=8, ch5x5red=2, ch5x5=4, pool_proj=4),
         lambda: Inception(8, 4, 4, 8, 2, 4, 4)),
        ([16, 7, 5], dict(ch1x1=8, ch3x3red=6, ch3x3=12, ch5x5red=4, ch5x5=6, pool_proj=2),
         lambda: Inception(16, 8, 6, 12, 4, 6, 2))],
    "TransformerBlock": [([5, 16], {"dim": 16, "heads": 2, "hidden": 32},
                          lambda: PreNorm(16, 2, 32, False)),
                         (["T", 24], {"dim": 24, "heads": 4, "hidden": 48},
                          lambda: PreNorm(24, 4, 48, False))],
    "GPTBlock": [([5, 16], {"dim": 16, "heads": 2, "hidden": 32}, lambda: PreNorm(16, 2, 32, True)),
                 (["T", 24], {"dim": 24, "heads": 4, "hidden": 48},
                  lambda: PreNorm(24, 4, 48, True))],
}

ROWS = [(name, k) for name in CASES for k in range(2)]


def instance_graph(name: str, shape, params, repeat: int = 1) -> Graph:
    """Input → one instance of library unit ``name`` → Output."""
    g = Graph()
    unit = add_library_unit(g, name)
    g.add_node("Input", {"shape": list(shape)}, id="x", name="x")
    g.add_node(unit, dict(params), id="u", name="block")
    g.add_node("Output", id="y", name="y")
    g.connect("x", "u")
    g.connect("u", "y")
    if repeat != 1:
        g.set_repeat("u", repeat)
    return g


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_every_library_unit_is_tested_and_described():
    assert list(CASES) == library_names()
    for name in library_names():
        assert len(library_doc(name)) > 30
        assert library_unit(name).name == name


@pytest.mark.parametrize("name,k", ROWS)
def test_library_unit_shapes_inside_and_out_match_torch(name, k):
    shape, params, _ = CASES[name][k]
    g = instance_graph(name, shape, params)
    env = {"T": 7}
    built = run_and_compare(g, env=env)  # output shape and parameter count vs torch
    model, an = built["model"], built["analyzer"]
    inner = an.result("u").inner
    unit_graph = g.units[name].graph
    seen: dict[str, tuple] = {}

    def hook(nid):
        def record(_module, _inputs, out):
            seen[nid] = tuple((out[0] if isinstance(out, tuple) else out).shape)
        return record

    hooks = [getattr(model.block, node.name).register_forward_hook(hook(nid))
             for nid, node in unit_graph.nodes.items() if hasattr(model.block, node.name)]
    x = torch.randn(2, *[env.get(d, d) for d in shape])
    with torch.no_grad():
        model.eval()(x)
    for h in hooks:
        h.remove()
    assert len(seen) >= 2, seen  # the layers inside were reached
    for nid, got in seen.items():
        want = inner[nid].outs["out"].shape
        assert got == (2,) + tuple(env.get(d, d) for d in want[1:]), (nid, got, want)


@pytest.mark.parametrize("name,k", ROWS)
def test_library_unit_parameter_count_equals_the_hand_written_block(name, k):
    shape, params, make = CASES[name][k]
    ref = make().eval()
    an = analyze(instance_graph(name, shape, params))
    assert not an.errors(), [p.message for p in an.errors()]
    assert an.result("u").n_params == n_params(ref)
    x = torch.randn(2, *[7 if d == "T" else d for d in shape])
    with torch.no_grad():
        want = ref(x).shape[1:]
    got = an.output_type("u", "y").shape[1:]
    assert tuple(7 if d == "T" else d for d in got) == tuple(want)


#: the unit's layer names → the hand-written blocks' module paths
RENAME = {"conv1": "body.0", "bn1": "body.1", "conv2": "body.3", "bn2": "body.4",
          "conv3": "body.6", "bn3": "body.7", "shortcut_conv": "short.0", "shortcut_bn": "short.1",
          "fc1": "fc.0", "fc2": "fc.2", "mlp_up": "mlp.0", "mlp_down": "mlp.2"}


@pytest.mark.parametrize("name", ["BasicBlock", "BasicBlockDown", "Bottleneck", "BottleneckDown",
                                  "SqueezeExcite", "TransformerBlock", "GPTBlock"])
def test_library_unit_computes_what_the_hand_written_block_computes(name):
    """Same weights in, same numbers out: the library unit is the block it names."""
    shape, params, make = CASES[name][0]
    model, _ = build_model(instance_graph(name, shape, params), "Lib")
    model.eval()
    torch.manual_seed(0)
    with torch.no_grad():
        for t in model.parameters():
            t.copy_(torch.randn_like(t) * 0.3)
    ref = make().eval()
    mine = {}
    for key, value in model.block.state_dict().items():
        layer, rest = key.split(".", 1)
        mine[f"{RENAME.get(layer, layer)}.{rest}"] = value
    ref.load_state_dict(mine)  # strict: every tensor has its counterpart
    x = torch.randn(2, *shape)
    with torch.no_grad():
        torch.testing.assert_close(model.block(x), ref(x), rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ copying into a project
def test_copy_into_a_project_is_a_copy_and_reused_when_identical():
    g = Graph()
    assert add_library_unit(g, "BasicBlock") == "BasicBlock"
    assert add_library_unit(g, "BasicBlock") == "BasicBlock"  # the same definition: reused
    assert list(g.units) == ["BasicBlock"]
    # an edit in the project never reaches the library
    g.units["BasicBlock"].graph.set_param("c1", "kernel_size", 5)
    assert library_unit("BasicBlock").graph.nodes["c1"].params["kernel_size"] == 3
    assert library_definition("BasicBlock")["nodes"][1]["params"]["kernel_size"] == 3


def test_a_clash_with_a_different_definition_is_renamed_never_merged():
    g = Graph()
    add_library_unit(g, "BasicBlock")
    g.units["BasicBlock"].graph.set_param("c1", "kernel_size", 5)
    g.units["BasicBlock"].graph.set_param("c1", "padding", 2)
    assert add_library_unit(g, "BasicBlock") == "BasicBlock_2"
    assert g.units["BasicBlock"].graph.nodes["c1"].params["kernel_size"] == 5  # untouched
    assert g.units["BasicBlock_2"].graph.nodes["c1"].params["kernel_size"] == 3
    assert add_library_unit(g, "BasicBlock") == "BasicBlock_2"  # now identical: reused
    # both serve instances, saved and reopened as two units
    g.add_node("Input", {"shape": [4, 6, 6]}, id="x")
    g.add_node("BasicBlock", {"channels": 4}, id="a")
    g.add_node("BasicBlock_2", {"channels": 4}, id="b")
    g.add_node("Output", id="y")
    for s, t in [("x", "a"), ("a", "b"), ("b", "y")]:
        g.connect(s, t)
    an = analyze(g)
    assert not an.errors(), [p.message for p in an.errors()]
    assert an.result("a").n_params != an.result("b").n_params
    again = loads_project(dumps_project(Project("p", g))).graph
    assert set(again.units) == {"BasicBlock", "BasicBlock_2"}


def test_plan_then_define_and_remove_is_one_undoable_step():
    g = Graph()
    name, unit = plan_library_unit(g, "GPTBlock")
    assert name == "GPTBlock" and unit is not None and not g.units
    g.define_unit(unit)
    assert plan_library_unit(g, "GPTBlock") == ("GPTBlock", None)
    g.remove_unit(name)  # the undo
    assert not g.units


def test_an_unknown_library_unit_is_refused_with_the_list():
    with pytest.raises(GraphEditError, match="no unit 'ResBlock' in the library.*BasicBlock"):
        add_library_unit(Graph(), "ResBlock")


def test_repeated_library_instances_chain():
    g = instance_graph("BasicBlock", [8, 6, 6], {"channels": 8}, repeat=3)
    built = run_and_compare(g)
    assert "block.2.conv1.weight" in built["model"].state_dict()
    assert built["analyzer"].result("u").n_params == 3 * n_params(Basic(8, 8))


@pytest.mark.parametrize("template,units", [("resnet18_digits", ["BasicBlock", "BasicBlockDown"]),
                                            ("gpt_next_token", ["GPTBlock"])])
def test_the_unit_templates_use_the_library_definitions(template, units):
    """Dropping the library's block into these templates reuses their unit."""
    from pathlib import Path

    from graph.project import load_project

    path = Path(__file__).resolve().parents[2] / "resources" / "templates" / f"{template}.json"
    g = load_project(path).graph
    assert sorted(g.units) == sorted(units)
    for name in units:
        assert g.instances(name)
        assert add_library_unit(g, name) == name
    assert sorted(g.units) == sorted(units)
