"""Projects and a pretrained checkpoint for the fine-tuning tests of the window."""

from __future__ import annotations

from pathlib import Path

from graph.project import load_project
from support import chain_file

IRIS = {"dataset": {"name": "iris"}, "optimizer": {"type": "Adam", "lr": 0.02},
        "epochs": 1, "batch_size": 16, "seed": 2}


def project_file(path: Path, *layers: tuple[str, int]) -> Path:
    """Input [4] → Linear layers named and sized as given (ReLU between) → Output;
    the k-th Linear's id is ``n<k>`` (1-based)."""
    nodes = [{"id": "x", "type": "Input", "params": {"shape": [4], "dtype": "float32"}}]
    for k, (name, width) in enumerate(layers, 1):
        if k > 1:
            nodes.append({"id": f"r{k}", "type": "ReLU", "params": {}})
        nodes.append({"id": f"n{k}", "type": "Linear", "name": name,
                      "params": {"out_features": width}})
    nodes.append({"id": "y", "type": "Output", "params": {}})
    return chain_file(path, nodes, IRIS, "Net")


def pretrained_checkpoint(tmp_path: Path) -> Path:
    """One epoch of hidden(16) → pre_head(16) → classifier(3) on iris; its last.pt."""
    from runtime.engine import Trainer

    pre = project_file(tmp_path / "pre.json", ("hidden", 16), ("pre_head", 16),
                       ("classifier", 3))
    out = tmp_path / "pre_run"
    Trainer.from_project(load_project(pre), out_dir=out).run()
    return out / "last.pt"
