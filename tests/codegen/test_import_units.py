"""Submodules of a user's class come in as units (codegen/import_units.py)."""

import torch
import torch.nn.functional as F
from torch import nn

from codegen import generate
from codegen.compile import module_class
from codegen.fx_import import import_model
from graph.project import Project, dumps_project, loads_project


class Block(nn.Module):
    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.conv(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = Block(3, 4)
        self.down = Block(4, 8, stride=2)
        self.stage = nn.Sequential(Residual(8), Residual(8), Residual(8))
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        x = self.stage(self.down(self.stem(x)))
        return self.head(x.mean(dim=(2, 3)))


def same_function(model, g, shape):
    again = module_class(generate(g, type(model).__name__))()
    again.load_state_dict(model.state_dict())  # strict: the original's keys
    model.eval(), again.eval()
    x = torch.randn(2, *shape)
    with torch.no_grad():
        assert torch.allclose(again(x), model(x), rtol=1e-5, atol=1e-6)
    return again


def test_instances_of_a_class_share_one_unit_whose_differences_are_parameters():
    model = Net()
    g = import_model(model, input_shapes=[(3, 8, 8)])
    assert sorted(g.units) == ["Block", "Residual"]
    block = g.units["Block"]
    assert block.params == {"out_channels": 4, "stride": 1}
    conv = next(n for n in block.graph.nodes.values() if n.type == "Conv2d")
    assert conv.params["out_channels"] == "$out_channels" and conv.params["stride"] == "$stride"
    nodes = {n.name: n for n in g.nodes.values()}
    assert (nodes["stem"].type, nodes["stem"].params) == ("Block", {})
    assert (nodes["down"].type, nodes["down"].params) == ("Block", {"out_channels": 8,
                                                                    "stride": 2})
    same_function(model, g, (3, 8, 8))


def test_a_sequential_of_identical_instances_is_one_repeated_instance():
    model = Net()
    g = import_model(model, input_shapes=[(3, 8, 8)])
    stage = next(n for n in g.nodes.values() if n.name == "stage")
    assert (stage.type, stage.repeat) == ("Residual", 3)
    assert [n.type for n in g.nodes.values()] == ["Input", "Block", "Block", "Residual",
                                                  "GlobalAvgPool", "Linear", "Output"]
    again = same_function(model, g, (3, 8, 8))
    assert "stage.2.conv.weight" in again.state_dict()


class Gate(nn.Module):
    def __init__(self, n, with_norm):
        super().__init__()
        self.fc = nn.Linear(n, n)
        self.norm = nn.LayerNorm(n) if with_norm else nn.Identity()

    def forward(self, x):
        return torch.sigmoid(self.norm(self.fc(x))) * x


class Linear(nn.Module):
    """A user class named like a catalogue block: a unit, never the block."""

    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(4, 4)

    def forward(self, x):
        return self.inner(x) * 2.0


class Gates(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = Gate(4, True)
        self.b = Gate(4, False)
        self.c = Linear()

    def forward(self, x):
        return self.c(self.b(self.a(x)))


def test_instances_of_different_structure_get_separate_units():
    model = Gates()
    g = import_model(model, input_shapes=[(4,)])
    types = {n.name: n.type for n in g.nodes.values()}
    assert (types["a"], types["b"]) == ("Gate", "Gate_2")
    assert types["c"] == "LinearUnit"
    same_function(model, g, (4,))


class Twice(nn.Module):
    def __init__(self):
        super().__init__()
        self.shared = Residual(4)

    def forward(self, x):
        return self.shared(self.shared(x))  # one set of weights used twice: no unit


class TupleOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        y = self.fc(x)
        return y, y.relu()


class UsesTuple(nn.Module):
    def __init__(self):
        super().__init__()
        self.pair = TupleOut()

    def forward(self, x):
        a, b = self.pair(x)
        return a + b


def test_a_submodule_that_cannot_be_a_unit_is_stepped_into():
    g = import_model(Twice(), input_shapes=[(4, 5, 5)])
    assert not g.units and [n.type for n in g.nodes.values()].count("Conv2d") == 2
    g = import_model(UsesTuple(), input_shapes=[(4,)])
    assert not g.units
    assert [n.name for n in g.nodes.values() if n.type == "Linear"] == ["pair_fc"]


def test_an_imported_project_with_units_saves_and_opens_the_same():
    model = Net()
    g = import_model(model, input_shapes=[(3, 8, 8)])
    text = dumps_project(Project(name="Net", graph=g))
    back = loads_project(text)
    assert generate(back.graph, "Net").source == generate(g, "Net").source
    same_function(model, back.graph, (3, 8, 8))


class Expand(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(x).unsqueeze(-1).squeeze(-1) + x


class SequenceNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(Expand(), Expand())

    def forward(self, x):
        return self.blocks(x).mean(dim=1)


def test_a_unit_on_a_variable_length_sequence_keeps_the_length_variable():
    model = SequenceNet().eval()
    g = import_model(model, input_shapes=[("T", 8)])
    (reshape,) = [n for n in g.units["Expand"].graph.nodes.values()
                  if n.type == "Reshape" and len(n.params["shape"]) == 3]
    assert reshape.params["shape"] == [-1, 8, 1]  # T is worked out, never a fixed 13
    again = module_class(generate(g, "SequenceNet"))()
    again.load_state_dict(model.state_dict())
    again.eval()
    for steps in (3, 7):
        x = torch.randn(2, steps, 8)
        with torch.no_grad():
            assert torch.allclose(again(x), model(x), rtol=1e-5, atol=1e-6)
