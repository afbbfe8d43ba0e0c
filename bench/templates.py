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
import json
import os
import tempfile
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
ORDER = ("mlp_sine", "mlp_spirals", "lenet_digits", "lenet_digits_augmented", "resnet_digits",
         "resnet18_digits", "depthwise_digits",
         "autoencoder_digits", "lstm_adding", "bigru_majority", "transformer_majority",
         "gpt_next_token", "deep_plain_cnn_digits", "lstm_attention_reverse",
         "transformer_reverse", "bert_masked_tokens", "bert_finetune_period")


def _unit_init(data: dict, init: str) -> None:
    """Set every convolution inside the project's units to ``init``."""
    for unit in data.get("units", {}).values():
        for node in unit["nodes"]:
            if node["type"] == "Conv2d":
                node["params"]["init"] = init


#: Templates trained a second time changed, for a comparison in the README:
#: name -> [(what changed, the change made to the project file's JSON)].
def _unfrozen(data: dict) -> None:
    """Train every block (the from-scratch baseline of a fine-tuning template)."""
    for node in data["nodes"]:
        node.pop("frozen", None)


def _unaugmented(data: dict) -> None:
    """Train on the unchanged images (the baseline of the augmentation template)."""
    data["training"].pop("augment", None)


VARIANTS = {
    "lenet_digits_augmented": [("without augmentation", _unaugmented)],
    "deep_plain_cnn_digits": [("PyTorch's default init", lambda d: _unit_init(d, "default"))],
    "bert_finetune_period": [("without pretraining", _unfrozen)],
}

#: Fine-tuning templates -> the template whose trained weights start them
#: (``--init-weights``: the blocks with the same names and shapes load).  The
#: variants of a fine-tuning template start from fresh weights.
PRETRAINED = {"bert_finetune_period": "bert_masked_tokens"}
#: Checkpoints of the templates named in PRETRAINED, once trained here.
_CHECKPOINTS: dict[str, Path] = {}
_KEEP = tempfile.TemporaryDirectory()


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
        # negative labels are the loss's ignore_index (masked tokens): not scored
        train, val = ds.y_train.reshape(-1), ds.y_val.reshape(-1)
        train, val = train[train >= 0], val[val >= 0]
        counts = np.bincount(train, minlength=ds.num_classes or 0)
        return float(np.mean(val == counts.argmax()))
    mean = ds.y_train.reshape(len(ds.y_train), -1).mean(axis=0)
    return float(np.mean((ds.y_val.reshape(len(ds.y_val), -1) - mean) ** 2))


def dataset_text(spec: dict) -> str:
    # the default split goes unsaid; another one (a small training set) matters
    opts = ", ".join(f"{k}={v}" for k, v in spec.items()
                     if k != "name" and (k, v) != ("val_fraction", 0.2))
    return f"{spec['name']} ({opts})" if opts else spec["name"]


def bench_one(name: str, variant: str | None = None, change=None) -> dict:
    """Train one template with its own settings; returns the table row's fields.

    Args:
        name: the template.
        variant: what ``change`` changes (shown after the name), if anything.
        change: a function that edits the project file's JSON in place.
    """
    if change is None:
        project = load_project(TEMPLATES / f"{name}.json")
    else:
        data = json.loads((TEMPLATES / f"{name}.json").read_text(encoding="utf-8"))
        change(data)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{name}.json"
            path.write_text(json.dumps(data), encoding="utf-8")
            project = load_project(path)
    init = None
    if name in PRETRAINED and change is None:
        source = PRETRAINED[name]
        if source not in _CHECKPOINTS:
            bench_one(source)
        init = _CHECKPOINTS[source]
    out = None
    if name in PRETRAINED.values() and change is None:
        out = Path(_KEEP.name) / name
        _CHECKPOINTS[name] = out / "last.pt"
    trainer = Trainer.from_project(project, out_dir=out, init_weights=init)
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
    label = f"{name} ({variant})" if variant else name
    if init is not None:
        label += f" (pretrained: {PRETRAINED[name]})"
    return {"template": label, "dataset": dataset_text(project.training["dataset"]),
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
    # a variant's row right under its template's, so the two read side by side
    jobs = [job for n in names for job in [(n, None, None)] + [(n, v, c) for v, c in
                                                                VARIANTS.get(n, [])]]
    for name, variant, change in jobs:
        row = bench_one(name, variant, change)
        print(f"{row['template']}: {row['reached']} in {row['time']}", file=sys.stderr,
              flush=True)
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
