"""A network with two Inputs and two Outputs and its ``.npz`` (one array per node),
shared by the engine's tests (tests/runtime/test_engine_multi.py) and the
command line's (tests/runtime/test_train_cli.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

N = 200


def arrays(n: int = N, seed: int = 0, **drop) -> dict:
    """Two inputs (``a``: 4 features, ``b``: 3) and two targets: a class (``cls``, 3
    classes) and a value (``reg``), both made from the inputs."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, 4)).astype(np.float32)
    b = rng.normal(size=(n, 3)).astype(np.float32)
    out = {"X_a": a, "X_b": b, "y_cls": np.argmax(a[:, :3] + b, axis=1).astype(np.int64),
           "y_reg": (a.sum(1) - 0.5 * b.sum(1)).astype(np.float32)}
    for k in drop:
        out.pop(k)
    return out


NODES = [
    {"id": "a", "type": "Input", "params": {"shape": [4]}},
    {"id": "b", "type": "Input", "params": {"shape": [3]}},
    {"id": "fa", "type": "Linear", "name": "from_a", "params": {"out_features": 16}},
    {"id": "fb", "type": "Linear", "name": "from_b", "params": {"out_features": 16}},
    {"id": "add", "type": "Add", "params": {}},
    {"id": "r", "type": "ReLU", "params": {}},
    {"id": "hc", "type": "Linear", "name": "class_head", "params": {"out_features": 3}},
    {"id": "hr", "type": "Linear", "name": "value_head", "params": {"out_features": 1}},
    {"id": "cls", "type": "Output", "params": {}},
    {"id": "reg", "type": "Output", "params": {}},
]
EDGES = [("a", "fa"), ("b", "fb"), ("fa", "add"), ("fb", "add"), ("add", "r"), ("r", "hc"),
         ("r", "hr"), ("hc", "cls"), ("hr", "reg")]
BASE = {"optimizer": {"type": "Adam", "lr": 0.01}, "epochs": 4, "batch_size": 32,
        "device": "cpu"}


def write(tmp_path: Path, training: dict | None = None, data: dict | None = None,
          name: str = "pairs.npz") -> Path:
    np.savez(tmp_path / name, **(arrays() if data is None else data))
    doc = {"format": "netcanvas", "version": 1, "name": "Two heads", "nodes": NODES,
           "edges": [{"source": s, "target": t} for s, t in EDGES],
           "training": {"dataset": {"npz": name}, **BASE, **(training or {})}}
    path = tmp_path / "two_heads.json"
    path.write_text(json.dumps(doc))
    return path
