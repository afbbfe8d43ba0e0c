"""What a dataset gives, told without loading it (runtime.data.header), is
what loading it gives: validation checks the graph against the former and the
engine trains on the latter."""

import numpy as np
import pytest

from graph.dataset_info import ArrayInfo
from runtime.data import builtin_catalog, load_dataset
from runtime.data.header import dataset_info

CASES = [{"name": name} for name in builtin_catalog()] + [
    {"name": "spirals", "classes": 4},
    {"name": "next_token", "seq_len": 9, "vocab": 5},
    {"name": "majority_token", "seq_len": 7, "vocab": 3},
    {"name": "adding", "seq_len": 12},
    {"name": "digits", "target": "input"},
    {"name": "reverse", "seq_len": 5, "vocab": 3},
]


@pytest.mark.parametrize("spec", CASES, ids=lambda s: "-".join(map(str, s.values())))
def test_builtin_info_is_what_loading_gives(spec):
    info = dataset_info(spec)
    n = {} if spec["name"] in ("digits", "iris", "wine", "breast_cancer") else {"n": 40}
    ds = load_dataset({**spec, **n})
    if hasattr(ds, "inputs"):  # one array per Input (reverse): each by its id
        assert [(k, a) for k, a in info.inputs] == [
            (k, ArrayInfo(tuple(tr.shape[1:]), str(tr.dtype))) for k, (tr, _va) in ds.inputs.items()]
        assert [k for k, _t in info.targets] == list(ds.targets)
    else:
        (key, arr), = info.inputs
        assert key is None and arr == ArrayInfo(tuple(ds.input_shape), ds.input_dtype)
    (key, target), = info.targets
    task = "regression" if spec.get("target") == "input" else ds.task
    assert (target.shape, target.task) == (tuple(ds.y_train.shape[1:]), task)
    if task == "classification":
        assert target.num_classes == ds.num_classes
    else:
        assert target.num_classes is None


def test_a_file_gives_its_sample_shape_and_a_bad_one_its_reason(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((5, 3, 4), np.float32), y=np.arange(5))
    info = dataset_info({"npz": "d.npz"}, tmp_path)
    assert info.inputs == ((None, ArrayInfo((3, 4), "float32")),) and info.error is None
    missing = dataset_info({"npz": "gone.npz"}, tmp_path)
    assert missing.inputs == () and "does not exist" in missing.error
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    assert "cannot be read as a NumPy .npz file" in dataset_info({"npz": "bad.npz"}, tmp_path).error


@pytest.mark.parametrize("spec", [None, {}, [1], {"name": "nope"},
                                  {"name": "spirals", "classes": "x"},
                                  {"name": "digits", "target": "labels"}])
def test_nothing_is_told_of_a_setting_the_loader_refuses(spec):
    assert dataset_info(spec) is None


def test_an_npz_tells_its_targets_from_y_s_header(tmp_path):
    np.savez(tmp_path / "c.npz", X=np.zeros((5, 4), np.float32), y=np.arange(5))
    (_, target), = dataset_info({"npz": "c.npz"}, tmp_path).targets
    assert (target.shape, target.task, target.num_classes, target.fixed) == (
        (), "classification", None, False)
    assert target.sample_shape("regression") == (1,)  # the loader's column of values
    np.savez(tmp_path / "r.npz", X=np.zeros((5, 4), np.float32), y=np.zeros((5, 3), np.float32))
    (_, target), = dataset_info({"npz": "r.npz"}, tmp_path).targets
    assert (target.shape, target.task) == ((3,), "regression")


def test_an_npz_with_one_array_per_node_gives_each(tmp_path):
    np.savez(tmp_path / "m.npz", X_a=np.zeros((5, 4), np.float32), X_b=np.zeros((5, 7), np.int32),
             y_label=np.arange(5), y_value=np.zeros((5, 2), np.float32))
    info = dataset_info({"npz": "m.npz"}, tmp_path)
    assert info.error is None
    assert info.inputs == (("a", ArrayInfo((4,), "float32")), ("b", ArrayInfo((7,), "int64")))
    assert [(k, t.shape, t.task) for k, t in info.targets] == [
        ("label", (), "classification"), ("value", (2,), "regression")]
