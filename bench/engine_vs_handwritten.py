"""B2: the training engine against a minimal hand-written loop.

Same model (built from the same graph), same data (digits), optimizer (Adam)
and batch size (64).  The machines this runs on are shared and noisy, and
the noise comes and goes within seconds, so the two contestants are
interleaved *epoch by epoch* in one process: a hand-written epoch runs from
the engine's callbacks, outside the engine's timed region, alternately
before and after each engine epoch (rounds alternate ABAB and BABA).  Each
contestant's time is its own per-epoch training time (the engine's
``seconds``, so validation is not counted; the hand-written epoch timed the
same way).

The engine keeps its features on: the NaN check of every step's loss on CPU,
the running training accuracy, per-node gradient norms each epoch, and a
stop/pause check before each batch.

Printed: the median over paired epochs of (engine samples/s / hand-written
samples/s) — the verdict, as interference hits both sides of a pair alike —
and the best-round ratio (each one's fastest round: interference only slows
a contestant).  A round lasts about ``--seconds`` (epochs calibrated once, at
least 8, unless ``--epochs`` is given).

CPU: the bar is 0.95.  CUDA (skipped without a GPU): the engine (data on the
device, no per-step sync) / a plain ``DataLoader`` loop over CPU tensors in
alternating rounds; the bar is 1.5.

Usage: ``python bench/engine_vs_handwritten.py [--rounds 12] [--seconds 0.4] [--epochs N]``
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


class HandWritten:
    """The minimal loop: data as tensors on the device, ``randperm`` + index, Adam."""

    def __init__(self, g: Graph, dataset, device: str):
        from codegen import build_model

        self.dev = torch.device(device)
        torch.manual_seed(0)
        self.model, _ = build_model(g, "Bench")
        self.model.to(self.dev).train()
        self.X = torch.as_tensor(dataset.X_train, device=self.dev)
        self.Y = torch.as_tensor(dataset.y_train, device=self.dev)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.seconds: list[float] = []

    def epoch(self) -> None:
        model, X, Y, opt, loss_fn = self.model, self.X, self.Y, self.opt, self.loss_fn
        B = TRAINING["batch_size"]
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(len(X), device=self.dev)
        for i in range(0, len(X), B):
            idx = perm[i:i + B]
            opt.zero_grad()
            loss = loss_fn(model(X[idx]), Y[idx])
            loss.backward()
            opt.step()
        if self.dev.type == "cuda":
            torch.cuda.synchronize()
        self.seconds.append(time.perf_counter() - t0)


class Interleave:
    """Engine callbacks that run one hand-written epoch per engine epoch."""

    def __init__(self, hand: HandWritten, epochs: int, hand_first: bool):
        self.hand, self.epochs, self.hand_first = hand, epochs, hand_first

    def on_run_start(self, info) -> None:
        if self.hand_first:
            self.hand.epoch()

    def on_epoch_end(self, m) -> None:
        if not self.hand_first or m["epoch"] < self.epochs:
            self.hand.epoch()


def paired_round(g: Graph, dataset, epochs: int, device: str, hand_first: bool):
    """(engine epoch seconds, hand-written epoch seconds), interleaved."""
    hand = HandWritten(g, dataset, device)
    r = Trainer(g, {**TRAINING, "epochs": epochs, "device": device}, dataset=dataset,
                callbacks=[Interleave(hand, epochs, hand_first)]).run()
    return [h["seconds"] for h in r.history], hand.seconds


def engine_rate(g: Graph, dataset, epochs: int, device: str) -> float:
    r = Trainer(g, {**TRAINING, "epochs": epochs, "device": device}, dataset=dataset).run()
    return len(r.history) * len(dataset.X_train) / sum(h["seconds"] for h in r.history)


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


def calibrate(g: Graph, dataset, device: str, seconds: float) -> int:
    """Epochs for which one contestant's share of a round takes about ``seconds`` / 2
    (at least 8: a slow moment while calibrating must not make rounds tiny)."""
    hand = HandWritten(g, dataset, device)
    for _ in range(5):
        hand.epoch()
    return max(8, round(seconds / 2 / min(hand.seconds)))


def cpu_contest(g: Graph, dataset, rounds: int, epochs: int) -> tuple[float, float]:
    """(median paired-epoch ratio, best-round ratio) of engine / hand-written samples/s."""
    pairs, eng_rounds, hand_rounds = [], [], []
    for r in range(rounds):
        eng, hand = paired_round(g, dataset, epochs, "cpu", hand_first=bool(r % 2))
        pairs += [h / e for e, h in zip(eng, hand)]  # time ratio = rate ratio
        eng_rounds.append(sum(eng))
        hand_rounds.append(sum(hand))
    return statistics.median(pairs), min(hand_rounds) / min(eng_rounds)


def load() -> str:
    try:
        return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    except OSError:
        return "load unknown"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--seconds", type=float, default=0.4, help="length of a round")
    ap.add_argument("--epochs", type=int, help="epochs per round (default: calibrated)")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    from runtime.data import load_dataset

    ds = load_dataset({"name": "digits"})
    g = mlp_graph()
    paired_round(g, ds, 2, "cpu", False)  # warm-up
    epochs = args.epochs or calibrate(g, ds, "cpu", args.seconds)
    median, best = cpu_contest(g, ds, args.rounds, epochs)
    print(f"engine_vs_handwritten cpu mlp ratio {median:.2f} "
          f"({'>= 0.95 ok' if median >= 0.95 else 'below 0.95 FAIL'}; median of "
          f"{args.rounds * epochs} paired epochs; best-round ratio {best:.2f}; "
          f"{args.rounds} rounds of {epochs} epochs; {load()})")
    if not torch.cuda.is_available():
        print("engine_vs_dataloader cuda mlp skipped (no CUDA GPU)")
        return 0 if median >= 0.95 else 1
    torch.set_num_threads(os.cpu_count() or 1)
    engine_rate(g, ds, 1, "cuda")
    dataloader_rate(g, ds, 1)
    cepochs = args.epochs or calibrate(g, ds, "cuda", args.seconds)
    engs, dls = [], []
    for r in range(args.rounds):
        if r % 2:
            dls.append(dataloader_rate(g, ds, cepochs))
            engs.append(engine_rate(g, ds, cepochs, "cuda"))
        else:
            engs.append(engine_rate(g, ds, cepochs, "cuda"))
            dls.append(dataloader_rate(g, ds, cepochs))
    cratio = max(engs) / max(dls)
    cmedian = statistics.median(e / d for e, d in zip(engs, dls))
    print(f"engine_vs_dataloader cuda mlp ratio {cratio:.2f} "
          f"({'>= 1.5 ok' if cratio >= 1.5 else 'below 1.5 FAIL'}; median of paired rounds "
          f"{cmedian:.2f}; {args.rounds} rounds of {cepochs} epochs)")
    return 0 if median >= 0.95 and cratio >= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
