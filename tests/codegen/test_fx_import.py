"""Importing PyTorch models onto the canvas (torch.fx), round trip included."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from codegen import build_model, generate
from codegen.compile import module_class
from codegen.export import example_inputs, write_model
from codegen.fx_import import ModelImportError, import_model, parse_shape
from graph import analyze
from graph.project import Project, load_project, loads_project, project_to_dict
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


# ----------------------------------------------------------- round trip of every project
ROOT = Path(__file__).resolve().parents[2]
PROJECTS = sorted((ROOT / "resources" / "examples").glob("*.json")) + \
    sorted((ROOT / "resources" / "templates").glob("*.json"))


@pytest.mark.parametrize("path", PROJECTS,
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_generated_code_of_every_example_and_template_imports_back(path, tmp_path):
    project = load_project(path)
    model_file = tmp_path / "model.py"
    code = write_model(project.graph, model_file, project.name)
    back = import_model(model_file)
    an, orig = analyze(back), analyze(project.graph)
    assert an.valid(), [p.message for p in an.errors()]
    assert an.totals()["params"] == orig.totals()["params"]
    outs = lambda a, g: [a.output_type(n.id) for n in g.nodes.values() if n.type == "Output"]
    assert outs(an, back) == outs(orig, project.graph)
    assert [n.type for n in back.nodes.values()].count("GlobalAvgPool") == \
        [n.type for n in project.graph.nodes.values()].count("GlobalAvgPool")
    # the same weights give the same function
    torch.manual_seed(0)
    original = module_class(code)().eval()
    again = module_class(generate(back, project.name))().eval()
    again.load_state_dict(original.state_dict())
    args = example_inputs(project.graph, code)
    with torch.no_grad():
        want, got = original(*args), again(*args)
    for w, g in zip(want if isinstance(want, tuple) else (want,),
                    got if isinstance(got, tuple) else (got,)):
        assert torch.allclose(w, g, atol=1e-6)


def test_global_avg_pool_comes_back_as_global_avg_pool():
    g = chain(("Conv2d", {"out_channels": 4}), "GlobalAvgPool", input_shape=(2, 6, 6))
    back = import_model(module_class(generate(g))())
    assert [n.type for n in back.nodes.values()] == ["Input", "Conv2d", "GlobalAvgPool",
                                                      "Output"]


class Means(nn.Module):
    def forward(self, x):
        return x.mean(dim=(-2, -1)) + x.mean(dim=(3, 2)) + x.mean((1,), keepdim=False).mean(2)


def test_means_over_trailing_dims_and_one_dim_map_to_blocks():
    g = import_model(Means(), input_shapes=[(3, 3, 3)])
    types = [n.type for n in g.nodes.values()]
    assert types.count("GlobalAvgPool") == 2 and types.count("Mean") == 2
    assert analyze(g).valid()
    x = torch.randn(2, 3, 3, 3)
    assert torch.allclose(module_class(generate(g))()(x), Means()(x), atol=1e-6)


class MeanAll(nn.Module):
    def forward(self, x):
        return x.mean() + x.mean(dim=(1, 2))


def test_means_without_a_block_are_named():
    with pytest.raises(ModelImportError) as info:
        import_model(MeanAll(), input_shapes=[(4, 3, 3)])
    assert "function mean over all dimensions (the batch too)" in str(info.value)
    assert "function mean over dims (1, 2)" in str(info.value)


# ------------------------------------------------------------------------ the CLI
def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def test_import_cli_turns_exported_code_into_an_equivalent_project(tmp_path):
    src = ROOT / "resources" / "examples" / "multi_io.json"
    model = tmp_path / "multi.py"
    assert _cli("export", src, "-o", model).returncode == 0
    r = _cli("import", model, "-o", tmp_path / "back.json")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"wrote {tmp_path / 'back.json'} (") and r.stderr == ""
    back, orig = load_project(tmp_path / "back.json"), load_project(src)
    assert back.name == generate(orig.graph, orig.name).class_name
    assert analyze(back.graph).totals()["params"] == analyze(orig.graph).totals()["params"]
    check = _cli("check", tmp_path / "back.json")
    assert check.returncode == 0, check.stdout


def test_import_cli_writes_model_json_by_default_and_never_over_an_existing_file(tmp_path):
    model = tmp_path / "net.py"
    assert _cli("export", ROOT / "resources" / "examples" / "mlp_iris.json", "-o",
                model).returncode == 0
    assert _cli("import", model).returncode == 0
    assert load_project(tmp_path / "net.json").graph.nodes
    r = _cli("import", model)
    assert r.returncode == 1
    assert f"error: '{tmp_path / 'net.json'}' already exists; choose the project file with -o" \
        in r.stderr


USER_FILE = '''
import torch
from torch import nn


class Helper(nn.Module):
    def forward(self, x):
        return x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.head = nn.Linear(4 * 8 * 8, 10)

    def forward(self, x):
        return self.head(torch.flatten(torch.relu(self.conv(x)), 1))


class Upsampler(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2)

    def forward(self, x):
        return torch.fft.fft(self.up(x)).real
'''


def test_import_cli_of_a_user_model_with_class_and_input_shape(tmp_path):
    model = tmp_path / "user.py"
    model.write_text(USER_FILE)
    out = tmp_path / "user.json"
    r = _cli("import", model, "--class", "Net", "--input-shape", "1,8,8", "-o", out)
    assert r.returncode == 0, r.stderr
    project = load_project(out)
    assert project.name == "Net"
    assert analyze(project.graph).totals()["params"] == 4 * 9 + 4 + 256 * 10 + 10


def test_import_cli_names_unsupported_modules_and_functions(tmp_path):
    model = tmp_path / "user.py"
    model.write_text(USER_FILE)
    r = _cli("import", model, "--class", "Upsampler", "--input-shape", "1x4x4", "-o",
             tmp_path / "u.json")
    assert r.returncode == 1
    # the first cause first, with the line of the user's code that makes it
    assert r.stderr.startswith(
        f"error: cannot import '{model}': Upsampler cannot be imported exactly (3 unsupported "
        "operations, the first cause first):\n  user.py:27  return torch.fft.fft(self.up(x))"
        ".real  — module up (Upsample) has no block\n")
    assert "function fft" in r.stderr and "attribute .real" in r.stderr
    assert not (tmp_path / "u.json").exists()


@pytest.mark.parametrize("args,text", [
    ([], "user.py: name the model class to import (found: Helper, Net, Upsampler)"),
    (["--class", "Nope"], "user.py defines no nn.Module class 'Nope'"),
    (["--class", "Net"], "give input_shapes: one sample shape per forward() argument"),
    (["--class", "Net", "--input-shape", "1,,8"], "--input-shape '1,,8': write sizes"),
])
def test_import_cli_says_what_is_missing(tmp_path, args, text):
    model = tmp_path / "user.py"
    model.write_text(USER_FILE)
    r = _cli("import", model, *args, "-o", tmp_path / "u.json")
    assert r.returncode == 1
    assert text in r.stderr, r.stderr


def test_import_cli_of_a_missing_file_exits_2(tmp_path):
    r = _cli("import", tmp_path / "nope.py")
    assert r.returncode == 2
    assert r.stderr == f"error: cannot import '{tmp_path / 'nope.py'}': no such file\n"


@pytest.mark.parametrize("name, attribute", [
    ("code", "code"), ("graph", "graph"),  # fx's GraphModule has these; nn.Module does not
    ("forward", "forward_"), ("buffers", "buffers_"), ("training", "training_"),
])
def test_layers_named_like_module_attributes_round_trip(name, attribute):
    g = chain(("Linear", {"out_features": 3}), input_shape=(4,))
    # the editor refuses "forward" as a name; a file written by hand may hold it
    doc = project_to_dict(Project("p", g))
    doc["nodes"][1]["name"] = name
    g = loads_project(json.dumps(doc)).graph
    code = generate(g)
    assert f"self.{attribute} = nn.Linear(4, 3)" in code.source
    back = import_model(module_class(code)())
    assert [(n.type, n.name) for n in back.nodes.values()] == [
        ("Input", "x_1"), ("Linear", attribute), ("Output", "output_1")]
    assert generate(back).source == code.source  # and the import writes the same code


@pytest.mark.parametrize("text, shape", [
    ("1,8,8", [1, 8, 8]), ("1x8x8", [1, 8, 8]), ("1 × 28 × 28", [1, 28, 28]),
    ("T,16", ["T", 16]), ("max_len, 64", ["max_len", 64]), ("x,4", ["x", 4]),
])
def test_input_shapes_are_read_as_written(text, shape):
    assert parse_shape(text) == shape


@pytest.mark.parametrize("text, words", [
    ("1,,8", "write sizes separated by commas"),
    ("1,8-2", "'8-2' is neither a size nor a name such as T"),
])
def test_a_bad_input_shape_says_what_is_expected(text, words):
    with pytest.raises(ValueError) as err:
        parse_shape(text)
    assert words in str(err.value)
