"""Data augmentation: what it costs and what it buys, on the LeNet digits template.

Cost (``quality.md``-style ratio): the training time of an epoch with
``training.augment`` against the same epoch without it, same seed, data and
model, on one device (the best of several interleaved runs, so a busy
machine's noise does not count against either side).  The bar: at most 10 %
more.

Effect: the LeNet template trained on 20 % of digits (``val_fraction`` 0.8:
360 training images, 1,437 validation images) with and without augmentation,
mean validation accuracy over a few seeds — the numbers in the README.

    python bench/augment.py [--device cpu] [--repeats 3] [--epochs 40] [--seeds 3]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graph.project import load_project  # noqa: E402
from runtime.engine import Trainer  # noqa: E402

#: The augmentation of the comparison: small moves that keep a digit a digit
#: (no flip: a mirrored 2 or 7 is no digit).
#: Tuned on 20 % of digits: on 8×8 images a 1-pixel shift or noise cost accuracy.
AUGMENT = {"rotate": 10, "scale": [0.9, 1.1]}


def lenet():
    return load_project(ROOT / "resources" / "templates" / "lenet_digits.json")


def train(project, training: dict):
    t = copy.deepcopy(project.training)
    t.update(training)
    return Trainer(project.graph, t, name=project.name, report_every=1.0).run()


def epoch_seconds(result) -> float:
    """Training seconds per epoch (validation excluded), the run's fastest epoch
    after the first (warm-up)."""
    secs = [row["seconds"] for row in result.history]
    return min(secs[1:] or secs)


def cost(device: str, repeats: int) -> float:
    project = lenet()
    base = {"epochs": 4, "device": device, "seed": 0}
    plain, aug = [], []
    for _ in range(repeats):  # interleaved: both sides see the same machine load
        plain.append(epoch_seconds(train(project, {**base, "augment": None})))
        aug.append(epoch_seconds(train(project, {**base, "augment": AUGMENT})))
    ratio = min(aug) / min(plain)
    ok = "ok" if ratio <= 1.10 else "OVER THE BAR"
    print(f"augment lenet_digits epoch time ratio {ratio:.3f} (<= 1.10 {ok}; "
          f"{min(aug) * 1000:.0f} ms vs {min(plain) * 1000:.0f} ms on {device})", flush=True)
    return ratio


def effect(device: str, epochs: int, seeds: int) -> None:
    project = lenet()
    small = {"dataset": {"name": "digits", "val_fraction": 0.8}, "epochs": epochs,
             "device": device}
    scores = {}
    for label, augment in (("without augmentation", None), ("with augmentation", AUGMENT)):
        accs = [train(project, {**small, "seed": s, "augment": augment})
                .metrics["val_accuracy"] for s in range(seeds)]
        scores[label] = accs
        each = ", ".join(f"{100 * a:.1f}" for a in accs)
        print(f"augment lenet_digits 20% of digits {label}: val accuracy "
              f"{100 * statistics.mean(accs):.1f}% (seeds {each})", flush=True)
    gain = statistics.mean(scores["with augmentation"]) - \
        statistics.mean(scores["without augmentation"])
    print(f"augment lenet_digits 20% of digits gain {100 * gain:+.1f} points "
          f"(augment = {AUGMENT}, {epochs} epochs)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--skip-effect", action="store_true")
    args = ap.parse_args()
    cost(args.device, args.repeats)
    if not args.skip_effect:
        effect(args.device, args.epochs, args.seeds)


if __name__ == "__main__":
    main()
