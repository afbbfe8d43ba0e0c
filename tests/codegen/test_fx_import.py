"""Importing PyTorch models onto the canvas (torch.fx), round trip included."""

import pytest
import torch
from torch import nn

from codegen import build_model, generate
from codegen.compile import module_class
from codegen.export import write_model
from codegen.fx_import import ModelImportError, import_model
from support import chain


class UserNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        x = self.head(x)
        return torch.relu(x) + x


def test_user_model_maps_modules_and_functions_to_blocks():
    g = import_model(UserNet(), input_shapes=[(1, 8, 8)])
    types = [n.type for n in g.nodes.values()]
    assert types.count("Linear") == 1 and {"Add", "Flatten", "ReLU", "MaxPool2d"} <= set(types)
    conv = next(n for n in g.nodes.values() if n.type == "Conv2d")
    assert conv.params == {"out_channels": 8, "padding": 1}  # kernel_size 3 is the default
    assert conv.name == "features_0"
    assert all(n.pos is not None for n in g.nodes.values())
    model = module_class(generate(g))()
    assert sum(p.numel() for p in model.parameters()) == 8 * 9 + 8 + 128 * 10 + 10


class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2)
        self.fold = nn.PixelShuffle(1)

    def forward(self, x):
        return torch.fft.fft(self.fold(self.up(x))).real


def test_unsupported_modules_and_functions_are_all_named():
    with pytest.raises(ModelImportError) as info:
        import_model(Unsupported(), input_shapes=[(1, 4, 4)])
    msg = str(info.value)
    assert "Upsample" in msg and "PixelShuffle" in msg and "fft" in msg and "real" in msg
    assert isinstance(info.value, ImportError)


def test_input_shapes_are_required_for_a_foreign_model():
    with pytest.raises(ModelImportError, match="input_shapes"):
        import_model(UserNet())


def test_generated_file_round_trips_from_its_path(tmp_path):
    g = chain(("Linear", {"out_features": 6}), "Tanh", ("Dropout", {"p": 0.3}),
              ("Linear", {"out_features": 2, "bias": False}), input_shape=(5,))
    path = tmp_path / "net.py"
    code = write_model(g, path, "Round trip")
    back = import_model(path)
    assert [(n.type, n.params) for n in back.nodes.values()] == \
        [(n.type, n.params) for n in g.nodes.values()]
    torch.manual_seed(1)
    original, _ = build_model(g, "Round trip")
    again = module_class(generate(back, "Round trip"))()
    again.load_state_dict(original.state_dict())
    original.eval(), again.eval()
    x = torch.randn(3, 5)
    assert torch.equal(original(x), again(x))
    assert code.class_name == "RoundTrip"


def test_a_file_that_fails_to_run_is_reported(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(ModelImportError, match="running broken.py failed: RuntimeError: boom"):
        import_model(path, input_shapes=[(1,)])
