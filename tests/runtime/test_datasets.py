"""Built-in datasets, the split, the catalogue and check_fits, through runtime.data's API."""

import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from runtime.data import Dataset, DatasetError, builtin_catalog, check_fits, load_dataset
from runtime.errors import TrainingError

ROOT = Path(__file__).resolve().parents[2]
CATALOG = builtin_catalog()
# Small n keeps generated sets fast; the real sets have a fixed size.
SMALL = {"spirals": 200, "moons": 100, "circles": 100, "xor": 100, "sine": 100, "adding": 100,
         "majority_token": 200, "next_token": 100}


def load(name, seed=0, **opts):
    if name in SMALL and "n" not in opts:
        opts["n"] = SMALL[name]
    return load_dataset({"name": name, **opts}, seed=seed)


@pytest.mark.parametrize("name", list(CATALOG))
def test_builtin_matches_its_catalogue_entry(name):
    info = CATALOG[name]
    d = load(name)
    assert isinstance(d, Dataset) and d.name == name and d.task == info.task
    assert d.input_shape == info.input_shape and d.input_dtype == info.input_dtype
    for X in (d.X_train, d.X_val):
        assert X.shape[1:] == d.input_shape and str(X.dtype) == d.input_dtype
    assert d.target_shape == info.target_shape
    for y in (d.y_train, d.y_val):
        assert y.shape[1:] == d.target_shape
        assert y.dtype == (np.int64 if d.task == "classification" else np.float32)
    assert len(d.X_train) == len(d.y_train) and len(d.X_val) == len(d.y_val)
    total = len(d.X_train) + len(d.X_val)
    assert total == SMALL.get(name, info.default_n)
    assert len(d.X_val) == int(np.ceil(0.2 * total))
    assert d.num_classes == info.num_classes
    if d.task == "classification":
        assert d.class_names == list(info.class_names)
        assert len(d.class_names) == d.num_classes
        # masked_tokens marks the unmasked positions with -100 (the loss's ignore_index)
        scored = d.y_train[d.y_train != -100] if name == "masked_tokens" else d.y_train
        assert 0 <= scored.min() and scored.max() < d.num_classes
    else:
        assert d.class_names is None
    assert name in d.description and "validation" in d.description
    assert info.description and "\n" not in info.description


def test_catalogue_lists_every_built_in_of_the_product():
    assert list(CATALOG) == ["digits", "iris", "wine", "breast_cancer", "spirals", "moons",
                             "circles", "xor", "sine", "adding", "majority_token", "next_token",
                             "reverse", "masked_tokens", "token_period"]
    assert CATALOG["digits"][:6] == (CATALOG["digits"].description, (1, 8, 8), "float32",
                                     "classification", 10, 1797)
    assert CATALOG["iris"].class_names == ("setosa", "versicolor", "virginica")


def test_digits_are_the_real_images_scaled_to_unit_range():
    d = load("digits")
    X = np.concatenate([d.X_train, d.X_val])
    assert X.min() == 0.0 and X.max() == 1.0
    assert sorted(Counter(np.concatenate([d.y_train, d.y_val]).tolist())) == list(range(10))


@pytest.mark.parametrize("name", ["spirals", "moons", "circles", "xor", "sine", "adding",
                                  "majority_token", "next_token"])
def test_generated_sets_are_deterministic_per_seed(name):
    a, b, c = load(name, seed=3), load(name, seed=3), load(name, seed=4)
    for f in ("X_train", "y_train", "X_val", "y_val"):
        assert np.array_equal(getattr(a, f), getattr(b, f))
    assert not np.array_equal(a.X_train, c.X_train)


def test_real_sets_are_fixed_but_split_by_seed():
    a, b, c = load("iris", seed=1), load("iris", seed=1), load("iris", seed=2)
    assert np.array_equal(a.X_val, b.X_val) and np.array_equal(a.y_train, b.y_train)
    assert not np.array_equal(a.X_val, c.X_val)


@pytest.mark.parametrize("name,vf", [("iris", 0.2), ("wine", 0.3), ("digits", 0.25),
                                     ("breast_cancer", 0.1)])
def test_classification_split_is_stratified(name, vf):
    d = load(name, val_fraction=vf)
    train = np.bincount(d.y_train, minlength=d.num_classes) / len(d.y_train)
    val = np.bincount(d.y_val, minlength=d.num_classes) / len(d.y_val)
    # Stratified: each class's share differs by at most about one sample's share.
    assert np.abs(train - val).max() <= 1.5 / len(d.y_val)
    if name == "iris":
        assert np.bincount(d.y_val).tolist() == [10, 10, 10]


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer"])
def test_standardisation_uses_training_statistics_only(name):
    d = load(name)
    assert np.allclose(d.X_train.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(d.X_train.std(axis=0), 1, atol=1e-4)
    both = np.concatenate([d.X_train, d.X_val])
    # Had the whole set been used, the mean over both parts would be zero.
    assert np.abs(both.mean(axis=0)).max() > 1e-3
    stats = d.preprocessing["standardise"]
    assert len(stats["mean"]) == len(stats["std"]) == d.input_shape[0]


def test_spirals_take_a_number_of_classes():
    d = load("spirals", classes=4, n=400)
    assert d.num_classes == 4 and d.class_names == ["arm 0", "arm 1", "arm 2", "arm 3"]
    assert set(np.concatenate([d.y_train, d.y_val]).tolist()) == {0, 1, 2, 3}


def test_moons_circles_xor_labels_follow_their_geometry():
    c = load("circles", noise=0.0)
    r = np.linalg.norm(c.X_train, axis=1)
    assert np.allclose(r[c.y_train == 0], 1.0, atol=1e-5)
    assert np.allclose(r[c.y_train == 1], 0.5, atol=1e-5)
    x = load("xor", noise=0.0)
    assert np.array_equal(x.y_train, (x.X_train[:, 0] * x.X_train[:, 1] > 0).astype(np.int64))
    s = load("sine", noise=0.0)
    assert np.allclose(s.y_train, np.sin(s.X_train), atol=1e-6)


def test_adding_problem_targets_are_the_sum_of_the_two_marked_values():
    d = load("adding", seq_len=12)
    assert d.input_shape == (12, 2)
    X, y = d.X_train, d.y_train
    assert (X[:, :, 1].sum(axis=1) == 2).all()
    assert (X[:, :6, 1].sum(axis=1) == 1).all()  # one marker in each half
    assert np.allclose((X[:, :, 0] * X[:, :, 1]).sum(axis=1, keepdims=True), y, atol=1e-6)


def test_majority_token_target_is_the_most_frequent_token_smallest_on_ties():
    d = load("majority_token", seq_len=9, vocab=5)
    assert d.input_shape == (9,) and d.num_classes == 5 and d.class_names == list("01234")
    for seq, label in zip(d.X_train, d.y_train):
        counts = np.bincount(seq, minlength=5)
        assert label == min(t for t in range(5) if counts[t] == counts.max())
    assert d.X_train.min() >= 0 and d.X_train.max() < 5


def _follows_a_rule(seq, vocab):
    periodic = any(all(seq[i] == seq[i % p] for i in range(len(seq))) for p in (2, 3, 4))
    step = (seq[1] - seq[0]) % vocab
    counting = all((seq[i + 1] - seq[i]) % vocab == step for i in range(len(seq) - 1))
    return periodic or counting


def test_next_token_targets_are_the_sequence_shifted_by_one():
    d = load("next_token", seq_len=10, vocab=11)
    assert d.input_shape == (10,) and d.target_shape == (10,) and d.num_classes == 11
    X, y = d.X_train, d.y_train
    assert np.array_equal(X[:, 1:], y[:, :-1])
    assert all(_follows_a_rule(np.concatenate([x, t[-1:]]), 11) for x, t in zip(X, y))
    assert y.max() < 11


@pytest.mark.parametrize("spec,message", [
    (None, "no dataset is chosen"),
    ("digits", "must be an object"),
    ({}, "needs exactly one of"),
    ({"name": "digits", "csv": "a.csv"}, "names name and csv"),
    ({"name": "digts"}, "no built-in dataset 'digts'; did you mean 'digits'?"),
    ({"name": "moons", "nois": 0.2},
     "training.dataset.nois: unknown setting; did you mean 'noise'"),
    ({"name": "iris", "noise": 0.2}, "training.dataset.noise: unknown setting"),
    ({"name": "moons", "n": "many"}, "training.dataset.n: must be a whole number, got 'many'"),
    ({"name": "moons", "n": 2}, "training.dataset.n: must be between 4"),
    ({"name": "spirals", "classes": 7}, "training.dataset.classes: must be between 2 and 5"),
    ({"name": "iris", "n": 500}, "iris has 150 samples, so n can be at most 150"),
    ({"name": "moons", "val_fraction": 1.0}, "val_fraction: must be a number between 0 and 1"),
    ({"name": "sine", "task": "classification"}, "sine is a regression dataset"),
    ({"name": "moons", "task": "ranking"}, 'must be "classification" or "regression"'),
])
def test_bad_dataset_settings_are_explained(spec, message):
    with pytest.raises(DatasetError) as err:
        load_dataset(spec)
    assert message in str(err.value)
    assert isinstance(err.value, TrainingError)  # the engine refuses to start on it


def test_tiny_sets_fall_back_to_an_unstratified_split():
    d = load("spirals", n=5, classes=5)  # one sample per class: cannot stratify
    assert "not stratified" in d.description and len(d.X_val) == 1


# --- check_fits ---------------------------------------------------------------------------

def test_check_fits_accepts_matching_and_symbolic_shapes():
    assert check_fits(CATALOG["digits"], [1, 8, 8], "float32") is None
    assert check_fits(CATALOG["digits"], ("N", 1, 8, 8), "float32") is None
    assert check_fits(CATALOG["adding"], ["T", 2], "float32") is None
    assert check_fits(CATALOG["next_token"], ["T"], "int64") is None
    d = load("adding", seq_len=7)
    assert check_fits(d, ["T", 2], "float32") is None


@pytest.mark.parametrize("name,shape,dtype,message", [
    ("digits", [1, 28, 28], "float32",
     'dataset "digits" gives samples of shape 1×8×8 (float32) but the Input expects '
     "1×28×28 (float32); set the Input shape to [1, 8, 8]"),
    ("digits", [64], "float32", "or keep it and add a Reshape/Flatten after the Input"),
    ("iris", [4, 1], "float32", "shape 4 (float32) but the Input expects 4×1 (float32)"),
    ("majority_token", [20], "float32",
     'set the Input dtype to "int64": the samples are token ids, to be fed to an Embedding'),
    ("moons", [2], "int64", 'set the Input dtype to "float32"'),
    ("adding", ["T", "T"], "float32", "50×2 (float32) but the Input expects T×T"),
])
def test_check_fits_names_both_shapes(name, shape, dtype, message):
    assert message in check_fits(CATALOG[name], shape, dtype)


def test_check_fits_with_a_loaded_dataset_uses_its_real_shape():
    d = load("adding", seq_len=7)
    msg = check_fits(d, [50, 2], "float32")
    assert "7×2 (float32) but the Input expects 50×2" in msg


def test_catalogue_and_check_fits_load_neither_torch_nor_numpy_nor_sklearn():
    code = ("import sys; from runtime.data import builtin_catalog, check_fits; "
            "c = builtin_catalog(); check_fits(c['digits'], [1, 8, 8], 'float32'); "
            "print(sorted(m for m in ('torch', 'sklearn', 'numpy', 'PIL') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_reconstruction_target_for_autoencoders():
    ds = load_dataset({"name": "digits", "target": "input"}, seed=0)
    assert ds.task == "regression" and ds.num_classes is None
    assert ds.y_train.shape == ds.X_train.shape and ds.target_shape == (1, 8, 8)
    assert (ds.y_val == ds.X_val).all()


@pytest.mark.parametrize("spec,text", [
    ({"name": "digits", "target": "label"}, 'takes only "input"'),
    ({"name": "majority_token", "target": "input"}, "integer token inputs"),
    ({"name": "digits", "target": "input", "task": "classification"}, "is a regression task"),
])
def test_reconstruction_target_refusals(spec, text):
    with pytest.raises(DatasetError, match=text):
        load_dataset(spec)


@pytest.mark.parametrize("spec", [
    {"name": "spirals"}, {"name": "moons", "n": 97, "val_fraction": 0.3}, {"name": "xor", "n": 4},
    {"name": "iris", "n": 150}, {"name": "digits", "n": 300, "val_fraction": 0.5},
    {"name": "spirals", "n": 3}, {"name": "iris", "n": 151}, {"name": "moons", "val_fraction": 1},
])
def test_the_training_sample_count_told_before_loading_is_the_loaders(spec):
    """What validation's model-size warning counts, without loading: the
    loader's own count, or None where the loader refuses the settings."""
    from runtime.data.catalog import training_samples

    told = training_samples(spec)
    try:
        got = len(load_dataset(spec).X_train)
    except DatasetError:
        assert told is None
    else:
        assert told == got
