"""The built-in sequence-to-sequence set ``reverse`` (issue 13, item 2): two
arrays, one per ``Input`` (``src`` and ``tgt``, named like an ``.npz``'s
``X_<input id>``), and the reversed digits as the target of the ``Output``
``y``; listed in the catalogue with its options and read by the dataset
header as validation sees it."""

from __future__ import annotations

import json

import numpy as np
import pytest

import main
from runtime.data import DatasetError, builtin, builtin_catalog, load_dataset
from runtime.data.header import dataset_info


def test_reverse_gives_src_teacher_forced_tgt_and_the_reversed_digits():
    ds = builtin("reverse", n=50, seq_len=5, vocab=4, seed=3)
    assert list(ds.inputs) == ["src", "tgt"] and list(ds.targets) == ["y"]
    for part in (0, 1):
        src, tgt = ds.inputs["src"][part], ds.inputs["tgt"][part]
        y = ds.targets["y"].train if part == 0 else ds.targets["y"].val
        assert src.dtype == tgt.dtype == y.dtype == np.int64
        assert src.shape[1:] == tgt.shape[1:] == y.shape[1:] == (5,)
        np.testing.assert_array_equal(y, src[:, ::-1])
        assert (tgt[:, 0] == 0).all()  # the start token
        np.testing.assert_array_equal(tgt[:, 1:], y[:, :-1])  # shifted right: teacher forcing
        assert src.min() >= 1 and src.max() <= 4  # digits are ids 1..vocab
    assert len(ds.inputs["src"][0]) == 40 and len(ds.inputs["src"][1]) == 10
    assert ds.num_classes == 5 and ds.class_names == ["<start>", "0", "1", "2", "3"]
    assert ds.task == "classification" and ds.target_shape == (5,)
    again = builtin("reverse", n=50, seq_len=5, vocab=4, seed=3)
    np.testing.assert_array_equal(again.inputs["tgt"][1], ds.inputs["tgt"][1])


def test_the_catalogue_lists_reverse_with_its_inputs_and_options():
    info = builtin_catalog()["reverse"]
    assert [i for i, _shape, _dt in info.inputs] == ["src", "tgt"] and info.output == "y"
    assert dict(info.options) == {"seq_len": 8, "vocab": 10}
    assert "src" in info.description and "tgt" in info.description
    assert info.num_classes == 11 and info.input_dtype == "int64"


def test_the_header_gives_each_input_its_shape_for_the_options():
    info = dataset_info({"name": "reverse", "seq_len": 6, "vocab": 4})
    assert [(i, a.shape, a.dtype) for i, a in info.inputs] == [
        ("src", (6,), "int64"), ("tgt", (6,), "int64")]
    ((out, target),) = info.targets
    assert out == "y" and target.shape == (6,) and target.num_classes == 5


@pytest.mark.parametrize("spec, says", [
    ({"seq_len": 1}, "seq_len"),
    ({"vocab": 0}, "vocab"),
    ({"classes": 3}, "classes"),
])
def test_a_bad_option_is_named(spec, says):
    with pytest.raises(DatasetError) as err:
        load_dataset({"name": "reverse", **spec})
    assert says in str(err.value)


SEQ = [
    {"id": "src", "type": "Input", "params": {"shape": ["S"], "dtype": "int64"}},
    {"id": "tgt", "type": "Input", "params": {"shape": [3, 4], "dtype": "int64"}},
    {"id": "es", "type": "Embedding", "name": "es", "params": {"num_embeddings": 11,
                                                               "embedding_dim": 8}},
    {"id": "et", "type": "Embedding", "name": "et", "params": {"num_embeddings": 11,
                                                               "embedding_dim": 8}},
    {"id": "dec", "type": "TransformerDecoderLayer", "name": "dec",
     "params": {"nhead": 2, "dim_feedforward": 16}},
    {"id": "head", "type": "Linear", "name": "head", "params": {"out_features": 11}},
    {"id": "y", "type": "Output", "params": {}},
]
SEQ_EDGES = [
    {"source": "src", "target": "es"}, {"source": "tgt", "target": "et"},
    {"source": "et", "target": "dec", "target_port": "tgt"},
    {"source": "es", "target": "dec", "target_port": "memory"},
    {"source": "dec", "target": "head"}, {"source": "head", "target": "y"},
]


def test_check_names_the_input_that_does_not_fit_its_array(tmp_path, capsys):
    path = tmp_path / "seq.json"
    path.write_text(json.dumps({"format": "netcanvas", "version": 1, "name": "seq",
                                "nodes": SEQ, "edges": SEQ_EDGES,
                                "training": {"dataset": {"name": "reverse"}}}))
    assert main.main(["check", str(path), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    (p,) = [p for p in out["problems"] if p["code"] == "dataset_mismatch"]
    assert p["node"] == "tgt"
    assert 'dataset "reverse" gives samples of shape 8 (int64)' in p["message"]
