"""The pretraining pair of built-in sets (issue 17 item 3): ``masked_tokens``
(unlabelled sequences, some tokens masked, targets only at the masked
positions) and ``token_period`` (a small labelled set on the same sequences)."""

from __future__ import annotations

import numpy as np

from runtime.data import builtin
from runtime.engine import Trainer
from support import chain


def test_masked_tokens_targets_the_original_token_only_where_masked():
    ds = builtin("masked_tokens", n=500, seed=1)
    X, y = ds.X_train, ds.y_train
    assert X.dtype == np.int64 and X.shape == y.shape == (400, 24)
    masked = X == 0
    assert masked.any(axis=1).all()  # at least one [MASK] per sequence
    assert 0.15 < masked.mean() < 0.3  # mask_rate 0.2 (plus the one forced per row)
    assert (y[~masked] == -100).all()  # CrossEntropyLoss's ignore_index
    assert ((y[masked] >= 1) & (y[masked] <= 16)).all()
    assert ds.num_classes == 17 and ds.class_names[0] == "[MASK]"
    again = builtin("masked_tokens", n=500, seed=1)
    assert np.array_equal(again.X_train, X) and np.array_equal(again.y_train, y)


def test_token_period_labels_the_period_of_the_same_sequences():
    ds = builtin("token_period", seed=0, noise=0.0)
    assert len(ds.X_train) + len(ds.X_val) == 400 and ds.num_classes == 3
    for x, label in zip(ds.X_train[:50], ds.y_train[:50]):
        p = int(label) + 2
        assert (x[p:] == x[:-p]).all() and not (x[1:] == x[:-1]).all()
        assert 1 <= x.min() and x.max() <= 16  # never the [MASK] id


def test_training_on_masked_tokens_scores_only_the_masked_positions():
    g = chain(("Embedding", {"num_embeddings": 17, "embedding_dim": 8}),
              ("Linear", {"out_features": 17}), input_shape=(24,), dtype="int64")
    tr = Trainer(g, {"dataset": {"name": "masked_tokens", "n": 200}, "epochs": 1,
                     "batch_size": 32, "loss": {"type": "CrossEntropyLoss"}})
    result = tr.run()
    assert result.fault is None
    m = result.metrics
    assert 0.0 <= m["val_accuracy"] <= 1.0 and 0.0 <= m["train_accuracy"] <= 1.0
    # the confusion counts only masked positions: about a fifth of 40 × 24
    total = sum(map(sum, result.metrics.get("confusion", [[0]]))) if "confusion" in m else None
    if total is not None:
        assert 40 <= total <= 40 * 24 * 0.4
