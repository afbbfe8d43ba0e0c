"""Data augmentation (``training.augment``): what :func:`runtime.augment.augment_batch`
does to a batch, and what the engine does with it — training batches only,
reproducible under the seed, resumed exactly, validation untouched, and a key
that fits none of the network's inputs refused with its name."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from runtime import ConfigError, Trainer
from runtime.augment import augment_batch, augment_generator, preview_samples
from runtime.checkpoint import load_checkpoint
from runtime.data import Dataset
from support import StopAtStep, chain

AUG = {"translate": 1, "rotate": 15, "scale": [0.9, 1.1], "crop_pad": 1, "noise": 0.1}


def images(n=96, val=32, seed=0) -> Dataset:
    """Two classes of 8×8 images: a bright left half or a bright right half."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n + val)
    X = rng.normal(0, 0.3, size=(n + val, 1, 8, 8)).astype(np.float32)
    X[y == 0, :, :, :4] += 1
    X[y == 1, :, :, 4:] += 1
    return Dataset("halves", "classification", X[:n], y[:n], X[n:], y[n:], (1, 8, 8),
                   "float32", 2, ["left", "right"], (), "test images")


def cnn():
    return chain(("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}), "ReLU",
                 "Flatten", ("Linear", {"out_features": 2}), input_shape=(1, 8, 8))


def training(**extra):
    return {"epochs": 2, "batch_size": 16, "seed": 3, "device": "cpu",
            "optimizer": {"type": "Adam", "lr": 0.01}, "augment": dict(AUG), **extra}


def same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


# ------------------------------------------------------------------ the function
def test_each_geometric_change_keeps_shape_dtype_and_device():
    x = torch.rand(10, 3, 6, 9)
    for key, value in [("translate", 2), ("rotate", 30), ("scale", [0.5, 2]), ("crop_pad", 2),
                       ("hflip", True), ("noise", 0.5)]:
        out = augment_batch(x, {key: value}, augment_generator(0, "cpu"))
        assert out.shape == x.shape and out.dtype == x.dtype, key
        assert not torch.equal(out, x), key


def test_a_padded_crop_shifts_whole_pixels_with_zero_fill():
    x = torch.arange(1, 1 + 64 * 64, dtype=torch.float32).reshape(64, 1, 8, 8) % 97 + 1
    out = augment_batch(x, {"crop_pad": 2}, augment_generator(1, "cpu"))
    shifts = set()
    for a, b in zip(x, out):
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if torch.allclose(torch.roll(a, (dy, dx), (1, 2))[:, max(dy, 0):8 + min(dy, 0),
                                                                   max(dx, 0):8 + min(dx, 0)],
                                   b[:, max(dy, 0):8 + min(dy, 0), max(dx, 0):8 + min(dx, 0)],
                                   atol=1e-3)]
        assert found, "not a whole-pixel shift"
        dy, dx = found[0]
        shifts.add((dy, dx))
        moved = torch.zeros_like(b, dtype=torch.bool)
        moved[:, max(dy, 0):8 + min(dy, 0), max(dx, 0):8 + min(dx, 0)] = True
        assert torch.all(b[~moved].abs() < 1e-4), "the padding is not zeros"
    assert len(shifts) > 10  # each sample its own crop, up to 2 pixels each way


def test_a_flip_mirrors_about_half_of_the_samples_exactly():
    x = torch.rand(400, 1, 5, 7)
    out = augment_batch(x, {"hflip": True}, augment_generator(0, "cpu"))
    mirrored = torch.tensor([torch.allclose(o, s.flip(-1), atol=1e-5) for o, s in zip(out, x)])
    same = torch.tensor([torch.allclose(o, s, atol=1e-5) for o, s in zip(out, x)])
    assert bool((mirrored | same).all())
    assert 150 < int(mirrored.sum()) < 250


def test_rotation_and_scale_stay_within_their_amounts():
    x = torch.zeros(200, 1, 21, 21)
    x[:, :, 10, 15] = 1  # a dot 5 pixels right of the centre
    out = augment_batch(x, {"rotate": 30}, augment_generator(0, "cpu"))
    ys, xs = torch.meshgrid(torch.arange(21.0), torch.arange(21.0), indexing="ij")
    w = out[:, 0]
    cy = (w * ys).sum((1, 2)) / w.sum((1, 2)) - 10
    cx = (w * xs).sum((1, 2)) / w.sum((1, 2)) - 10
    angle = torch.rad2deg(torch.atan2(cy, cx)).abs()
    assert float(angle.max()) <= 31 and float(angle.max()) > 20
    assert torch.allclose(torch.hypot(cx, cy), torch.full_like(cx, 5.0), atol=0.3)
    out = augment_batch(x, {"scale": [1.5, 1.5]}, augment_generator(0, "cpu"))
    w = out[:, 0]
    cx = (w * xs).sum((1, 2)) / w.sum((1, 2)) - 10
    assert torch.allclose(cx, torch.full_like(cx, 7.5), atol=0.3)


def test_token_dropout_zeroes_tokens_at_its_rate_and_noise_leaves_tokens_alone():
    x = torch.randint(1, 20, (200, 50))
    out = augment_batch(x, {"token_dropout": 0.25, "noise": 3.0, "rotate": 10},
                        augment_generator(0, "cpu"))
    assert out.dtype == torch.int64
    kept = out == x
    assert bool(((out == 0) | kept).all())
    assert 0.22 < float((~kept).float().mean()) < 0.28


def test_other_float_inputs_get_noise_only():
    x = torch.zeros(500, 30)
    out = augment_batch(x, {"noise": 0.5, "rotate": 30, "hflip": True},
                        augment_generator(0, "cpu"))
    assert abs(float(out.std()) - 0.5) < 0.02 and abs(float(out.mean())) < 0.02


def test_the_same_seed_draws_the_same_changes_and_another_seed_others():
    x = torch.rand(16, 1, 8, 8)
    a = augment_batch(x, AUG, augment_generator(4, "cpu"))
    b = augment_batch(x, AUG, augment_generator(4, "cpu"))
    c = augment_batch(x, AUG, augment_generator(5, "cpu"))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_on_the_gpu_the_batch_is_changed_where_it_lives():
    x = torch.rand(64, 1, 8, 8, device="cuda")
    out = augment_batch(x, {**AUG, "hflip": True}, augment_generator(0, "cuda"))
    assert out.device.type == "cuda" and out.shape == x.shape
    again = augment_batch(x, {**AUG, "hflip": True}, augment_generator(0, "cuda"))
    assert torch.equal(out, again)


def test_the_preview_is_the_first_training_samples_changed_by_the_same_function():
    spec = {"rotate": 20, "noise": 0.2}
    before, after = preview_samples({"name": "digits"}, [1, 8, 8], "float32", spec, seed=2)
    assert before.shape == after.shape == (8, 1, 8, 8)
    want = augment_batch(torch.as_tensor(before), spec, augment_generator(2, "cpu"))
    assert np.array_equal(after, want.numpy())
    same, unchanged = preview_samples({"name": "digits"}, [1, 8, 8], "float32", None, seed=2)
    assert np.array_equal(same, unchanged) and np.array_equal(same, before)


# ------------------------------------------------------------------ the engine
def test_augmented_training_is_reproducible_under_the_seed(tmp_path):
    runs = [Trainer(cnn(), training(), dataset=images(), out_dir=tmp_path / f"r{k}",
                    report_every=0).run() for k in range(2)]
    plain = Trainer(cnn(), training(augment=None), dataset=images(),
                    out_dir=tmp_path / "plain", report_every=0).run()
    assert runs[0].step_losses == runs[1].step_losses
    same_weights(load_checkpoint(tmp_path / "r0" / "last.pt")["model"],
                 load_checkpoint(tmp_path / "r1" / "last.pt")["model"])
    # the batches were changed: the same seed without augmentation trains otherwise
    assert plain.step_losses[0] != runs[0].step_losses[0]
    other = Trainer(cnn(), training(seed=4), dataset=images(), report_every=0).run()
    assert other.step_losses != runs[0].step_losses


def test_validation_is_never_augmented(tmp_path):
    """With noise far larger than the data, validation still scores the clean samples:
    the validation loss reported equals the saved model's loss on them."""
    from codegen import build_model

    tr = training(augment={"noise": 50.0, "rotate": 90}, epochs=1)
    g = cnn()
    ds = images()
    r = Trainer(g, tr, dataset=ds, out_dir=tmp_path, report_every=0).run()
    model, _code = build_model(g, "Net", tr)
    model.load_state_dict(load_checkpoint(tmp_path / "last.pt")["model"])
    model.eval()
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(model(torch.as_tensor(ds.X_val)),
                                                 torch.as_tensor(ds.y_val))
    assert r.history[-1]["val_loss"] == pytest.approx(float(loss), rel=1e-5)


@pytest.mark.parametrize("stop_at", [4, 9])  # at an epoch's end, inside the second epoch
def test_a_stopped_augmented_run_resumes_exactly(tmp_path, stop_at):
    tr = training(epochs=3, augment={**AUG, "hflip": True})
    full = Trainer(cnn(), tr, dataset=images(), out_dir=tmp_path / "full",
                   report_every=0).run()
    stopper = StopAtStep(stop_at)
    t = Trainer(cnn(), tr, dataset=images(), out_dir=tmp_path / "part", callbacks=[stopper],
                report_every=0)
    stopper.trainer = t
    assert t.run().stopped == "stopped"
    assert "augment" in load_checkpoint(tmp_path / "part" / "last.pt")["rng"]
    r = Trainer(cnn(), tr, dataset=images(), out_dir=tmp_path / "part",
                resume=tmp_path / "part" / "last.pt", report_every=0).run()
    assert r.stopped == "completed" and r.step_losses == full.step_losses
    same_weights(load_checkpoint(tmp_path / "full" / "last.pt")["model"],
                 load_checkpoint(tmp_path / "part" / "last.pt")["model"])


@pytest.mark.parametrize("augment, net, message", [
    ({"rotate": 10}, chain(("Linear", {"out_features": 2}), input_shape=(4,)),
     'training.augment.rotate: rotate applies to image inputs (C×H×W float samples), and '
     'this network has none (Input "x_1" gives 4 float samples); remove rotate'),
    ({"token_dropout": 0.1}, chain(("Linear", {"out_features": 2}), input_shape=(4,)),
     'training.augment.token_dropout: token_dropout applies to token (integer) inputs, and '
     'this network has none (Input "x_1" gives 4 float samples); use noise for float '
     'inputs'),
])
def test_a_key_that_changes_no_input_is_refused_with_its_name(augment, net, message):
    from support import blobs

    with pytest.raises(ConfigError) as exc:
        Trainer(net, {"epochs": 1, "device": "cpu", "augment": augment},
                dataset=blobs(d=4)).run()
    assert str(exc.value) == message
