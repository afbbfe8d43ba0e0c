"""Memory estimate before training."""

import pytest

from graph import analyze
from runtime.memory import estimate
from support import chain


def _totals():
    g = chain(("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}), "ReLU",
              "Flatten", ("Linear", {"out_features": 10}))
    return analyze(g).totals()


def test_adam_keeps_two_moments_and_sgd_none():
    t = _totals()
    adam = estimate(t["params"], t["activations"], 64, {"type": "Adam"})
    sgd = estimate(t["params"], t["activations"], 64, {"type": "SGD"})
    assert adam.optimizer == 2 * adam.params and sgd.optimizer == 0
    assert adam.total - sgd.total == 2 * adam.params


def test_activations_grow_with_batch_and_halve_with_amp():
    t = _totals()
    a = estimate(t["params"], t["activations"], 32)
    b = estimate(t["params"], t["activations"], 64)
    c = estimate(t["params"], t["activations"], 64, amp=True)
    assert b.activations == 2 * a.activations == 2 * c.activations > 0


def test_largest_batch_size_that_fits_is_consistent():
    t = _totals()
    small = estimate(t["params"], t["activations"], 64, available=4 * 2**20)
    assert small.max_batch_size is not None
    at_max = estimate(t["params"], t["activations"], small.max_batch_size, available=4 * 2**20)
    over = estimate(t["params"], t["activations"], small.max_batch_size + 1, available=4 * 2**20)
    assert at_max.fits and not over.fits


def test_description_names_the_parts_and_the_limit():
    text = estimate(1_000_000, 10_000, 128, available=2**30).describe()
    assert "weights 3.8 MB" in text and "of 1.0 GB available" in text
    assert "largest batch size that fits is about" in text


@pytest.mark.parametrize("opt,state", [({"type": "SGD", "momentum": 0.9}, 1),
                                       ({"type": "RMSprop", "centered": True}, 2),
                                       ({"type": "Adam", "amsgrad": True}, 3)])
def test_optimizer_options_change_state(opt, state):
    e = estimate(100, 0, 1, opt)
    assert e.optimizer == state * e.params
