"""``main.py check`` and ``main.py summary`` through a real subprocess."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "resources" / "examples").glob("*.json"))


def run(*args):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, encoding="utf-8", cwd=ROOT, timeout=60)


def write(tmp_path, nodes, edges, training=None, name="p.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"format": "netcanvas", "version": 1, "name": "t", "nodes": nodes,
                                "edges": edges, "training": training or {}}), "utf-8")
    return path


@pytest.fixture
def broken(tmp_path):
    """Input 1×8×8 into a Linear: valid; plus a lonely Linear with no input."""
    return write(tmp_path, [
        {"id": "x", "type": "Input", "params": {"shape": [4]}},
        {"id": "fc", "type": "Linear", "name": "hidden", "params": {"out_features": 3}},
        {"id": "lone", "type": "Linear", "name": "lonely", "params": {}},
        {"id": "y", "type": "Output", "params": {}}],
        [{"source": "x", "target": "fc"}, {"source": "fc", "target": "y"}])


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_checks_valid_with_every_shape(path):
    r = run("check", path, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert report["valid"] is True
    assert set(report) == {"valid", "problems", "shapes"}
    ids = {n["id"] for n in json.loads(path.read_text("utf-8"))["nodes"]}
    assert {k.split(".")[0] for k in report["shapes"]} == ids
    assert all(shape[0] == "N" for shape in report["shapes"].values())


def test_check_json_of_the_mlp_example():
    r = run("check", ROOT / "resources" / "examples" / "mlp_iris.json", "--json")
    assert json.loads(r.stdout) == {"valid": True, "problems": [], "shapes": {
        "x.out": ["N", 4], "fc1.out": ["N", 32], "act1.out": ["N", 32], "drop.out": ["N", 32],
        "fc2.out": ["N", 3], "y.out": ["N", 3]}}


def test_symbolic_sizes_are_strings_in_json():
    r = run("check", ROOT / "resources" / "examples" / "lstm_majority.json", "--json")
    shapes = json.loads(r.stdout)["shapes"]
    assert shapes["x.out"] == ["N", "T"] and shapes["gru.out"] == ["N", 32]


def test_invalid_project_exits_1_and_lists_the_problem(broken):
    r = run("check", broken)
    assert r.returncode == 1
    assert ('error  lone.in  Linear "lonely": its input is not connected; '
            "connect a block's output to it") in r.stdout
    assert "  fc.out  N×3  Linear \"hidden\"" in r.stdout
    assert r.stdout.rstrip().endswith("invalid: 1 error, 1 warning")


def test_invalid_project_json(broken):
    r = run("check", broken, "--json")
    assert r.returncode == 1
    report = json.loads(r.stdout)
    assert report["valid"] is False
    first = report["problems"][0]
    assert {k: first[k] for k in ("severity", "node", "port")} == \
        {"severity": "error", "node": "lone", "port": "in"}
    assert first["code"] == "unconnected_input"
    assert report["shapes"]["fc.out"] == ["N", 3] and "lone.out" not in report["shapes"]


def test_warnings_alone_keep_exit_0(tmp_path):
    path = write(tmp_path, [
        {"id": "x", "type": "Input", "params": {"shape": [4]}},
        {"id": "fc", "type": "Linear", "params": {"out_features": 3}},
        {"id": "sm", "type": "Softmax", "params": {}},
        {"id": "y", "type": "Output", "params": {}}],
        [{"source": "x", "target": "fc"}, {"source": "fc", "target": "sm"},
         {"source": "sm", "target": "y"}], training={"loss": {"type": "CrossEntropyLoss"}})
    r = run("check", path)
    assert r.returncode == 0
    assert r.stdout.startswith('warning  sm  Softmax "softmax_1": CrossEntropyLoss applies')


@pytest.mark.parametrize("content,text", [
    (None, "No such file or directory"),
    (b"", "the file is empty"),
    (b'{"format": "netcanvas", "version": 9}', "format version 9"),
    (b'{"format": "netcanvas", "version": 1, "nodes": [{"id": "a", "type": "Conv9d"}]}',
     "nodes[0].type: unknown block type 'Conv9d'"),
])
@pytest.mark.parametrize("command", ["check", "summary"])
def test_unreadable_file_exits_2_with_message_on_stderr(tmp_path, content, text, command):
    path = tmp_path / "x.json"
    if content is not None:
        path.write_bytes(content)
    r = run(command, path)
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.startswith(f"error: cannot open '{path}': ")
    assert text in r.stderr


def test_summary_table_and_totals():
    r = run("summary", ROOT / "resources" / "examples" / "mlp_iris.json")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "MLP on iris"
    header = next(line for line in lines if line.startswith("name"))
    assert header.split() == ["name", "type", "output", "shape", "parameters", "FLOPs"]
    hidden = next(line for line in lines if line.startswith("hidden "))
    assert hidden.split() == ["hidden", "Linear", "N×32", "160", "256"]
    assert "total parameters:  259" in r.stdout  # 4*32+32 + 32*3+3
    assert "model size:        0.00 MB" in r.stdout
    assert "NOMINAL" not in r.stdout  # no variable sizes here


def test_summary_notes_nominal_symbolic_sizes():
    r = run("summary", ROOT / "resources" / "examples" / "lstm_majority.json")
    assert r.returncode == 0
    assert "variable sizes (T) are counted as 32 (graph.dims.NOMINAL)" in r.stdout


def test_summary_of_invalid_project_exits_1(broken):
    r = run("summary", broken)
    assert r.returncode == 1
    assert "lonely" in r.stdout and "?" in r.stdout
    assert "invalid: 1 error" in r.stdout


def test_check_does_not_import_torch():
    r = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / "main.py"), "check",
                        str(EXAMPLES[0])], capture_output=True, text=True, cwd=ROOT, timeout=60)
    imported = {line.split("|")[-1].strip() for line in r.stderr.splitlines() if "|" in line}
    assert "graph.cli" in imported
    assert not {m for m in imported if m == "torch" or m.startswith("torch.")}
    assert "PySide6" not in imported


def test_check_does_not_import_numpy_for_dataset_sizes():
    # the dataset size comes from runtime's standard-library catalogue
    r = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / "main.py"), "check",
                        str(EXAMPLES[0])], capture_output=True, text=True, cwd=ROOT, timeout=60)
    imported = {line.split("|")[-1].strip() for line in r.stderr.splitlines() if "|" in line}
    assert "runtime.data.catalog" in imported
    assert not {m for m in imported if m in ("numpy", "sklearn")}


# ------------------------------------------------------------------ empty project
def test_empty_project_is_invalid_with_no_input_and_no_output(tmp_path):
    path = write(tmp_path, [], [])
    r = run("check", path)
    assert r.returncode == 1
    assert r.stdout.splitlines()[:2] == [
        "error  (network)  the network is empty: it has no Input block; add an Input (the "
        "data) and the layers after it",
        "error  (network)  the network is empty: it has no Output block; add an Output and "
        "connect the last layer to it"]
    assert r.stdout.rstrip().endswith("invalid: 2 errors, 0 warnings")


def test_empty_project_json_has_null_nodes(tmp_path):
    r = run("check", write(tmp_path, [], []), "--json")
    assert r.returncode == 1
    report = json.loads(r.stdout)
    assert report["valid"] is False and report["shapes"] == {}
    assert [(p["code"], p["node"], p["port"]) for p in report["problems"]] == [
        ("no_input", None, None), ("no_output", None, None)]


def test_empty_project_cannot_be_exported(tmp_path):
    r = run("export", write(tmp_path, [], []), "-o", tmp_path / "m.py")
    assert r.returncode == 1
    assert "the network is empty: it has no Input block" in r.stderr
    assert not (tmp_path / "m.py").exists()


def test_no_output_is_located_on_a_real_node(tmp_path):
    r = run("check", write(tmp_path, [{"id": "x", "type": "Input", "params": {"shape": [4]}}],
                           []), "--json")
    problems = json.loads(r.stdout)["problems"]
    assert [(p["code"], p["node"]) for p in problems] == [("no_output", "x")]


# ------------------------------------------------------------- model vs dataset size
def _wide(tmp_path, dataset, width=1000):
    """Input 4 → Linear width → Linear width → Output: 1,006,000 parameters at 1000."""
    return write(tmp_path, [
        {"id": "x", "type": "Input", "params": {"shape": [4]}},
        {"id": "fc1", "type": "Linear", "params": {"out_features": width}},
        {"id": "fc2", "type": "Linear", "name": "wide", "params": {"out_features": width}},
        {"id": "y", "type": "Output", "params": {}}],
        [{"source": "x", "target": "fc1"}, {"source": "fc1", "target": "fc2"},
         {"source": "fc2", "target": "y"}], training={"dataset": dataset})


def test_check_warns_of_a_very_large_model_for_a_builtin_dataset(tmp_path):
    r = run("check", _wide(tmp_path, {"name": "iris"}), "--json")
    assert r.returncode == 0  # a warning, not an error
    problems = json.loads(r.stdout)["problems"]
    assert problems == [{
        "severity": "warning", "node": "fc2", "port": None, "code": "large_model",
        "message": 'the model has 1,006,000 parameters for 120 training samples; it will '
                   'likely over-fit — make Linear "wide" smaller or add regularisation'}]


def test_large_model_warning_counts_n_and_the_validation_split(tmp_path):
    r = run("check", _wide(tmp_path, {"name": "spirals", "n": 1000, "val_fraction": 0.5}))
    assert "1,006,000 parameters for 500 training samples" in r.stdout
    assert r.stdout.rstrip().endswith("valid: 0 errors, 1 warning")


def test_no_large_model_warning_when_the_dataset_is_big_enough(tmp_path):
    # 100 parameters per sample are fine: 16,000 samples carry 1.6M parameters
    r = run("check", _wide(tmp_path, {"name": "spirals", "n": 20000}), "--json")
    assert json.loads(r.stdout)["problems"] == []


@pytest.mark.parametrize("dataset", [{"csv": "data.csv", "target": "y"}, {"name": "nope"},
                                     {"name": "iris", "n": "many"}])
def test_no_large_model_warning_when_the_size_is_unknown(tmp_path, dataset):
    r = run("check", _wide(tmp_path, dataset), "--json")
    assert json.loads(r.stdout)["problems"] == []


# ------------------------------------------------------------------ required parameters
def test_attention_without_num_heads_is_refused_with_set_num_heads(tmp_path):
    path = write(tmp_path, [
        {"id": "x", "type": "Input", "params": {"shape": ["T", 8]}},
        {"id": "att", "type": "MultiheadAttention", "params": {}},
        {"id": "y", "type": "Output", "params": {}}],
        [{"source": "x", "target": "att", "target_port": "query"},
         {"source": "att", "target": "y"}])
    r = run("check", path)
    assert r.returncode == 1
    assert ('error  att  MultiheadAttention "attn_1": num_heads has no default; set '
            "num_heads (parallel attention heads; must divide embed_dim)") in r.stdout
