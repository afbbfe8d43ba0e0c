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
