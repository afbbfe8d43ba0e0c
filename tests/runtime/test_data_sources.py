"""runtime.data's public per-source API (from_csv, from_npz, from_image_folder,
builtin): the app's loader reads through it, each gives what load_dataset
gives, the split needs numpy alone (scikit-learn's numbers, without it), and
a bundled set without scikit-learn names the package to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import runtime.data as data
from runtime.data import DatasetError, builtin, from_csv, from_image_folder, from_npz, load_dataset
from runtime.data.prepare import split_indices

ROOT = Path(__file__).resolve().parents[2]


def same(a, b) -> None:
    for part in ("X_train", "y_train", "X_val", "y_val"):
        x, y = getattr(a, part), getattr(b, part)
        assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y), part
    for f in ("name", "task", "num_classes", "class_names", "description", "input_shape",
              "target_shape", "preprocessing"):
        assert getattr(a, f) == getattr(b, f), f


def write_csv(path: Path, n=30) -> Path:
    rng = np.random.default_rng(0)
    rows = ["a;b;kind"] + [f"{a:.3f};{b:.3f};{'yes' if a > b else 'no'}"
                           for a, b in rng.normal(size=(n, 2))]
    path.write_text("\n".join(rows) + "\n", "utf-8")
    return path


def test_the_public_functions_are_documented_and_listed():
    for name in ("from_csv", "from_npz", "from_image_folder", "builtin"):
        fn = getattr(data, name)
        assert name in data.__all__ and name in data.__doc__
        assert "Args:" in fn.__doc__ and "Returns:" in fn.__doc__ and "Raises:" in fn.__doc__
    assert set(data.READERS.values()) == {"from_csv", "from_npz", "from_image_folder", "builtin"}


def test_importing_the_package_stays_cheap():
    code = ("import sys, runtime.data as d; assert 'numpy' not in sys.modules; "
            "d.from_csv; assert 'numpy' in sys.modules")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr


def test_each_source_gives_what_the_loader_gives(tmp_path):
    csv = write_csv(tmp_path / "t.csv")
    same(from_csv(csv, "kind", seed=4, val_fraction=0.3),
         load_dataset({"csv": "t.csv", "target": "kind", "val_fraction": 0.3}, tmp_path, seed=4))
    rng = np.random.default_rng(2)
    X = rng.normal(size=(25, 3)).astype(np.float32)
    np.savez(tmp_path / "a.npz", X=X, y=X.sum(1))
    same(from_npz(str(tmp_path / "a.npz"), seed=1),
         load_dataset({"npz": "a.npz"}, tmp_path, seed=1))
    for spec in ({"name": "spirals", "n": 60, "classes": 3}, {"name": "iris"},
                 {"name": "digits", "n": 80}, {"name": "moons", "n": 40, "target": "input"},
                 {"name": "next_token", "n": 30, "seq_len": 5, "val_fraction": 0.25}):
        kwargs = {k: v for k, v in spec.items() if k not in ("name", "val_fraction")}
        same(builtin(spec["name"], seed=7, val_fraction=spec.get("val_fraction", 0.2), **kwargs),
             load_dataset(spec, seed=7))


def test_an_image_folder_gives_what_the_loader_gives(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    for k, cls in enumerate(("a", "b")):
        (tmp_path / "pics" / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("L", (5, 4), 40 * i + k).save(tmp_path / "pics" / cls / f"{i}.png")
    same(from_image_folder(tmp_path / "pics", [3, 3]),
         load_dataset({"image_folder": "pics", "size": [3, 3]}, tmp_path))


@pytest.mark.parametrize("call, message", [
    (lambda: builtin("moon"), "no built-in dataset 'moon'; the built-in sets are digits, "),
    (lambda: builtin("moons", classes=3), "moons has no option 'classes'; its options: noise"),
    (lambda: builtin("iris", noise=0.1), "iris has no option 'noise'; its options: none"),
    (lambda: builtin("moons", target="label"), 'target must be "input" (the input itself) or '
                                               "None, got 'label'"),
])
def test_bad_builtin_arguments_are_named(call, message):
    with pytest.raises(DatasetError) as exc:
        call()
    assert message in str(exc.value)


def test_a_bundled_set_without_scikit_learn_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn now fails
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(DatasetError) as exc:
        builtin("wine")
    assert str(exc.value) == ("the built-in dataset wine is read from scikit-learn's bundled "
                              "files, and scikit-learn is not installed; install it with "
                              "`pip install scikit-learn`")
    assert builtin("moons", n=30).task == "classification"  # generated: numpy alone


def test_the_stratified_split_needs_no_scikit_learn(tmp_path, monkeypatch):
    csv = write_csv(tmp_path / "t.csv", n=41)
    want = from_csv(csv, seed=3)
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.model_selection", None)
    same(from_csv(csv, seed=3), want)
    assert "not stratified" not in want.description


@settings(max_examples=400, deadline=None, derandomize=True)
@given(n=st.integers(4, 200), classes=st.integers(2, 6), frac=st.floats(0.05, 0.95),
       seed=st.integers(0, 2**32 - 1), stratified=st.booleans(), data=st.data())
def test_the_split_is_scikit_learns(n, classes, frac, seed, stratified, data):
    from sklearn.model_selection import train_test_split

    y = np.array(data.draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)))
    n_val = min(n - 1, max(1, int(np.ceil(n * frac))))
    counts = np.unique(y, return_counts=True)[1]
    strat = y if (stratified and counts.min() >= 2 and min(n_val, n - n_val) >= len(counts)) \
        else None
    want = train_test_split(np.arange(n), test_size=n_val, random_state=seed, shuffle=True,
                            stratify=strat)
    got = split_indices(n, n_val, seed, strat)
    for w, g in zip(want, got):
        assert w.dtype == g.dtype and np.array_equal(w, g)
