"""Import polish (issue 12): refusals of an imported network that fails at run
time and of returned values that are no block's tensor, each with the user's
line; the hand-written Gaussian noise layer; frozen blocks inside units."""

import inspect

import pytest
import torch
from torch import nn

from codegen.fx_import import ModelImportError, import_model


# ------------------------------------------------------------ the imported network fails
def test_an_imported_network_that_raises_during_the_check_is_refused_with_the_cause(
        monkeypatch):
    import codegen.compile

    real = codegen.compile.instantiate

    def failing(code):
        model = real(code)

        def boom(module, args):
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (2x4 and 5x3)")

        model.register_forward_pre_hook(boom)
        return model

    monkeypatch.setattr(codegen.compile, "instantiate", failing)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh())
    with pytest.raises(ModelImportError) as info:
        import_model(model, input_shapes=[(4,)])
    msg = str(info.value)
    assert msg.startswith("Sequential: the imported network fails where the original runs: "
                          "RuntimeError: mat1 and mat2 shapes cannot be multiplied")
    assert msg.endswith("not imported")
    assert model.training  # the original's mode is given back after the check


# ------------------------------------------------------------ returned values
class ReturnsWeights(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x):
        out, w = self.attn(x, x, x)
        return out, w


class ReturnsSize(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        n = x.size(0)
        return self.fc(x), n


class ReturnsConstant(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        y = self.fc(x)
        return y, 1


@pytest.mark.parametrize("cls, line", [
    (ReturnsWeights, "out, w = self.attn(x, x, x)"),
    (ReturnsSize, "n = x.size(0)"),
    (ReturnsConstant, "return y, 1"),
])
def test_a_returned_value_that_is_no_blocks_tensor_is_refused_with_its_line(cls, line):
    with pytest.raises(ModelImportError) as info:
        import_model(cls(), input_shapes=[(5, 8)])
    lines = str(info.value).splitlines()
    assert len(lines) == 2, lines
    cause = lines[1].strip()
    assert cause.startswith("test_import_polish.py:"), cause
    where, _, reason = cause.partition("  — ")
    assert where.endswith(line)
    assert reason.startswith("output ") and reason.endswith(" is not a tensor of a block")


# ------------------------------------------------------------ Gaussian noise while training
class NoisyInput(nn.Module):
    """The tutorial's noise injection, written out in forward."""

    def __init__(self, std=0.3):
        super().__init__()
        self.std = std
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        if self.training:
            x = x + self.std * torch.randn_like(x)
        return self.fc(x)


class NoisyMethods(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        h = torch.relu(self.fc(x))
        if self.training:
            noise = torch.randn_like(h).mul(0.05)
            h = noise + h
        return h


class GaussianNoiseLayer(nn.Module):
    """A hand-written noise layer class, as tutorials write it."""

    def __init__(self, sigma=0.2):
        super().__init__()
        self.sigma = sigma

    def forward(self, x):
        if self.training and self.sigma > 0:
            return x + torch.randn_like(x) * self.sigma
        return x


class WithNoiseLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.noise = GaussianNoiseLayer(0.5)
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc2(self.noise(torch.relu(self.fc1(x))))


def _types(g):
    return [n.type for n in g.nodes.values()]


def _noise(g):
    return next(n for n in g.nodes.values() if n.type == "GaussianNoise")


@pytest.mark.parametrize("training", [True, False])
def test_noise_added_only_in_training_is_the_gaussian_noise_block(training):
    model = NoisyInput(0.3).train(training)
    g = import_model(model, input_shapes=[(8,)])
    assert _types(g) == ["Input", "GaussianNoise", "Linear", "Output"]
    assert _noise(g).params == {"std": 0.3}
    assert model.training is training


def test_noise_written_with_methods_in_either_order_is_the_block():
    g = import_model(NoisyMethods(), input_shapes=[(8,)])
    assert _types(g) == ["Input", "Linear", "ReLU", "GaussianNoise", "Output"]
    assert _noise(g).params == {"std": 0.05}


def test_a_noise_layer_class_of_the_users_becomes_the_block_not_a_unit():
    g = import_model(WithNoiseLayer(), input_shapes=[(8,)])
    assert _types(g) == ["Input", "Linear", "ReLU", "GaussianNoise", "Linear", "Output"]
    assert _noise(g).params == {"std": 0.5}
    assert not g.units


class OnlyNoise(nn.Module):
    def __init__(self, std):
        super().__init__()
        self.std = std

    def forward(self, x):
        if self.training:
            x = x + self.std * torch.randn_like(x)
        return x


@pytest.mark.parametrize("std", [0.1, 0.7])
def test_the_imported_noise_matches_the_original_in_training_too(std):
    from codegen import generate
    from codegen.compile import instantiate

    original = OnlyNoise(std)
    imported = instantiate(generate(import_model(original, input_shapes=[(64,)]), "OnlyNoise"))
    x = torch.full((512, 64), 2.0)
    for model in (original, imported):
        model.eval()
        assert torch.equal(model(x), x)  # the identity in evaluation
        model.train()
        torch.manual_seed(3)
        noise = model(x) - x
        # zero mean, the same standard deviation (32,768 draws: within 2 %)
        assert abs(noise.mean().item()) < 0.01 * std * 5
        assert abs(noise.std().item() - std) < 0.02 * std
    torch.manual_seed(5)
    want = original(x)
    torch.manual_seed(5)
    assert torch.equal(imported(x), want)  # the same draw, the same sum


class NoiseAlways(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(x + 0.1 * torch.randn_like(x))


class NoiseLearnedScale(NoisyInput):
    """The noise scaled by a trained tensor, which no block parameter holds."""

    def __init__(self):
        super().__init__()
        self.std = nn.Parameter(torch.tensor(0.1))


class NoiseAndClean(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        y = x
        if self.training:
            y = x + 0.1 * torch.randn_like(x)
        return self.fc(y) + self.fc(x)


@pytest.mark.parametrize("cls, line, reason", [
    (NoiseAlways, "return self.fc(x + 0.1 * torch.randn_like(x))",
     "function randn_like draws random numbers; no block does (if self.training: "
     "x = x + torch.randn_like(x) * std is the GaussianNoise block)"),
    (NoiseLearnedScale, "x = x + self.std * torch.randn_like(x)",
     "forward computes something else in training than in evaluation"),
    (NoiseAndClean, "y = x + 0.1 * torch.randn_like(x)",
     "forward computes something else in training than in evaluation"),
])
def test_noise_no_block_computes_is_refused_naming_the_gaussian_noise_block(cls, line, reason):
    with pytest.raises(ModelImportError) as info:
        import_model(cls(), input_shapes=[(8,)])
    first = str(info.value).splitlines()[1].strip()
    assert first.startswith("test_import_polish.py:") and line in first, first
    assert reason in first and "GaussianNoise" in first, first


# ------------------------------------------------------------ frozen submodules as units
class Body(nn.Module):
    def __init__(self, n=4):
        super().__init__()
        self.fc = nn.Linear(n, n)
        self.norm = nn.LayerNorm(n)

    def forward(self, x):
        return torch.relu(self.norm(self.fc(x))) + x


class Backbone(nn.Module):
    """Two blocks of one class, ``frozen`` of them frozen whole (a pretrained
    backbone block), or only the Linear of the first when ``frozen`` is "fc"."""

    def __init__(self, frozen="b1"):
        super().__init__()
        self.b1 = Body()
        self.b2 = Body()
        self.head = nn.Linear(4, 3)
        if frozen == "fc":
            self.b1.fc.requires_grad_(False)
        else:
            getattr(self, frozen).requires_grad_(False)

    def forward(self, x):
        return self.head(self.b2(self.b1(x)))


def _by_name(g):
    return {n.name: n for n in g.nodes.values()}


@pytest.mark.parametrize("frozen", ["b1", "b2"])
def test_a_wholly_frozen_submodule_is_a_frozen_instance_of_a_shared_unit(frozen):
    g = import_model(Backbone(frozen), input_shapes=[(4,)])
    nodes = _by_name(g)
    assert nodes["b1"].type == nodes["b2"].type == "Body"
    assert {k: nodes[k].frozen for k in ("b1", "b2", "head")} == \
        {"b1": frozen == "b1", "b2": frozen == "b2", "head": False}
    # the unit is the same for both: the frozen flag is the instance's
    assert not any(n.frozen for n in g.units["Body"].graph.nodes.values())


def test_a_submodule_frozen_in_part_gets_its_own_unit_with_its_frozen_layers():
    g = import_model(Backbone("fc"), input_shapes=[(4,)])
    nodes = _by_name(g)
    assert (nodes["b1"].type, nodes["b2"].type) == ("Body", "Body_2")
    assert not nodes["b1"].frozen and not nodes["b2"].frozen
    inner = {n.name: n.frozen for n in g.units["Body"].graph.nodes.values() if n.name}
    assert inner["fc"] and not inner["norm"]
    assert not any(n.frozen for n in g.units["Body_2"].graph.nodes.values())


#: a model file with Body (as above) and a net whose first Body is frozen
MODEL_FILE = "import torch\nfrom torch import nn\n\n\n" + inspect.getsource(Body) + '''

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.b1 = Body()
        self.b2 = Body()
        self.head = nn.Linear(4, 3)
        self.b1.requires_grad_(False)  # a pretrained block, kept as it is

    def forward(self, x):
        return self.head(self.b2(self.b1(x)))
'''


def test_training_an_imported_model_leaves_its_frozen_submodule_unchanged(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    (tmp_path / "model.py").write_text(MODEL_FILE)
    p = subprocess.run([sys.executable, str(root / "main.py"), "import",
                        str(tmp_path / "model.py"), "--class", "Net", "--input-shape", "4",
                        "-o", str(tmp_path / "net.json")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    doc = json.loads((tmp_path / "net.json").read_text())
    assert {n["name"]: n.get("frozen", False) for n in doc["nodes"]
            if n["type"] == "Body"} == {"b1": True, "b2": False}
    # AdamW's weight decay would move a frozen weight it were given, gradient or not
    doc["training"] = {"dataset": {"name": "iris"}, "epochs": 1, "batch_size": 16,
                       "optimizer": {"type": "AdamW", "lr": 0.05, "weight_decay": 0.5}}
    (tmp_path / "net.json").write_text(json.dumps(doc))

    def train(*args):
        run = subprocess.run([sys.executable, str(root / "main.py"), "train",
                              str(tmp_path / "net.json"), *map(str, args)],
                             capture_output=True, text=True, timeout=300,
                             env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
        assert run.returncode == 0, run.stderr

    train("--out", tmp_path / "one")
    train("--out", tmp_path / "two", "--init-weights", tmp_path / "one" / "last.pt")
    before = torch.load(tmp_path / "one" / "last.pt", weights_only=True)["model"]
    after = torch.load(tmp_path / "two" / "last.pt", weights_only=True)["model"]
    frozen = [k for k in before if k.startswith("b1.")]
    assert frozen
    for key in frozen:
        assert torch.equal(before[key], after[key]), key
    assert not torch.equal(before["b2.fc.weight"], after["b2.fc.weight"])
