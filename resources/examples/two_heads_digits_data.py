"""Writes ``two_heads_digits.npz``, the data of ``two_heads_digits.json``.

1,200 of scikit-learn's 8×8 handwritten digits with four made-up measurements
each: arrays ``X_img`` (1×8×8 pixel values 0–16, uint8), ``X_meta`` (4 values
drawn from a standard normal), ``y_digit`` (the digit, a class) and
``y_score`` (a number computed from the measurements and the digit, plus
noise of σ = 0.05). Names follow project-format.md, "Several inputs and
outputs in training": ``X_<input id>`` and ``y_<output id>``.

Usage: ``python resources/examples/two_heads_digits_data.py`` (needs numpy
and scikit-learn; seed 0 writes the same file every time).
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits


def make(seed: int = 0, n: int = 1200) -> dict:
    """The arrays by name."""
    d = load_digits()
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(d.target))[:n]
    digit = d.target[idx].astype(np.int64)
    meta = rng.normal(0, 1, (n, 4)).astype(np.float32)
    # a product of two measurements: the regression head needs a hidden layer
    score = (meta[:, 0] - 0.5 * meta[:, 1] + 0.5 * meta[:, 2] * meta[:, 3] + 0.1 * digit
             + rng.normal(0, 0.05, n))
    return {"X_img": d.images[idx].astype(np.uint8).reshape(n, 1, 8, 8), "X_meta": meta,
            "y_digit": digit, "y_score": score.astype(np.float32).reshape(n, 1)}


if __name__ == "__main__":
    out = Path(__file__).with_name("two_heads_digits.npz")
    np.savez_compressed(out, **make())
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")
