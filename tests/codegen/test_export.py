"""The export command and exports, through the CLI (subprocess) and the export API."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from codegen import build_model
from codegen.export import (ONNX_MISSING, ExportError, export_onnx, load_into,
                            load_weights, save_weights)
from graph.project import load_project

ROOT = Path(__file__).resolve().parents[2]

PROJECT = {
    "format": "netcanvas", "version": 1, "name": "MLP on \"iris\"\n# __import__('os')",
    "nodes": [
        {"id": "x", "type": "Input", "name": "features", "params": {"shape": [4]}},
        {"id": "h", "type": "Linear", "name": "hidden", "params": {"out_features": 16}},
        {"id": "a", "type": "ReLU", "params": {}},
        {"id": "o", "type": "Linear", "name": "classifier", "params": {"out_features": 3}},
        {"id": "y", "type": "Output", "params": {}},
    ],
    "edges": [{"source": "x", "target": "h"}, {"source": "h", "target": "a"},
              {"source": "a", "target": "o"}, {"source": "o", "target": "y"}],
    "training": {"dataset": {"name": "iris", "val_fraction": 0.2}, "epochs": 1,
                 "batch_size": 32, "optimizer": {"type": "SGD", "lr": 0.1, "momentum": 0.9},
                 "scheduler": {"type": "StepLR", "step_size": 1}},
}


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture
def project_file(tmp_path):
    p = tmp_path / "mlp.json"
    p.write_text(json.dumps(PROJECT))
    return p


def test_export_writes_a_torch_only_file_with_the_project_class(project_file, tmp_path):
    out = tmp_path / "model.py"
    r = _cli("export", project_file, "-o", out)
    assert r.returncode == 0, r.stderr
    tree = ast.parse(out.read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"torch", "math"}
    check = ("import model, torch; m = model.MlpOnIrisImportOs(); "
             "assert model.__all__ == ['MlpOnIrisImportOs']; print(m(torch.zeros(2, 4)).shape)")
    r = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "torch.Size([2, 3])" in r.stdout


def test_exported_file_gives_bit_identical_outputs_in_a_clean_process(project_file, tmp_path):
    project = load_project(project_file)
    model, code = build_model(project.graph, project.name)
    out = tmp_path / "model.py"
    assert _cli("export", project_file, "-o", out).returncode == 0
    assert out.read_text() == code.source
    torch.save(model.state_dict(), tmp_path / "w.pt")
    x = torch.randn(5, 4)
    torch.save(x, tmp_path / "x.pt")
    script = (f"import torch, model; m = model.{code.class_name}(); "
              "m.load_state_dict(torch.load('w.pt')); m.eval(); "
              "torch.save(m(torch.load('x.pt')), 'y.pt')")
    r = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x), torch.load(tmp_path / "y.pt"))
    assert sum(p.numel() for p in model.parameters()) == 4 * 16 + 16 + 16 * 3 + 3


def test_training_script_trains_one_epoch_without_netcanvas(project_file, tmp_path):
    out = tmp_path / "export" / "net.py"
    out.parent.mkdir()
    r = _cli("export", project_file, "-o", out, "--training-script")
    assert r.returncode == 0, r.stderr
    script = out.parent / "net_train.py"
    tree = ast.parse(script.read_text())
    top = {a.name.split(".")[0] for n in tree.body if isinstance(n, ast.Import) for a in n.names}
    top |= {n.module.split(".")[0] for n in tree.body if isinstance(n, ast.ImportFrom)}
    assert top - sys.stdlib_module_names == {"numpy", "torch"}  # sklearn only when needed
    every = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
             for a in n.names} | {n.module.split(".")[0] for n in ast.walk(tree)
                                  if isinstance(n, ast.ImportFrom)}
    assert not every & {"graph", "codegen", "runtime", "gui", "netcanvas"}
    # run from an unrelated folder, with NetCanvas off the path
    r = subprocess.run([sys.executable, "-I", str(script), "--epochs", "1", "--out", "runs",
                        "--device", "cpu", "--lr", "0.05"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    metrics = json.loads(r.stdout.strip().splitlines()[-1])
    assert metrics["epochs"] == 1 and 0 <= metrics["val_accuracy"] <= 1
    assert {p.name for p in (tmp_path / "runs").iterdir()} >= {"best.pt", "last.pt", "metrics.csv"}


def test_export_with_weights_writes_a_loadable_state_dict(project_file, tmp_path):
    project = load_project(project_file)
    model, _ = build_model(project.graph, project.name)
    ckpt = tmp_path / "ckpt.pt"
    torch.save({"model": model.state_dict(), "epoch": 3}, ckpt)
    out = tmp_path / "model.py"
    r = _cli("export", project_file, "-o", out, "--weights", ckpt)
    assert r.returncode == 0, r.stderr
    written = next(p for p in tmp_path.iterdir() if p.stem == "model" and p.suffix != ".py")
    state = load_weights(written)
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


def test_export_refuses_weights_of_another_network(project_file, tmp_path):
    torch.save({"other.weight": torch.zeros(2)}, tmp_path / "bad.pt")
    r = _cli("export", project_file, "-o", tmp_path / "m.py", "--weights", tmp_path / "bad.pt")
    assert r.returncode == 1
    assert "do not fit this network" in r.stderr


def test_export_of_an_unreadable_project_says_why(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = _cli("export", bad, "-o", tmp_path / "m.py")
    assert r.returncode == 2
    assert "cannot open" in r.stderr and not (tmp_path / "m.py").exists()


def test_export_of_an_invalid_network_names_the_problem(tmp_path):
    doc = dict(PROJECT, edges=PROJECT["edges"][1:])
    p = tmp_path / "p.json"
    p.write_text(json.dumps(doc))
    r = _cli("export", p, "-o", tmp_path / "m.py")
    assert r.returncode == 1
    assert "error" in r.stderr and "hidden" in r.stderr


def test_safetensors_round_trip(tmp_path):
    pytest.importorskip("safetensors")
    project = load_project(_write(tmp_path))
    model, _ = build_model(project.graph, project.name)
    path = save_weights(model, tmp_path / "w.safetensors")
    state = load_weights(path)
    assert state.keys() == model.state_dict().keys()
    for k, v in model.state_dict().items():
        assert state[k].dtype == v.dtype and torch.equal(state[k], v), k
    load_into(model, state, str(path))  # and they load back into the network


def test_weights_file_that_is_not_weights_is_refused(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ExportError, match="cannot read weights"):
        load_weights(tmp_path / "junk.pt")


def test_onnx_without_the_extra_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    project = load_project(_write(tmp_path))
    model, code = build_model(project.graph, project.name)
    with pytest.raises(ExportError) as info:
        export_onnx(model, project.graph, code, tmp_path / "m.onnx")
    assert str(info.value) == ONNX_MISSING and "pip install 'netcanvas[onnx]'" in ONNX_MISSING


@pytest.mark.parametrize("template", ["lenet_digits", "resnet_digits", "gpt_next_token"])
def test_onnx_export_runs_in_onnxruntime_like_the_model(template, tmp_path):
    # the onnx extra is part of [dev]; where its wheels are missing, the skip
    # reason shows in the test summary (-ra)
    pytest.importorskip("onnx", reason="the onnx extra is not installed: ONNX export untested")
    ort = pytest.importorskip("onnxruntime",
                              reason="onnxruntime is not installed: ONNX export untested")
    from codegen.export import example_inputs

    source = ROOT / "resources" / "templates" / f"{template}.json"
    project = load_project(source)
    model, code = build_model(project.graph, project.name)
    torch.save({"model": model.state_dict()}, tmp_path / "ckpt.pt")
    onnx_file = tmp_path / "m.onnx"
    r = _cli("export", source, "-o", tmp_path / "m.py", "--weights", tmp_path / "ckpt.pt",
             "--onnx", onnx_file)
    assert r.returncode == 0, r.stderr
    assert f"wrote {onnx_file}" in r.stdout
    torch.manual_seed(0)
    args = example_inputs(project.graph, code)
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == code.arg_names
    got = session.run(None, {name: a.numpy() for name, a in zip(code.arg_names, args)})
    model.eval()
    with torch.no_grad():
        want = model(*args)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == tuple(w.shape)
        assert torch.allclose(torch.from_numpy(g), w, rtol=0, atol=1e-5)


def _write(tmp_path):
    p = tmp_path / "p.json"
    p.write_text(json.dumps(PROJECT))
    return p


# ------------------------------------------------------------------ files on disk
def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_exported_files_get_the_mode_a_new_file_gets(project_file, tmp_path, umask):
    project = load_project(project_file)
    model, _ = build_model(project.graph, project.name)
    torch.save({"model": model.state_dict()}, tmp_path / "ckpt.pt")
    out = tmp_path / "model.py"
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "export", str(project_file),
                        "-o", str(out), "--training-script", "--weights",
                        str(tmp_path / "ckpt.pt")],
                       capture_output=True, text=True, timeout=300, umask=umask)
    assert r.returncode == 0, r.stderr
    weights = next(p for p in tmp_path.iterdir() if p.stem == "model" and p.suffix != ".py")
    for path in (out, tmp_path / "model_train.py", weights):
        assert _mode(path) == 0o666 & ~umask, path
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_export_over_an_existing_file_keeps_its_mode(project_file, tmp_path):
    out = tmp_path / "model.py"
    out.write_text("# old\n")
    out.chmod(0o640)
    assert _cli("export", project_file, "-o", out).returncode == 0
    assert _mode(out) == 0o640 and "class " in out.read_text()


def test_export_into_a_missing_folder_names_the_folder(project_file, tmp_path):
    out = tmp_path / "nonexistent" / "dir" / "m.py"
    r = _cli("export", project_file, "-o", out)
    assert r.returncode == 1
    assert r.stderr == (f"error: cannot write: could not save '{out}': the folder "
                        f"'{out.parent}' does not exist\n")
    assert ".tmp" not in r.stderr and "netcanvas-tmp" not in r.stderr


def test_weights_into_a_missing_folder_names_the_folder(tmp_path):
    from graph.fileio import FileSaveError

    project = load_project(_write(tmp_path))
    model, _ = build_model(project.graph, project.name)
    with pytest.raises(FileSaveError) as info:
        save_weights(model, tmp_path / "gone" / "w.pt")
    assert str(info.value) == (f"could not save '{tmp_path / 'gone' / 'w.pt'}': the folder "
                               f"'{tmp_path / 'gone'}' does not exist")


def _other_weights(model) -> dict:
    """The model's weights with one layer renamed, one dropped and one resized."""
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["stem.weight"] = state.pop("hidden.weight")
    state["classifier.weight"] = torch.zeros(3, 8)
    del state["classifier.bias"]
    return state


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_weights_that_do_not_fit_are_named_key_by_key(project_file, tmp_path, suffix):
    if suffix == ".safetensors":
        pytest.importorskip("safetensors")
    project = load_project(project_file)
    model, _ = build_model(project.graph, project.name)
    ckpt = tmp_path / f"other{suffix}"
    if suffix == ".pt":
        torch.save({"model": _other_weights(model), "epoch": 1}, ckpt)
    else:
        from safetensors.torch import save_file

        save_file(_other_weights(model), str(ckpt))
    r = _cli("export", project_file, "-o", tmp_path / "m.py", "--weights", ckpt)
    assert r.returncode == 1
    assert r.stderr.strip() == (
        f"error: the weights in {ckpt} do not fit this network: missing hidden.weight "
        "[16, 4]; unexpected stem.weight [16, 4]; shape mismatch classifier.weight: file "
        "[3, 8] vs network [3, 16] (and 1 more)")


def test_many_differences_are_counted_after_the_first_ones():
    from codegen.export import weights_mismatch

    net = {f"l{i}.weight": torch.zeros(i + 1, 2) for i in range(6)}
    found = {f"l{i}.weight": torch.zeros(i + 1, 3) for i in range(6)}
    assert weights_mismatch(net, found) == (
        "shape mismatch l0.weight: file [1, 3] vs network [1, 2], l1.weight: file [2, 3] vs "
        "network [2, 2], l2.weight: file [3, 3] vs network [3, 2] (and 3 more)")
    assert weights_mismatch(net, dict(net)) is None


HUGE = {"format": "netcanvas", "version": 1, "name": "Huge",
        "nodes": [{"id": "x", "type": "Input", "params": {"shape": [2**20]}},
                  {"id": "fc", "type": "Linear", "name": "fc", "params": {"out_features": 2**20}},
                  {"id": "y", "type": "Output", "params": {}}],
        "edges": [{"source": "x", "target": "fc"}, {"source": "fc", "target": "y"}]}


def test_building_a_model_beyond_the_machines_memory_is_refused_with_its_size(tmp_path):
    # a 2²⁰×2²⁰ Linear: 4.4 TB of weights; `check` warns and building refuses
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(HUGE))
    r = _cli("export", path, "-o", tmp_path / "m.py", "--weights", tmp_path / "w.pt")
    assert r.returncode == 1
    assert r.stderr.startswith(f"error: cannot export {str(path)!r}: the model cannot be built "
                               "here: its 1.1 T parameters need 4.4 TB for the weights alone, "
                               "more than this machine's memory (")
    assert "Traceback" not in r.stderr
    assert (tmp_path / "m.py").exists()  # the source itself is fine to write
