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
    # decimal units, as everywhere (graph.humanize): 4,000,000 bytes, 2**30 bytes
    assert "weights 4.0 MB" in text and "of 1.1 GB available" in text
    assert "largest batch size that fits is about" in text


@pytest.mark.parametrize("opt,state", [({"type": "SGD", "momentum": 0.9}, 1),
                                       ({"type": "RMSprop", "centered": True}, 2),
                                       ({"type": "Adam", "amsgrad": True}, 3)])
def test_optimizer_options_change_state(opt, state):
    e = estimate(100, 0, 1, opt)
    assert e.optimizer == state * e.params


# --------------------------------------------------------------- refused at Start
def _moons_net(width):
    from support import chain

    return chain(("Linear", {"out_features": width}), "ReLU", ("Linear", {"out_features": 2}),
                 input_shape=(2,))


def test_a_batch_too_large_for_the_memory_is_refused_with_the_batch_size_that_fits(monkeypatch):
    import runtime.memory as mem
    from runtime.engine import Trainer
    from runtime.errors import TooLargeError

    g = _moons_net(4096)
    t = analyze(g).totals()
    fixed = estimate(t["params"], t["activations"], 1).total - t["activations"] * 4
    available = int((fixed + 10.5 * t["activations"] * 4) / mem.SAFETY)  # 10 samples fit
    monkeypatch.setattr(mem, "device_memory", lambda device: available)
    training = {"dataset": {"name": "moons", "n": 200}, "batch_size": 64, "device": "cpu"}
    with pytest.raises(TooLargeError) as err:
        Trainer(g, training).prepare()
    text = str(err.value)
    assert text.startswith("the model is too large for the memory of cpu: one training step at "
                           "batch size 64 needs ≈ ")
    assert text.endswith("; the largest batch size that fits is about 10 — set the batch size "
                         "to that or less")
    assert err.value.node in ("l1", "l2")  # the ReLU or the Linear before it keeps the most
    Trainer(g, {**training, "batch_size": 10}).prepare()  # what it says fits does fit


def test_a_model_too_large_for_one_sample_names_its_largest_layer(monkeypatch):
    import runtime.memory as mem
    from runtime.engine import Trainer
    from runtime.errors import TooLargeError

    g = _moons_net(4096)
    monkeypatch.setattr(mem, "device_memory", lambda device: 100_000)  # 100 kB
    with pytest.raises(TooLargeError) as err:
        Trainer(g, {"dataset": {"name": "moons", "n": 200}, "device": "cpu"}).prepare()
    assert err.value.node == "l1"
    assert str(err.value).endswith(
        f"(85.0 kB of it usable); not even one sample fits — make {g.nodes['l1'].label()} "
        "(12.3 k parameters) smaller, or train on a device with more memory")
