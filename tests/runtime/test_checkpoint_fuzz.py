"""Mutated checkpoints (``quality.md`` R9): a real checkpoint, changed at random places.

Hypothesis draws a seed; a small generator turns it into one to three changes
of a real checkpoint (stopped inside an epoch and a gradient accumulation, so
every field is there): a key dropped, a value replaced by one of another type,
a tensor of another shape or dtype, a number changed.  The file is then
resumed from (and, for some seeds, used with ``init_weights``).

Only :class:`~runtime.errors.CheckpointError` may escape ``prepare``, its
message free of torch's ``weights_only`` advice; a checkpoint that is accepted
must train to the end of the run without a fault other than a non-finite loss
(a changed learning rate may make one): no garbage is let through to fail
inside training.  Drawing a seed keeps each example cheap.
"""

from __future__ import annotations

import copy
import random

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime import Trainer
from runtime.checkpoint import load_checkpoint
from runtime.errors import CheckpointError
from support import StopAtStep, blobs, chain

#: Two epochs: the rest of epoch 2 (three steps) is all a resumed run trains.
TRAINING = {"epochs": 2, "batch_size": 16, "seed": 3, "grad_accum_steps": 4,
            "optimizer": {"type": "AdamW", "lr": 0.01},
            "scheduler": {"type": "OneCycleLR", "max_lr": 0.05}}
WRONG = ["one", "", -5, 0, 1.5, -0.0, float("nan"), float("inf"), None, True, [], {},
         [1, "x"], {"a": 1}, 2 ** 70, "x" * 100]
DTYPES = [torch.int64, torch.float64, torch.float16, torch.uint8, torch.bool, torch.complex64]


def net():
    return chain(("Linear", {"out_features": 8}), ("BatchNorm1d", {}), "ReLU",
                 ("Linear", {"out_features": 2}), input_shape=(2,))


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    stopper = StopAtStep(9)
    t = Trainer(net(), TRAINING, dataset=blobs(), out_dir=folder, callbacks=[stopper],
                report_every=0)
    stopper.trainer = t
    assert t.run().stopped == "stopped"
    ck = load_checkpoint(folder / "last.pt")
    assert ck["partial"] and ck["grads"] and ck["epoch_state"]
    # unchanged, it is resumed and trains to the end: the refusals below are the changes'
    whole = Trainer(net(), TRAINING, dataset=blobs(), report_every=0,
                    resume=folder / "last.pt").run()
    assert whole.stopped == "completed" and whole.epochs == 2, whole.fault
    return folder, ck


def places(obj, at=()):
    """Every path into the checkpoint (the project document is left whole: never read)."""
    yield at
    if isinstance(obj, dict):
        for k, v in obj.items():
            if at == () and k in ("project", "training"):
                yield (k,)
                continue
            yield from places(v, at + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from places(v, at + (i,))


def other_value(rng: random.Random, v):
    r = rng.random()
    if isinstance(v, torch.Tensor) and r < 0.6:
        if r < 0.2 and v.numel():
            return v.to(rng.choice(DTYPES))
        if r < 0.4:
            shape = [rng.randint(0, 5) for _ in range(rng.randint(0, 3))]
            return torch.zeros(shape, dtype=v.dtype)
        return v.flatten()[: max(0, v.numel() - 1)] if v.numel() else v.reshape(1, -1)
    if isinstance(v, bool) and r < 0.5:
        return not v
    if isinstance(v, int) and r < 0.6:
        return rng.choice([v + 1, v - 1, -v, 0, 10 ** 6])
    if isinstance(v, float) and r < 0.6:
        return rng.choice([v * 10, -v, 0.0, 1e300, float("nan")])
    if isinstance(v, list) and v and r < 0.5:
        return v[: rng.randrange(len(v))] if rng.random() < 0.5 else v + v[:1]
    return rng.choice(WRONG)


def mutate(ck: dict, seed: int) -> dict:
    rng = random.Random(seed)
    doc = copy.deepcopy(ck)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice([p for p in places(doc) if p])
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        key = path[-1]
        if rng.random() < 0.25:
            del parent[key]
        else:
            parent[key] = other_value(rng, parent[key])
    return doc


@settings(max_examples=1000, deadline=None)
@given(st.integers(0, 2 ** 32 - 1))
def test_a_mutated_checkpoint_is_refused_by_name_or_trains(base, seed):
    folder, ck = base
    path = folder / "mutant.pt"
    torch.save(mutate(ck, seed), path)
    init = seed % 5 == 0  # some seeds start a new run from the weights instead
    kwargs = {"init_weights": path} if init else {"resume": path}
    t = Trainer(net(), TRAINING, dataset=blobs(), report_every=0, **kwargs)
    try:
        t.prepare()
    except CheckpointError as exc:
        message = str(exc)
        assert str(path) in message and "weights_only" not in message, message
        return
    result = t.run()
    assert result.fault is None or result.fault.kind == "nan", result.fault
    assert result.stopped in ("completed", "error")
