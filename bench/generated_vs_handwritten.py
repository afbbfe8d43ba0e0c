"""B1: generated models vs the same models written by hand, forward+backward samples/s.

For an MLP, a CNN, an LSTM and a Transformer encoder: the graph's model (built
from the generated source) and a hand-written ``nn.Module`` with the same
weights run interleaved in one process.  The machines this runs on are shared
and noisy (the noise comes and goes within seconds), so:

* each timed round runs enough steps to last about ``--seconds`` (calibrated
  per model, on the hand-written one), not a few milliseconds;
* rounds alternate the order (generated first, then hand-written first);
* the verdict is the median over rounds of the paired ratio (hand-written
  time / generated time of the same round: interference hits both alike);
  the best-round ratio (each one's fastest round) is printed too;
* CPU work runs on one thread (``--threads``): both models run the same
  kernels, so what differs is the Python around them, and a thread pool on a
  shared machine adds far more noise than that.

Prints one line per model, e.g.
``generated_vs_handwritten mlp fwd+bwd ratio 1.01 (>= 0.98 ok; best rounds 1.00)``.

Usage: ``python bench/generated_vs_handwritten.py [--rounds 21] [--seconds 0.15] [--device cpu]
[--threads 1]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codegen import build_model  # noqa: E402
from graph import Graph  # noqa: E402

BAR = 0.98


def chain(input_shape, *layers) -> Graph:
    g = Graph()
    prev = g.add_node("Input", {"shape": list(input_shape)}).id
    for t, p in layers:
        nid = g.add_node(t, p).id
        g.connect(prev, nid)
        prev = nid
    g.connect(prev, g.add_node("Output").id)
    return g


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(64, 256), nn.Linear(256, 256), nn.Linear(256, 10)

    def forward(self, x):
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 16, 3, padding=1), nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 4 * 4, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.c1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.c2(x)), 2)
        return self.fc(x.flatten(1))


class LSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm, self.fc = nn.LSTM(16, 64, batch_first=True), nn.Linear(64, 10)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.fc(h[-1])


class Transformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.TransformerEncoderLayer(32, 4, dim_feedforward=64, dropout=0.0,
                                              batch_first=True)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc(self.enc(x).mean(dim=1))


CASES = {
    "mlp": ((64,), [("Linear", {"out_features": 256}), ("ReLU", {}), ("Linear", {"out_features": 256}),
                    ("ReLU", {}), ("Linear", {"out_features": 10})], MLP, 256),
    "cnn": ((1, 16, 16), [("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}), ("ReLU", {}),
                          ("MaxPool2d", {"kernel_size": 2}),
                          ("Conv2d", {"out_channels": 32, "kernel_size": 3, "padding": 1}), ("ReLU", {}),
                          ("MaxPool2d", {"kernel_size": 2}), ("Flatten", {}),
                          ("Linear", {"out_features": 10})], CNN, 64),
    "lstm": ((20, 16), [("LSTM", {"hidden_size": 64, "return_sequences": False}),
                        ("Linear", {"out_features": 10})], LSTM, 64),
    "transformer": ((16, 32), [("TransformerEncoderLayer", {"nhead": 4, "dim_feedforward": 64,
                                                            "dropout": 0.0}),
                               ("Mean", {"dim": 1}), ("Linear", {"out_features": 10})],
                    Transformer, 64),
}


def step_time(model, x, y, steps: int) -> float:
    loss_fn = nn.CrossEntropyLoss()
    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)
    sync()
    t = time.perf_counter()
    for _ in range(steps):
        model.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
    sync()
    return (time.perf_counter() - t) / steps


def calibrate(model, x, y, seconds: float) -> int:
    """Steps for which one timed round of ``model`` lasts about ``seconds``."""
    steps = 1
    while True:
        t = step_time(model, x, y, steps) * steps
        if t >= seconds / 4 or steps >= 1 << 16:
            return max(1, round(steps * seconds / t))
        steps *= 2


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--seconds", type=float, default=0.15, help="length of one timed round")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1,
                    help="CPU threads (default 1: on a shared machine a pool of threads "
                         "waits for its slowest one, which swamps the difference measured)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for name, (shape, layers, hand_cls, batch) in CASES.items():
        gen, _ = build_model(chain(shape, *layers), name)
        hand = hand_cls()
        # same weights: parameters are created in the same order with the same shapes
        hand.load_state_dict(dict(zip(hand.state_dict(), gen.state_dict().values())))
        gen, hand = gen.to(args.device).train(), hand.to(args.device).train()
        x = torch.randn(batch, *shape, device=args.device)
        y = torch.randint(0, 10, (batch,), device=args.device)
        with torch.no_grad():
            assert torch.allclose(gen(x), hand(x), atol=1e-5), f"{name}: models differ"
        for m in (gen, hand):
            step_time(m, x, y, 5)  # warm-up
        steps = calibrate(hand, x, y, args.seconds)
        times = {"gen": [], "hand": []}
        for r in range(args.rounds):
            order = ("gen", "hand") if r % 2 == 0 else ("hand", "gen")
            for who in order:
                times[who].append(step_time(gen if who == "gen" else hand, x, y, steps))
        paired = [h / g for h, g in zip(times["hand"], times["gen"])]
        ratio = statistics.median(paired)
        best = min(times["hand"]) / min(times["gen"])
        verdict = "ok" if ratio >= BAR else "LOW"
        print(f"generated_vs_handwritten {name} fwd+bwd ratio {ratio:.2f} (>= {BAR} {verdict}; "
              f"best rounds {best:.2f}; {args.rounds} rounds of {steps} steps)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
