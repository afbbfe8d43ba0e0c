"""Dataset messages that say what is actually wrong (bad-input issue, item 6):
through ``runtime.data`` (what ``train`` and the editor's Start check call) and,
for a path, ``train`` itself (``main.main``, in-process)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import main
from runtime.data import DatasetError, SampleShape, load_dataset, sample_shape


def test_a_device_as_a_dataset_path_is_not_called_a_folder(tmp_path, capsys):
    doc = {"format": "netcanvas", "version": 1, "name": "Dev",
           "nodes": [{"id": "x", "type": "Input", "params": {"shape": [2]}},
                     {"id": "y", "type": "Output", "params": {}}],
           "edges": [{"source": "x", "target": "y"}],
           "training": {"dataset": {"csv": "/dev/zero"}}}
    proj = tmp_path / "dev.json"
    proj.write_text(json.dumps(doc))
    code = main.main(["train", str(proj), "--out", str(tmp_path / "run")])
    out, err = capsys.readouterr()
    assert code == 1
    assert "error: dataset path '/dev/zero' is a device, not a .csv file" in err, err
    assert json.loads(out.splitlines()[-1])["stopped"] == "refused"


@pytest.mark.parametrize("spec, message", [
    ({"npz": "/dev/null"}, "dataset path '/dev/null' is a device, not a .npz file"),
    ({"image_folder": "/dev/zero"},
     "image folder '/dev/zero' is a device, not a folder with one subfolder per class"),
])
def test_devices_are_named_as_devices(spec, message):
    with pytest.raises(DatasetError) as e:
        load_dataset(spec)
    assert str(e.value) == message
    with pytest.raises(DatasetError) as e:
        sample_shape(spec)
    assert str(e.value) == message


def test_a_csv_feature_too_large_for_float32_is_said_so_at_its_cell(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("a,b,label\n1,2,0\n3,1e300,1\n4,5,0\n6,7,1\n")
    with pytest.raises(DatasetError) as e:
        load_dataset({"csv": str(path)})
    assert str(e.value) == ("big.csv, line 3, column 'b': '1e300' is too large for float32 "
                            "(numbers up to about ±3.4e38); scale the column down, e.g. take "
                            "its logarithm")


def test_a_csv_regression_target_too_large_for_float32_is_said_so(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("a,price\n" + "".join(f"{i},{i}.5\n" for i in range(30)) + "31,-2e39\n")
    with pytest.raises(DatasetError) as e:
        load_dataset({"csv": str(path), "task": "regression"})
    assert str(e.value).startswith("big.csv, line 32, column 'price': '-2e39' is too large "
                                   "for float32")


def test_large_values_that_fit_float32_are_accepted(tmp_path):
    path = tmp_path / "wide_range.csv"
    path.write_text("a,b,label\n1,2e30,0\n3,-1e30,1\n4,5,0\n6,7,1\n8,9,0\n")
    ds = load_dataset({"csv": str(path)})
    assert np.isfinite(ds.X_train).all() and np.isfinite(ds.X_val).all()
    npz = tmp_path / "big.npz"
    np.savez(npz, X=np.array([[1e38, 0.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]),
             y=np.array([0, 1, 0, 1]))
    ds = load_dataset({"npz": str(npz)})
    assert np.isfinite(ds.X_train).all() and ds.X_train.dtype == np.float32


@pytest.mark.parametrize("arrays, message", [
    ({"X": np.array([[1.0, 1e300], [2.0, 3.0], [4.0, 5.0]]), "y": np.array([0, 1, 0])},
     "big.npz: X holds 1e+300 (sample 0), too large for float32"),
    ({"X": np.ones((3, 2)), "y": np.array([0.5, -3e40, 1.0])},
     "big.npz: y holds -3e+40 (sample 1), too large for float32"),
])
def test_npz_values_too_large_for_float32_are_not_called_nan(tmp_path, arrays, message):
    path = tmp_path / "big.npz"
    np.savez(path, **arrays)
    with pytest.raises(DatasetError) as e:
        load_dataset({"npz": str(path)})
    assert str(e.value).startswith(message), str(e.value)
    assert "NaN" not in str(e.value)


def test_an_npz_without_samples_says_it_has_none(tmp_path):
    path = tmp_path / "empty.npz"
    np.savez(path, X=np.zeros((0, 4)), y=np.zeros((0,), dtype=np.int64))
    with pytest.raises(DatasetError) as e:
        load_dataset({"npz": str(path)})
    assert str(e.value) == ("empty.npz: has no samples (X has shape (0, 4)); save arrays with "
                            "one row per sample")


def test_an_unterminated_quote_is_reported_at_its_line(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text('a,b,label\n1,2,0\n3,"4,1\n5,6,0\n7,8,1\n9,9,0\n')
    with pytest.raises(DatasetError) as e:
        load_dataset({"csv": str(path)})
    assert str(e.value) == ('quote.csv, line 3: a quoted value opens there and runs to the end '
                            'of the file; is a closing quote (") missing? A value cannot hold '
                            'a line break')


def test_a_quote_closed_lines_later_is_reported_where_it_opens(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text('a,b,label\n1,2,0\n3,"4\n5",1\n6,7,0\n8,9,1\n')
    with pytest.raises(DatasetError) as e:
        load_dataset({"csv": str(path)})
    assert str(e.value).startswith("quote.csv, line 3: a quoted value opens there and runs to "
                                   "line 4;")


def test_an_unterminated_quote_in_the_header_is_said_by_the_editors_check(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text('a,"b,label\n1,2,0\n3,4,1\n')
    with pytest.raises(DatasetError) as e:
        sample_shape({"csv": str(path), "target": "label"})
    assert str(e.value).startswith("quote.csv, line 1: a quoted value opens there and is not "
                                   "closed on that line;")


def test_the_editors_check_reads_a_header_of_100000_columns_whole(tmp_path):
    n = 100_000
    path = tmp_path / "wide.csv"
    header = ",".join(f"feature_{i}" for i in range(n)) + ",label\n"
    rows = "".join(",".join(["1"] * n) + f",{k % 2}\n" for k in range(6))
    path.write_text(header + rows)
    assert len(header) > 1_000_000
    shape = sample_shape({"csv": str(path), "target": "label"})
    assert shape == SampleShape("wide.csv", (n,), "float32")
    assert load_dataset({"csv": str(path), "target": "label"}).input_shape == shape.input_shape


def test_a_first_line_of_endless_text_is_no_header(tmp_path, monkeypatch):
    import runtime.data.tabular as tabular

    monkeypatch.setattr(tabular, "MAX_HEADER_BYTES", 300_000)
    path = tmp_path / "blob.csv"
    path.write_text("x" * 400_000)
    with pytest.raises(DatasetError) as e:
        sample_shape({"csv": str(path)})
    assert "the first line is longer than" in str(e.value)
