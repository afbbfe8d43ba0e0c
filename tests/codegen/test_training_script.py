"""The exported training script: every template trains with it, its data are
the app's, user files are found, and it runs under torchrun (DDP, CPU/gloo).

The scripts run in clean subprocesses (``python -I``: NetCanvas is not on the
path); the data comparisons execute the rendered script in this process.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from codegen.export import write_model, write_training_script
from codegen.training_script import render
from graph import training_names as names
from graph.project import load_project, loads_project
from runtime.data import builtin_catalog, load_dataset

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "resources" / "templates").glob("*.json"))


def _small(project, n=200):
    """The project's training set cut to ``n`` samples (fast, same kind of data)."""
    ds = project.training.setdefault("dataset", {"name": "digits"})
    ds["n"] = min(n, ds.get("n", n))
    return project


def _export(project, folder: Path, project_dir=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    code = write_model(project.graph, folder / "net.py", project.name, project.training)
    return write_training_script(project.graph, code, folder / "net.py", project.training,
                                 project_dir)


def _run(script: Path, *args, cwd: Path, launcher=()):
    return subprocess.run([sys.executable, "-I", *launcher, str(script), "--epochs", "1",
                           "--device", "cpu", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=600)


def _last_json(r) -> dict:
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


#: Runs several exported scripts, each as ``__main__``, in one clean interpreter
#: (one torch and scikit-learn import for all: the test stays fast).
DRIVER = r"""
import contextlib, io, json, runpy, sys, traceback
results = {}
for name, script, out in json.loads(sys.argv[1]):
    sys.argv = [script, "--epochs", "1", "--device", "cpu", "--out", out]
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            runpy.run_path(script, run_name="__main__")
        results[name] = {"stdout": buf.getvalue(), "error": None}
    except BaseException:  # SystemExit too: the script's own refusals
        results[name] = {"stdout": buf.getvalue(), "error": traceback.format_exc()}
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def template_runs(tmp_path_factory):
    """Each template exported (its dataset cut to 200 samples) and trained one epoch."""
    root = tmp_path_factory.mktemp("templates")
    jobs = []
    for path in TEMPLATES:
        script = _export(_small(load_project(path)), root / path.stem)
        jobs.append((path.stem, str(script), str(root / path.stem / "runs")))
    r = subprocess.run([sys.executable, "-I", "-c", DRIVER, json.dumps(jobs)], cwd=root,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return root, json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_every_template_trains_one_epoch_with_its_exported_script(path, template_runs):
    root, results = template_runs
    got = results[path.stem]
    assert got["error"] is None, got["error"]
    metrics = json.loads(got["stdout"].strip().splitlines()[-1])
    project = load_project(path)
    ds = project.training["dataset"]
    task = "regression" if ds.get("target") == "input" else builtin_catalog()[ds["name"]].task
    key = "val_accuracy" if task == "classification" else "val_mae"
    assert set(metrics) == {"epochs", "train_loss", "val_loss", key}
    assert metrics["epochs"] == 1 and np.isfinite(metrics["train_loss"])
    if key == "val_accuracy":
        assert 0 <= metrics[key] <= 1
    assert {p.name for p in (root / path.stem / "runs").iterdir()} == {
        "best.pt", "last.pt", "metrics.csv"}


# ------------------------------------------------------------------- same data as the app
def _script_namespace(training: dict, project_dir=None) -> dict:
    """Execute a rendered script (not its main) and return its globals."""
    src = render("net.py", "Net", "net_train.py", (2,), "float32", training, project_dir)
    namespace = {"__name__": "exported_training_script", "__file__": "/nowhere/net_train.py"}
    exec(compile(src, "net_train.py", "exec"), namespace)
    return namespace


def _same(script_ds, app_ds) -> None:
    for part in ("X_train", "y_train", "X_val", "y_val"):
        a, b = getattr(script_ds, part), getattr(app_ds, part)
        assert a.dtype == b.dtype and a.shape == b.shape, part
        assert np.array_equal(a, b), part
    assert script_ds.task == app_ds.task and script_ds.num_classes == app_ds.num_classes


SPECS = [{"name": name, "n": 60} for name in builtin_catalog()] + [
    {"name": "digits"},  # the whole bundled file
    {"name": "digits", "target": "input", "n": 50},  # the autoencoder's reconstruction
    {"name": "majority_token", "n": 40, "vocab": 16, "seq_len": 12},
    {"name": "next_token", "n": 40, "vocab": 10, "seq_len": 7, "val_fraction": 0.3},
    {"name": "spirals", "n": 90, "classes": 3, "noise": 0.2},
    {"name": "adding", "n": 30, "seq_len": 9},
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: "-".join(f"{v}" for v in s.values()))
def test_script_data_equal_the_apps_for_the_same_seed(spec):
    ns = _script_namespace({"dataset": spec, "seed": 3})
    _same(ns["load_data"](None, 3), load_dataset(spec, seed=3))


def test_without_scikit_learn_the_script_still_splits_as_the_app_does_unstratified(
        monkeypatch):
    spec = {"name": "sine", "n": 50}
    app = load_dataset(spec, seed=1)  # regression: the app's split is unstratified too
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn now fails
    monkeypatch.setitem(sys.modules, "sklearn.model_selection", None)
    ns = _script_namespace({"dataset": spec})
    _same(ns["load_data"](None, 1), app)


def test_unknown_builtin_dataset_is_refused_at_export():
    from codegen import CodegenError

    with pytest.raises(CodegenError, match="no built-in dataset 'nope'"):
        render("net.py", "Net", "t.py", (2,), "float32", {"dataset": {"name": "nope"}})


# ------------------------------------------------------------------ the user's own files
def _table_project(folder: Path, dataset: dict) -> Path:
    project = {
        "format": "netcanvas", "version": 1, "name": "table",
        "nodes": [{"id": "x", "type": "Input", "params": {"shape": [3]}},
                  {"id": "fc", "type": "Linear", "params": {"out_features": 2}},
                  {"id": "y", "type": "Output"}],
        "edges": [{"source": "x", "target": "fc"}, {"source": "fc", "target": "y"}],
        "training": {"dataset": dataset, "epochs": 1, "batch_size": 16}}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "table.json"
    path.write_text(json.dumps(project), "utf-8")
    return path


def _write_csv(path: Path, n=40):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["a,b,c,label"] + [f"{a:.4f},{b:.4f},{c:.4f},{'yes' if a + b > 0 else 'no'}"
                               for a, b, c in X]
    path.write_text("\n".join(lines) + "\n", "utf-8")


def _write_npz(path: Path, n=40):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, X=X, y=(X[:, 0] > 0).astype(np.int64))


@pytest.mark.parametrize("kind", ["csv", "npz"])
def test_relative_data_paths_resolve_against_the_project_folder(kind, tmp_path):
    proj_dir = tmp_path / "project"
    rel = "data/table.csv" if kind == "csv" else "data/arrays.npz"
    (_write_csv if kind == "csv" else _write_npz)(proj_dir / rel)
    dataset = {"csv": rel, "target": "label"} if kind == "csv" else {"npz": rel}
    project_file = _table_project(proj_dir, dataset)
    out = tmp_path / "exported" / "net.py"
    out.parent.mkdir()
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "export", str(project_file),
                        "-o", str(out), "--training-script"], capture_output=True, text=True,
                       cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    script = out.parent / "net_train.py"
    assert repr(str(proj_dir / rel)) in script.read_text("utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    metrics = _last_json(_run(script, "--out", "runs", cwd=elsewhere))
    assert metrics["epochs"] == 1 and 0 <= metrics["val_accuracy"] <= 1
    # the same rows, standardisation and split as the app
    ns = _script_namespace(loads_project(project_file.read_text()).training, proj_dir)
    _same(ns["load_data"](ns["DATA_PATH"], 0), load_dataset(dataset, proj_dir, seed=0))


def test_an_image_folder_is_read_by_the_script_as_by_the_app(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    for k, (cls, mode) in enumerate((("cats", "L"), ("dogs", "RGB"))):
        (tmp_path / "pics" / cls).mkdir(parents=True)
        for i in range(4):
            Image.new(mode, (9, 7), 50 * i + k).save(tmp_path / "pics" / cls / f"{i}.png")
    dataset = {"image_folder": "pics", "size": [6, 8]}
    ns = _script_namespace({"dataset": dataset}, tmp_path)
    assert "image_sample_shape" not in ns  # the editor's header reader stays out of scripts
    _same(ns["load_data"](ns["DATA_PATH"], 0), load_dataset(dataset, tmp_path, seed=0))


def test_data_flag_overrides_a_moved_dataset_and_a_missing_one_says_so(tmp_path):
    proj_dir = tmp_path / "project"
    _write_csv(proj_dir / "t.csv")
    project = load_project(_table_project(proj_dir, {"csv": "t.csv", "target": "label"}))
    script = _export(project, tmp_path / "export", proj_dir)
    moved = tmp_path / "moved.csv"
    shutil.move(proj_dir / "t.csv", moved)
    r = _run(script, "--out", "runs", cwd=tmp_path)
    assert r.returncode != 0
    assert f"error: {proj_dir / 't.csv'} does not exist; give its place with --data PATH" \
        in r.stderr
    assert _last_json(_run(script, "--out", "runs", "--data", moved, cwd=tmp_path))["epochs"] == 1


# ------------------------------------------------------------------------------- DDP
def test_torchrun_with_two_cpu_processes_trains_and_all_reduces_the_train_loss(tmp_path):
    project = _small(load_project(ROOT / "resources" / "templates" / "mlp_spirals.json"), 200)
    script = _export(project, tmp_path / "export")
    # with lr 0 the weights stay put, so the mean training loss over all 160
    # samples is the same whether one process sees them or two see half each
    single = _last_json(_run(script, "--out", "one", "--lr", "0", cwd=tmp_path))
    r = _run(script, "--out", "ddp", "--lr", "0", cwd=tmp_path,
             launcher=("-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"))
    ddp = _last_json(r)
    assert len([line for line in r.stdout.splitlines() if line.startswith("{")]) == 1
    assert ddp["epochs"] == 1
    assert ddp["train_loss"] == pytest.approx(single["train_loss"], rel=1e-5)
    assert ddp["val_loss"] == pytest.approx(single["val_loss"], rel=1e-5)
    assert {p.name for p in (tmp_path / "ddp").iterdir()} == {"best.pt", "last.pt",
                                                              "metrics.csv"}


# ------------------------------------------------------------- what the script needs
NEEDS = [({"name": "moons"}, "torch and numpy", "torch numpy"),
         ({"name": "digits"}, "torch, numpy and scikit-learn", "torch numpy scikit-learn"),
         ({"name": "iris", "val_fraction": 0.3}, "torch, numpy and scikit-learn",
          "torch numpy scikit-learn"),
         ({"csv": "t.csv", "target": "label"}, "torch and numpy", "torch numpy"),
         ({"npz": "a.npz"}, "torch and numpy", "torch numpy"),
         ({"image_folder": "pics"}, "torch, numpy and pillow", "torch numpy pillow")]


@pytest.mark.parametrize("dataset, needs, pip", NEEDS, ids=lambda v: str(v)[:20])
def test_the_header_names_what_the_script_needs_and_nothing_is_faked(dataset, needs, pip):
    import ast

    src = render("net.py", "Net", "net_train.py", (2,), "float32", {"dataset": dataset})
    assert src.splitlines()[0] == f'"""Train Net (written by NetCanvas; needs {needs}).'
    assert f"\n    pip install {pip}\n" in src
    assert "ModuleType" not in src and "sys.modules" not in src  # no stand-in modules
    imported = {(a.name if isinstance(n, ast.Import) else n.module).split(".")[0]
                for n in ast.walk(ast.parse(src)) if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in n.names}
    # never NetCanvas itself: only the standard library and the packages named above
    assert imported - set(sys.stdlib_module_names) <= {"torch", "numpy", "sklearn", "PIL"}


@pytest.mark.parametrize("kind, reader", [("name", "builtin"), ("csv", "from_csv"),
                                          ("npz", "from_npz"),
                                          ("image_folder", "from_image_folder")])
def test_the_script_holds_runtime_datas_public_reader_verbatim(kind, reader):
    import inspect

    import runtime.data

    dataset = {"name": "moons"} if kind == "name" else {kind: "somewhere"}
    src = render("net.py", "Net", "net_train.py", (2,), "float32", {"dataset": dataset})
    assert inspect.getsource(getattr(runtime.data, reader)) in src
    assert f"return {reader}(" in src  # load_data calls it by its public name


def _run_without(package: str, script: Path, cwd: Path, *args):
    """Run ``script`` as __main__ in a clean interpreter where ``package`` cannot be imported."""
    code = (f"import runpy, sys; sys.modules[{package!r}] = None; "
            f"sys.argv = {[str(script), '--epochs', '1', '--device', 'cpu', *args]!r}; "
            f"runpy.run_path({str(script)!r}, run_name='__main__')")
    return subprocess.run([sys.executable, "-I", "-c", code], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def test_without_scikit_learn_a_bundled_set_says_what_to_install(tmp_path):
    project = load_project(ROOT / "resources" / "templates" / "mlp_spirals.json")
    project.training["dataset"] = {"name": "iris"}
    script = _export(project, tmp_path / "export")
    r = _run_without("sklearn", script, tmp_path, "--out", "runs")
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1] == (
        "error: the built-in dataset iris is read from scikit-learn's bundled files, and "
        "scikit-learn is not installed; install it with `pip install scikit-learn`")


def test_without_scikit_learn_a_generated_set_trains_with_the_apps_stratified_split(tmp_path):
    project = _small(load_project(ROOT / "resources" / "templates" / "mlp_spirals.json"), 120)
    script = _export(project, tmp_path / "export")
    without = _last_json(_run_without("sklearn", script, tmp_path, "--out", "a", "--lr", "0"))
    with_it = _last_json(_run(script, "--out", "b", "--lr", "0", cwd=tmp_path))
    assert without == with_it  # the same samples and split: the same numbers


def test_the_scripts_training_names_come_from_the_registry():
    from graph import training_names

    ns = _script_namespace({"dataset": {"name": "moons", "n": 40}})
    assert ns["INDEX_LOSSES"] == tuple(training_names.INDEX_LOSSES)
    assert ns["PER_STEP"] == tuple(training_names.PER_STEP)


# ------------------------------------------- the script's training pieces match the engine's
def _lrs(schedule, optimizer, epochs=4, steps=3):
    seen = []
    for _ in range(epochs):
        for _ in range(steps):
            optimizer.step()
            schedule.step_batch()
            seen.append(optimizer.param_groups[0]["lr"])
        schedule.step_epoch(1.0)
        seen.append(optimizer.param_groups[0]["lr"])
    return seen


SCHEDULE_CASES = [
    *({"type": name, **start} for name, start in names.SCHEDULE_STARTS.items()),
    {"type": "CosineAnnealingLR"}, {"type": "OneCycleLR"},
    {"type": "LinearWarmup", "warmup_steps": 5, "then": {"type": "StepLR", "step_size": 1}},
    {"type": "LinearWarmup", "warmup_steps": 4, "then": {"type": "OneCycleLR"}},
]
LOSS_CASES = [
    {"type": "CrossEntropyLoss", "label_smoothing": 0.1, "weight": [1.0, 2.0]},
    {"type": "NLLLoss"}, {"type": "BCEWithLogitsLoss", "pos_weight": [2.0]},
    {"type": "MSELoss"}, {"type": "L1Loss"}, {"type": "SmoothL1Loss", "beta": 0.5},
    {"type": "HuberLoss", "delta": 2.0}, {"type": "MultiMarginLoss", "margin": 0.5},
    {"type": "KLDivLoss"}]


def test_every_schedule_and_loss_of_the_registry_is_compared():
    assert {c["type"] for c in SCHEDULE_CASES} == set(names.SCHEDULES)
    assert {c["type"] for c in LOSS_CASES} == set(names.LOSSES)


@pytest.mark.parametrize("spec", SCHEDULE_CASES,
                         ids=lambda s: s["type"] + ("+" + s["then"]["type"] if "then" in s else ""))
def test_the_scripts_schedule_steps_the_learning_rate_as_the_engine_does(spec):
    import torch

    from runtime.optim import build_schedule

    ns = _script_namespace({"dataset": {"name": "moons", "n": 40}})
    runs = []
    for make in (lambda o: ns["Schedule"](o, spec, 4, 3),
                 lambda o: build_schedule(spec, o, 4, 3)):
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
        runs.append(_lrs(make(opt), opt))
    assert runs[0] == pytest.approx(runs[1], rel=1e-12), spec


@pytest.mark.parametrize("loss", LOSS_CASES, ids=lambda s: s["type"])
def test_the_scripts_loss_is_the_engines(loss):
    import torch

    from runtime.optim import build_loss

    ns = _script_namespace({"dataset": {"name": "moons", "n": 40}})
    ours, theirs = ns["make_loss"](loss, torch.device("cpu")), build_loss(loss, torch.device("cpu"))
    assert type(ours) is type(theirs)
    assert {k: v for k, v in vars(ours).items() if not k.startswith("_")} == \
        {k: v for k, v in vars(theirs).items() if not k.startswith("_")}
    for name in ("weight", "pos_weight"):
        a, b = getattr(ours, name, None), getattr(theirs, name, None)
        assert (a is None and b is None) or torch.equal(a, b)
