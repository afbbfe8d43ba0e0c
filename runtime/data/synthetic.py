"""Generated built-in datasets: 2-D toy problems, a sine, and sequence tasks.

Every generator draws only from the ``numpy.random.Generator`` it is given,
so a seed fixes the data exactly (and does not depend on the scikit-learn
version).  Each returns ``(X, y)``; shapes and dtypes are those listed in
:mod:`runtime.data.catalog`.
"""

from __future__ import annotations

import numpy as np

F32 = np.float32


def _shuffle(rng: np.random.Generator, X: np.ndarray, y: np.ndarray):
    order = rng.permutation(len(X))
    return X[order], y[order]


def _per_class(n: int, k: int) -> list[int]:
    """``n`` samples shared out as evenly as possible over ``k`` classes."""
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def spirals(rng, n: int, noise: float = 0.05, classes: int = 2):
    """``classes`` arms of a spiral (1.75 turns each), one class per arm."""
    xs, ys = [], []
    for k, m in enumerate(_per_class(n, classes)):
        t = np.sqrt(rng.uniform(0.02, 1.0, m))  # sqrt: even density along the arm
        theta = 3.5 * np.pi * t + 2 * np.pi * k / classes
        pts = np.stack([t * np.cos(theta), t * np.sin(theta)], axis=1)
        xs.append(pts + rng.normal(0, noise, pts.shape))
        ys.append(np.full(m, k))
    return _shuffle(rng, np.concatenate(xs).astype(F32), np.concatenate(ys).astype(np.int64))


def moons(rng, n: int, noise: float = 0.1):
    """Two interleaving half circles (as scikit-learn's ``make_moons``)."""
    a, b = _per_class(n, 2)
    ta, tb = rng.uniform(0, np.pi, a), rng.uniform(0, np.pi, b)
    upper = np.stack([np.cos(ta), np.sin(ta)], axis=1)
    lower = np.stack([1 - np.cos(tb), 0.5 - np.sin(tb)], axis=1)
    X = np.concatenate([upper, lower])
    X = X + rng.normal(0, noise, X.shape)
    y = np.repeat([0, 1], [a, b])
    return _shuffle(rng, X.astype(F32), y.astype(np.int64))


def circles(rng, n: int, noise: float = 0.05):
    """A circle of radius 0.5 (class 1) inside one of radius 1 (class 0)."""
    a, b = _per_class(n, 2)
    t = rng.uniform(0, 2 * np.pi, a + b)
    r = np.repeat([1.0, 0.5], [a, b])
    X = np.stack([r * np.cos(t), r * np.sin(t)], axis=1)
    X = X + rng.normal(0, noise, X.shape)
    y = np.repeat([0, 1], [a, b])
    return _shuffle(rng, X.astype(F32), y.astype(np.int64))


def xor(rng, n: int, noise: float = 0.05):
    """Points in [-1, 1]², class 1 when both coordinates have the same sign.

    Points are kept a little away from the axes so that the jitter added
    afterwards rarely moves a point across the boundary.
    """
    X = rng.uniform(0.05, 1.0, (n, 2)) * rng.choice([-1.0, 1.0], (n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    X = X + rng.normal(0, noise, X.shape)
    return X.astype(F32), y


def sine(rng, n: int, noise: float = 0.05):
    """``y = sin(x) + noise`` for ``x`` uniform in [-π, π]; X and y are ``(n, 1)``."""
    x = rng.uniform(-np.pi, np.pi, (n, 1))
    y = np.sin(x) + rng.normal(0, noise, x.shape)
    return x.astype(F32), y.astype(F32)


def adding(rng, n: int, seq_len: int = 50):
    """The adding problem (Hochreiter & Schmidhuber, 1997).

    Each step is ``(value, marker)`` with values uniform in [0, 1]; exactly two
    markers are 1, one in each half of the sequence; the target is the sum of
    the two marked values, shape ``(n, 1)``.
    """
    T = seq_len
    values = rng.uniform(0, 1, (n, T))
    half = T // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, T, n)
    marker = np.zeros((n, T))
    rows = np.arange(n)
    marker[rows, first] = 1
    marker[rows, second] = 1
    X = np.stack([values, marker], axis=2)
    y = values[rows, first] + values[rows, second]
    return X.astype(F32), y.reshape(n, 1).astype(F32)


def majority_token(rng, n: int, seq_len: int = 20, vocab: int = 8):
    """Random tokens with one token planted a few extra times; y is the most
    frequent token, ties going to the smallest token id (``argmax`` of the counts)."""
    X = rng.integers(0, vocab, (n, seq_len))
    planted = rng.integers(0, vocab, n)
    k = max(1, seq_len // 4)
    for i in range(n):
        X[i, rng.choice(seq_len, k, replace=False)] = planted[i]
    counts = np.zeros((n, vocab), dtype=np.int64)
    np.add.at(counts, (np.repeat(np.arange(n), seq_len), X.reshape(-1)), 1)
    y = counts.argmax(axis=1)
    return X.astype(np.int64), y.astype(np.int64)


def next_token(rng, n: int, seq_len: int = 16, vocab: int = 8):
    """Sequences of ``seq_len + 1`` tokens, each following one hidden rule:

    * half repeat a random pattern of period 2, 3 or 4 (the model must
      remember the pattern once it has seen it), and
    * half count by a random step ``d`` from a random start, mod ``vocab``
      (it must infer ``d`` from two tokens).

    X is the sequence without its last token, y without its first: the target
    at every step is the next token, shape ``(n, seq_len)``.
    """
    L = seq_len + 1
    pos = np.arange(L)
    seqs = np.empty((n, L), dtype=np.int64)
    periodic = rng.random(n) < 0.5
    for i in range(n):
        if periodic[i]:
            p = int(rng.integers(2, 5))
            pattern = rng.integers(0, vocab, p)
            seqs[i] = pattern[pos % p]
        else:
            start, step = rng.integers(0, vocab), rng.integers(1, vocab)
            seqs[i] = (start + step * pos) % vocab
    return seqs[:, :-1].copy(), seqs[:, 1:].copy()


def reverse(rng, n: int, seq_len: int = 8, vocab: int = 10):
    """A sequence-to-sequence task: reverse ``seq_len`` random digits.

    Digits ``0..vocab-1`` are token ids ``1..vocab``; id 0 is the start
    token.  Returns ``({"src": ..., "tgt": ...}, y)``, all int64 ``(n,
    seq_len)``: ``src`` the digits, ``y`` them reversed, and ``tgt`` ``y``
    shifted right one step behind the start token, so that a decoder trained
    with teacher forcing sees at step t the true tokens before t.
    """
    src = rng.integers(1, vocab + 1, (n, seq_len)).astype(np.int64)
    y = src[:, ::-1].copy()
    tgt = np.concatenate([np.zeros((n, 1), dtype=np.int64), y[:, :-1]], axis=1)
    return {"src": src, "tgt": tgt}, y


#: Tokens of the pattern sets (ids 1..PATTERN_VOCAB; id 0 is the [MASK] token, so an
#: Embedding of PATTERN_VOCAB + 1 rows reads both sets: the pretrained one and the labelled).
PATTERN_VOCAB = 16
#: What a target of the masked-token set holds where nothing was masked: the
#: default ignore_index of torch's CrossEntropyLoss (those positions are not scored).
IGNORE = -100


def _patterned(rng, n: int, seq_len: int, noise: float):
    """Token sequences (ids 1..PATTERN_VOCAB) that each repeat a pattern of
    period 2, 3 or 4 made of distinct tokens, a share ``noise`` of positions
    replaced by random tokens.  Returns the sequences and their periods."""
    periods = rng.integers(2, 5, n)
    # 4 distinct tokens per row (a pattern with a repeat would hide its period)
    patterns = np.argsort(rng.random((n, PATTERN_VOCAB)), axis=1)[:, :4] + 1
    pos = np.arange(seq_len)
    seqs = patterns[np.arange(n)[:, None], pos[None, :] % periods[:, None]]
    noisy = rng.random((n, seq_len)) < noise
    seqs = np.where(noisy, rng.integers(1, PATTERN_VOCAB + 1, (n, seq_len)), seqs)
    return seqs.astype(np.int64), periods


def masked_tokens(rng, n: int, seq_len: int = 24, mask_rate: float = 0.2, noise: float = 0.1):
    """Masked-token pretraining (BERT style) on unlabelled pattern sequences
    (:func:`_patterned`): a share ``mask_rate`` of the tokens (at least one per
    sequence) is replaced by the [MASK] id 0; the target is the original token
    at each masked position and :data:`IGNORE` elsewhere, shape ``(n, seq_len)``."""
    seqs, _ = _patterned(rng, n, seq_len, noise)
    masked = rng.random((n, seq_len)) < mask_rate
    masked[np.arange(n), rng.integers(0, seq_len, n)] = True
    X = np.where(masked, 0, seqs)
    y = np.where(masked, seqs, IGNORE)
    return X.astype(np.int64), y.astype(np.int64)


def token_period(rng, n: int, seq_len: int = 24, noise: float = 0.1):
    """The labelled task on the masked-token set's sequences: the class is the
    pattern's period (0: period 2, 1: period 3, 2: period 4)."""
    seqs, periods = _patterned(rng, n, seq_len, noise)
    return seqs, (periods - 2).astype(np.int64)


#: The sets with one array per Input (``X_<input id>``); each returns
#: ``({input id: X}, y)``.
NODE_GENERATORS = {"reverse": reverse}

GENERATORS = {"spirals": spirals, "moons": moons, "circles": circles, "xor": xor,
              "sine": sine, "adding": adding, "majority_token": majority_token,
              "next_token": next_token, "masked_tokens": masked_tokens,
              "token_period": token_period}
