"""The template gallery's results: every template trained with its full settings.

Each project in ``resources/templates/`` is trained exactly as ``python main.py
train`` would (its own ``training`` section, no overrides, no checkpoints),
one after the other in this process, after an untimed warm-up epoch.
The time is that of ``Trainer.run`` (training and validation; loading the
data and building the model are not counted).  The script prints a Markdown table —
template, dataset, parameters, the result reached next to what a model that
learned nothing scores, epochs and wall-clock training time — headed by a
line describing the machine.  ``resources/templates/RESULTS.md`` holds its
output (the README quotes it).

"Learned nothing" is the best constant guess: the most frequent class of the
training set (classification) or the training targets' mean (regression),
scored on the validation set.

Usage: ``python bench/templates.py [--only NAME ...] [--threads N]``
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from graph.project import load_project  # noqa: E402
from runtime.engine import Trainer  # noqa: E402

TEMPLATES = ROOT / "resources" / "templates"
#: Gallery order: simple to advanced.
ORDER = ("mlp_sine", "mlp_spirals", "lenet_digits", "resnet_digits", "resnet18_digits",
         "depthwise_digits",
         "autoencoder_digits", "lstm_adding", "bigru_majority", "transformer_majority",
         "gpt_next_token")


def machine() -> str:
    """CPU model, core count and torch version, for the table's heading."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()}-core {model} CPU, {torch.get_num_threads()} torch threads, "
            f"torch {torch.__version__.split('+')[0]} CPU, Python {platform.python_version()}")


def baseline(ds) -> float:
    """The validation score of the best constant guess (see the module docstring)."""
    if ds.task == "classification":
        counts = np.bincount(ds.y_train.reshape(-1), minlength=ds.num_classes or 0)
        return float(np.mean(ds.y_val.reshape(-1) == counts.argmax()))
    mean = ds.y_train.reshape(len(ds.y_train), -1).mean(axis=0)
    return float(np.mean((ds.y_val.reshape(len(ds.y_val), -1) - mean) ** 2))


def dataset_text(spec: dict) -> str:
    opts = ", ".join(f"{k}={v}" for k, v in spec.items() if k not in ("name", "val_fraction"))
    return f"{spec['name']} ({opts})" if opts else spec["name"]


def bench_one(name: str) -> dict:
    """Train one template with its own settings; returns the table row's fields."""
    project = load_project(TEMPLATES / f"{name}.json")
    trainer = Trainer.from_project(project)
    trainer.prepare()
    start = time.perf_counter()
    result = trainer.run()
    seconds = time.perf_counter() - start
    if result.fault is not None:
        raise SystemExit(f"{name}: {result.fault.message}")
    s, m = trainer.setup, result.metrics
    base = baseline(s.dataset)
    if result.task == "classification":
        reached = f"val accuracy {m['val_accuracy']:.1%}"
        vs = f"{base:.1%}"
    else:
        reached = f"val MSE {m['val_loss']:.4f} (MAE {m['val_mae']:.3f})"
        vs = f"MSE {base:.4f}"
    params = sum(p.numel() for p in trainer.model.parameters())
    return {"template": name, "dataset": dataset_text(project.training["dataset"]),
            "params": f"{params:,}", "reached": reached, "baseline": vs,
            "epochs": str(result.epochs), "time": f"{seconds:.1f} s",
            "diagnosis": [d["message"] for d in result.diagnosis]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="template names (default: all)")
    ap.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    names = args.only or [n for n in ORDER if (TEMPLATES / f"{n}.json").exists()]
    names += [p.stem for p in sorted(TEMPLATES.glob("*.json"))
              if not args.only and p.stem not in names]
    # The first run in a process pays one-off costs (lazy imports, allocator
    # warm-up) that are not the template's: spend them on an untimed epoch.
    Trainer.from_project(load_project(TEMPLATES / f"{names[0]}.json"),
                         overrides={"epochs": 1}).run()
    rows = []
    for name in names:
        row = bench_one(name)
        print(f"{name}: {row['reached']} in {row['time']}", file=sys.stderr, flush=True)
        rows.append(row)
    cols = [("template", "Template"), ("dataset", "Dataset"), ("params", "Parameters"),
            ("reached", "Result reached"), ("baseline", "Constant guess"),
            ("epochs", "Epochs"), ("time", "Training time")]
    print(f"Machine: {machine()}.\n")
    print("| " + " | ".join(title for _, title in cols) + " |")
    print("|" + "|".join("---:" if k in ("params", "epochs", "time") else "---"
                         for k, _ in cols) + "|")
    for row in rows:
        print("| " + " | ".join(row[k] for k, _ in cols) + " |")
    notes = [f"{r['template']}: {d}" for r in rows for d in r["diagnosis"]]
    if notes:
        print("\nDiagnosis notes:\n" + "\n".join(f"- {n}" for n in notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
