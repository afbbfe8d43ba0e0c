"""B2: the training engine against a minimal hand-written loop.

Same model (built from the same graph), same data, optimizer and batch size;
the contestants alternate in one process, and each one's best round counts
(the machines are shared and noisy: interference only slows a contestant).

CPU: training samples/s of the engine (its per-epoch training time, so
validation is not counted) / a hand-written ``randperm`` + index loop; the bar
is 0.95.  CUDA (skipped without a GPU): the engine (data on the device, no
per-step sync, optional AMP) / a plain ``DataLoader`` loop over CPU tensors;
the bar is 1.5.

Usage: ``python bench/engine_vs_handwritten.py [--rounds 7] [--epochs 3]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from graph import Graph  # noqa: E402
from runtime.engine import Trainer  # noqa: E402


def mlp_graph(width: int = 128) -> Graph:
    g = Graph()
    prev = g.add_node("Input", {"shape": [1, 8, 8]}, id="x").id
    for k, (t, p) in enumerate([("Flatten", {}), ("Linear", {"out_features": width}),
                                ("ReLU", {}), ("Linear", {"out_features": width}), ("ReLU", {}),
                                ("Linear", {"out_features": 10})]):
        nid = g.add_node(t, p, id=f"l{k}").id
        g.connect(prev, nid)
        prev = nid
    g.connect(prev, g.add_node("Output", id="y").id)
    return g


TRAINING = {"dataset": {"name": "digits"}, "optimizer": {"type": "Adam", "lr": 1e-3},
            "batch_size": 64, "seed": 0}


def engine_rate(g: Graph, dataset, epochs: int, device: str, extra: dict | None = None) -> float:
    t = Trainer(g, {**TRAINING, "epochs": epochs, "device": device, **(extra or {})},
                dataset=dataset)
    r = t.run()
    return sum(len(dataset.X_train) for _ in r.history) / sum(h["seconds"] for h in r.history)


def handwritten_rate(g: Graph, dataset, epochs: int, device: str) -> float:
    from codegen import build_model

    dev = torch.device(device)
    torch.manual_seed(0)
    model, _ = build_model(g, "Bench")
    model.to(dev).train()
    X = torch.as_tensor(dataset.X_train, device=dev)
    Y = torch.as_tensor(dataset.y_train, device=dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    B = TRAINING["batch_size"]
    seconds = 0.0
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(len(X), device=dev)
        for i in range(0, len(X), B):
            idx = perm[i:i + B]
            opt.zero_grad()
            loss = loss_fn(model(X[idx]), Y[idx])
            loss.backward()
            opt.step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        seconds += time.perf_counter() - t0
    return epochs * len(X) / seconds


def dataloader_rate(g: Graph, dataset, epochs: int) -> float:
    from torch.utils.data import DataLoader, TensorDataset

    from codegen import build_model

    dev = torch.device("cuda")
    torch.manual_seed(0)
    model, _ = build_model(g, "Bench")
    model.to(dev).train()
    ds = TensorDataset(torch.as_tensor(dataset.X_train), torch.as_tensor(dataset.y_train))
    dl = DataLoader(ds, batch_size=TRAINING["batch_size"], shuffle=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    for _ in range(epochs):
        for xb, yb in dl:
            xb, yb = xb.to(dev), yb.to(dev)
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            loss.item()  # what a plain loop does to log its loss
    torch.cuda.synchronize()
    return epochs * len(dataset.X_train) / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    from runtime.data import load_dataset

    ds = load_dataset({"name": "digits"})
    g = mlp_graph()
    engine_rate(g, ds, 1, "cpu")  # warm-up
    handwritten_rate(g, ds, 1, "cpu")
    engs, hands = [], []
    for r in range(args.rounds):
        if r % 2:
            hands.append(handwritten_rate(g, ds, args.epochs, "cpu"))
            engs.append(engine_rate(g, ds, args.epochs, "cpu"))
        else:
            engs.append(engine_rate(g, ds, args.epochs, "cpu"))
            hands.append(handwritten_rate(g, ds, args.epochs, "cpu"))
    # Other processes only ever slow a contestant down, so each one's best
    # round is its least disturbed; the median ratio is printed alongside.
    ratio = max(engs) / max(hands)
    median = statistics.median(e / h for e, h in zip(engs, hands))
    print(f"engine_vs_handwritten cpu mlp ratio {ratio:.2f} "
          f"({'>= 0.95 ok' if ratio >= 0.95 else 'below 0.95 FAIL'}; "
          f"median of paired rounds {median:.2f})")
    if not torch.cuda.is_available():
        print("engine_vs_handwritten cuda mlp skipped (no CUDA GPU)")
        return 0 if ratio >= 0.95 else 1
    torch.set_num_threads(os.cpu_count() or 1)
    engine_rate(g, ds, 1, "cuda")
    dataloader_rate(g, ds, 1)
    engs, dls = [], []
    for r in range(args.rounds):
        engs.append(engine_rate(g, ds, args.epochs, "cuda"))
        dls.append(dataloader_rate(g, ds, args.epochs))
    cratio = max(engs) / max(dls)
    print(f"engine_vs_dataloader cuda mlp ratio {cratio:.2f} "
          f"({'>= 1.5 ok' if cratio >= 1.5 else 'below 1.5 FAIL'})")
    return 0 if ratio >= 0.95 and cratio >= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
