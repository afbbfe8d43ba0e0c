"""``summary`` lists the model's inputs first and outputs last, in node order:
the order of ``forward``'s arguments and of the tuple it returns."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_summary_lists_outputs_in_output_node_order(tmp_path):
    # the first Output node is fed by the last layer in topological order
    path = tmp_path / "two_outputs.json"
    path.write_text(json.dumps({"format": "netcanvas", "version": 1, "name": "two", "nodes": [
        {"id": "x", "type": "Input", "name": "features", "params": {"shape": [4]}},
        {"id": "first", "type": "Output", "name": "deep_out"},
        {"id": "a", "type": "Linear", "name": "shallow", "params": {"out_features": 2}},
        {"id": "b", "type": "Linear", "name": "deep", "params": {"out_features": 3}},
        {"id": "second", "type": "Output", "name": "shallow_out"}], "edges": [
        {"source": "x", "target": "a"}, {"source": "a", "target": "b"},
        {"source": "b", "target": "first"}, {"source": "a", "target": "second"}]}), "utf-8")
    r = subprocess.run([sys.executable, str(ROOT / "main.py"), "summary", str(path)],
                       capture_output=True, text=True, encoding="utf-8", cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    rows = [line.split()[0] for line in r.stdout.splitlines()
            if line.split() and line.split()[0] in {"features", "shallow", "deep", "deep_out",
                                                    "shallow_out"}]
    assert rows == ["features", "shallow", "deep", "deep_out", "shallow_out"]
