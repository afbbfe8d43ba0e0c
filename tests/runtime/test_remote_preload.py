"""The training processes' fork server preloads what a run really imports
(runtime.remote.PRELOAD): every entry exists, and a run started after the
preload imports nothing heavy of its own (each such import is paid again by
every run, before its first step)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from runtime.remote import PRELOAD, PRELOAD_OPTIONAL

ROOT = Path(__file__).resolve().parents[2]
#: Packages whose modules a run must find preloaded (ours, and the heavy ones).
OURS = ("graph", "codegen", "runtime")
HEAVY = ("torch", "numpy", "sklearn", "scipy", "sympy", "safetensors", "PIL")

#: Runs the child's own main() in a fresh interpreter after importing the
#: preload list, as the fork server does; prints the modules the runs imported.
SCRIPT = r"""
import importlib, json, sys, tempfile, threading
import multiprocessing as mp
preload = json.loads(sys.argv[1])
for name in preload:
    try:
        importlib.import_module(name)
    except ImportError:  # as the fork server does: an optional extra not installed
        pass
before = set(sys.modules)
from graph.project import load_project, project_to_dict
from runtime import remote_child

def drain(conn):
    try:
        while True:
            conn.recv()
    except EOFError:
        pass

for path, watch in json.loads(sys.argv[2]):
    doc = project_to_dict(load_project(path))
    training = dict(doc.get("training") or {}, epochs=1)
    r, w = mp.Pipe(duplex=False)
    cmd_r, _cmd_w = mp.Pipe(duplex=False)
    threading.Thread(target=drain, args=(r,), daemon=True).start()
    # as the window starts a run: a run folder (checkpoints), a watched edge
    remote_child.main({"network": doc, "training": training, "name": doc.get("name", "x"),
                       "out_dir": tempfile.mkdtemp(), "watch": watch, "project": doc},
                      w, mp.Event(), mp.Event(), cmd_r)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_every_preloaded_module_exists():
    """A module that moved or is no longer used is not left in the list (the fork
    server skips a missing one silently: only this test sees it)."""
    missing = [m for m in PRELOAD if importlib.util.find_spec(m) is None]
    assert not missing, f"PRELOAD names modules that do not exist: {missing}"
    for name in PRELOAD_OPTIONAL:  # an optional extra: checked where it is installed
        top = name.split(".")[0]
        if importlib.util.find_spec(top) is not None:
            assert importlib.util.find_spec(name) is not None, name


def test_a_run_after_the_preload_imports_nothing_heavy(tmp_path):
    templates = ROOT / "resources" / "templates"
    runs = [(str(templates / "lenet_digits.json"), "c1"),       # sklearn's digits, a conv net
            (str(templates / "mlp_spirals.json"), None),        # synthetic 2-D: decision map
            (str(templates / "transformer_reverse.json"), None)]  # tokens, several inputs
    out = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(PRELOAD + PRELOAD_OPTIONAL),
                          json.dumps(runs)], cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    new = json.loads(out.stdout.strip().splitlines()[-1])
    ours = [m for m in new if m.split(".")[0] in OURS]
    # a package's small data or config submodules may come later; a package is not
    heavy = [m for m in new if m.split(".")[0] in HEAVY and m.count(".") <= 1]
    assert not ours and not heavy, (
        f"imported by each run, not preloaded: {ours + heavy}; add them to "
        "runtime.remote.PRELOAD")
