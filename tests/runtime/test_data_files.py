"""User data files: CSV, .npz and image folders, good and bad, through load_dataset."""

import io
import pickle
import random
import sys

import numpy as np
import pytest

from runtime.data import DatasetError, check_fits, load_dataset, sample_shape


def fails(spec, base, message):
    with pytest.raises(DatasetError) as err:
        load_dataset(spec, base_dir=base)
    assert message in str(err.value), str(err.value)
    return str(err.value)


# --- CSV ----------------------------------------------------------------------------------

def write(tmp_path, text, name="data.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return p


def flowers(n=40):
    lines = ["petal,species,sepal"]
    for i in range(n):
        kind = ["virginica", "setosa"][i % 2]
        lines.append(f"{i * 0.5 + (i % 2) * 10},{kind},{100 - i}")
    return "\n".join(lines) + "\n"


def test_csv_text_target_becomes_sorted_classes(tmp_path):
    write(tmp_path, flowers())
    d = load_dataset({"csv": "data.csv", "target": "species"}, base_dir=tmp_path)
    assert d.task == "classification" and d.num_classes == 2
    assert d.class_names == ["setosa", "virginica"]
    assert d.input_shape == (2,) and d.X_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert np.allclose(d.X_train.mean(axis=0), 0, atol=1e-5)  # standardised on training rows
    assert np.bincount(d.y_val).tolist() == [4, 4]  # stratified
    assert "species" in d.description


def test_csv_target_defaults_to_last_column_and_delimiter_is_detected(tmp_path):
    rows = ["a;b;label"] + [f"{i};{i * i};{'yes' if i % 3 else 'no'}" for i in range(30)]
    write(tmp_path, "\n".join(rows))
    d = load_dataset({"csv": str(tmp_path / "data.csv")})
    assert d.class_names == ["no", "yes"] and d.input_shape == (2,)


def test_csv_numeric_target_task_follows_its_values(tmp_path):
    few = ["x,y"] + [f"{i},{i % 3}" for i in range(30)]
    write(tmp_path, "\n".join(few), "few.csv")
    d = load_dataset({"csv": "few.csv", "target": "y"}, base_dir=tmp_path)
    assert d.task == "classification" and d.class_names == ["0", "1", "2"]
    many = ["x,price"] + [f"{i},{i * 1.37 + 0.5}" for i in range(30)]
    write(tmp_path, "\n".join(many), "many.csv")
    d = load_dataset({"csv": "many.csv", "target": "price"}, base_dir=tmp_path)
    assert d.task == "regression" and d.target_shape == (1,) and d.y_train.dtype == np.float32
    assert d.num_classes is None and d.class_names is None
    d = load_dataset({"csv": "few.csv", "target": "y", "task": "regression"}, base_dir=tmp_path)
    assert d.task == "regression" and d.y_train.shape[1:] == (1,)


@pytest.mark.parametrize("text,spec,message", [
    ("", {}, "data.csv: the file is empty"),
    ("a,b\n", {}, "data.csv: has a header row but no data rows"),
    ("a,b\n1,2\n3\n4,5\n", {}, "data.csv, line 3: has 1 values but the header has 2 columns"),
    ("age,city,y\n1,2,0\n2,Paris,1\n", {"target": "y"},
     "data.csv, line 3, column 'city': 'Paris' is not a number; feature columns must hold numbers"),
    ("a,b,y\n1,,0\n2,3,1\n", {"target": "y"}, "data.csv, line 2, column 'b': is empty"),
    ("a,b,y\n1,nan,0\n2,3,1\n", {"target": "y"},
     "line 2, column 'b': 'nan' is missing or infinite"),
    ("a,b\n1,2\n", {"target": "label"},
     "data.csv: there is no column 'label' for the target; columns: 'a', 'b'"),
    ("a,y\n1,cat\n2,cat\n3,cat\n", {"target": "y"}, "the target has only one class ('cat')"),
    ("a,y\n1,cat\n2,\n", {"target": "y"}, "line 3, column 'y': the target is empty"),
    ("a,y\n1,cat\n2,dog\n", {"target": "y", "task": "regression"},
     "'cat' is not a number, so the target cannot be used for regression"),
    ("only\n1\n2\n", {}, "has only one column ('only')"),
    ("a,a,y\n1,2,3\n", {"target": "a"}, "more than one column is named 'a'"),
    ("a,y\n1,0\n2,1\n", {"target": 3}, "training.dataset.target: must be a column name"),
    ("a,y\n1,0\n2,1\n", {"size": [2, 2]}, "training.dataset.size: unknown setting"),
])
def test_bad_csv_files_are_explained(tmp_path, text, spec, message):
    write(tmp_path, text)
    fails({"csv": "data.csv", **spec}, tmp_path, message)


def test_csv_that_is_not_utf8_is_explained(tmp_path):
    write(tmp_path, "größe,y\n1,0\n".encode("latin-1"))
    fails({"csv": "data.csv"}, tmp_path, "is not UTF-8 text")


def test_missing_csv_names_the_file(tmp_path):
    msg = fails({"csv": "nope.csv"}, tmp_path, "dataset file 'nope.csv' does not exist")
    assert str(tmp_path) in msg


def test_a_folder_given_as_csv_is_explained(tmp_path):
    (tmp_path / "d.csv").mkdir()
    fails({"csv": "d.csv"}, tmp_path, "is a folder, not a .csv file")


# --- .npz ---------------------------------------------------------------------------------

def test_npz_classes_are_mapped_in_sorted_order(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 3, 4))
    y = np.array([7, 3] * 20)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    d = load_dataset({"npz": "d.npz"}, base_dir=tmp_path)
    assert d.task == "classification" and d.class_names == ["3", "7"] and d.num_classes == 2
    assert d.input_shape == (3, 4) and d.X_train.dtype == np.float32
    # Not standardised: the arrays are the user's prepared data.
    both = np.concatenate([d.X_train, d.X_val])
    assert np.allclose(np.sort(both.ravel()), np.sort(X.astype(np.float32).ravel()))


def test_npz_float_targets_are_regression_and_int_inputs_tokens(tmp_path):
    np.savez(tmp_path / "r.npz", X=np.arange(60).reshape(20, 3), y=np.linspace(0, 1, 20))
    d = load_dataset({"npz": "r.npz"}, base_dir=tmp_path)
    assert d.task == "regression" and d.target_shape == (1,) and d.input_dtype == "int64"
    assert "int64" in check_fits(d, [3], "float32")


def test_npz_per_step_targets(tmp_path):
    seq = np.random.default_rng(1).integers(0, 6, (30, 9))
    np.savez(tmp_path / "s.npz", X=seq[:, :-1], y=seq[:, 1:])
    d = load_dataset({"npz": "s.npz"}, base_dir=tmp_path)
    assert d.target_shape == (8,) and d.num_classes == int(seq.max()) + 1


def _pickle(path):
    with open(path, "wb") as f:
        pickle.dump({"X": [1, 2], "y": [0, 1]}, f)


@pytest.mark.parametrize("make,spec,message", [
    (lambda p: _pickle(p), {}, "holds pickled Python objects, which are not loaded for safety"),
    (lambda p: np.savez(p, X=np.array([{"a": 1}, None], dtype=object), y=np.array([0, 1])), {},
     "array X holds Python objects, which are not loaded for safety"),
    (lambda p: np.savez(p, X=np.zeros((4, 2)), labels=np.zeros(4)), {},
     "has no array named y (arrays in the file: X, labels)"),
    (lambda p: np.savez(p, X=np.zeros((4, 2)), y=np.zeros(3)), {},
     "X has 4 samples but y has 3"),
    (lambda p: np.savez(p, X=np.array([[1.0], [np.nan], [2.0]]), y=np.array([0, 1, 0])), {},
     "X contains NaN or infinite values (first at sample 1)"),
    (lambda p: np.savez(p, X=np.zeros(4), y=np.zeros(4)), {}, "X has shape (4,)"),
    (lambda p: np.savez(p, X=np.zeros((4, 2)), y=np.zeros(4, dtype=int)), {},
     "the target has only one class ('0')"),
    (lambda p: np.savez(p, X=np.zeros((4, 2)), y=np.array([0.5, 1, 2, 3])),
     {"task": "classification"}, "y holds fractional values, which are not class labels"),
    (lambda p: np.savez(p, X=np.zeros((4, 2)), y=np.array(["a", "b", "a", "b"])),
     {"task": "regression"}, "y holds text labels"),
    (lambda p: p.write_text("hello"), {}, "d.npz: cannot be read as a NumPy .npz file"),
    (lambda p: p.write_bytes(b""), {}, "d.npz: cannot be read as a NumPy .npz file"),
])
def test_bad_npz_files_are_explained(tmp_path, make, spec, message):
    make(tmp_path / "d.npz")
    fails({"npz": "d.npz", **spec}, tmp_path, message)


def test_damaged_npz_files_give_a_dataset_error_not_a_traceback(tmp_path):
    buf = io.BytesIO()
    np.savez_compressed(buf, X=np.random.default_rng(0).normal(size=(30, 4)), y=np.arange(30) % 3)
    data = buf.getvalue()
    rng = random.Random(0)
    refused = 0
    for trial in range(60):
        b = bytearray(data[: rng.randrange(len(data))] if trial % 2 else data)
        for _ in range(trial % 5):
            b[rng.randrange(len(b))] = rng.randrange(256)
        (tmp_path / "d.npz").write_bytes(bytes(b))
        try:
            load_dataset({"npz": "d.npz"}, base_dir=tmp_path)
        except DatasetError as exc:
            assert str(exc).startswith("d.npz: ")
            refused += 1
    assert refused >= 30


def test_single_npy_array_is_explained(tmp_path):
    np.save(tmp_path / "d.npy", np.zeros((3, 2)))
    (tmp_path / "d.npy").rename(tmp_path / "d.npz")
    fails({"npz": "d.npz"}, tmp_path, "holds a single array; save both X and y")


# --- image folders ------------------------------------------------------------------------

Image = pytest.importorskip("PIL.Image")


def image(path, size=(12, 10), mode="L", value=128):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value).save(path)


def tree(root, modes=("L", "L"), per_class=3, size=(12, 10)):
    for name, mode in zip(("cats", "dogs"), modes):
        for i in range(per_class):
            image(root / name / f"{i}.png", size, mode, 60 * i if mode == "L" else (200, 0, 9 * i))


def test_grayscale_folder_is_resized_to_one_channel(tmp_path):
    tree(tmp_path / "pics", per_class=5)
    d = load_dataset({"image_folder": "pics", "size": [8, 6]}, base_dir=tmp_path)
    assert d.input_shape == (1, 8, 6) and d.X_train.dtype == np.float32
    assert d.class_names == ["cats", "dogs"] and d.num_classes == 2
    X = np.concatenate([d.X_train, d.X_val])
    assert X.min() == 0.0 and np.isclose(X.max(), 240 / 255)
    assert np.bincount(d.y_val).tolist() == [1, 1]


def test_one_colour_image_makes_the_set_rgb_and_size_defaults_to_the_images(tmp_path):
    tree(tmp_path / "pics", modes=("L", "RGB"))
    d = load_dataset({"image_folder": "pics", "val_fraction": 0.34}, base_dir=tmp_path)
    assert d.input_shape == (3, 10, 12)
    X = np.concatenate([d.X_train, d.X_val])
    gray = X[np.concatenate([d.y_train, d.y_val]) == 0]
    assert np.array_equal(gray[:, 0], gray[:, 1])  # gray images copied to all channels


def test_sixteen_bit_grayscale_is_scaled_not_clipped(tmp_path):
    for name, v in (("a", 1000), ("b", 65535)):
        (tmp_path / "p" / name).mkdir(parents=True)
        for i in range(2):
            Image.new("I;16", (4, 4), v).save(tmp_path / "p" / name / f"{i}.png")
    d = load_dataset({"image_folder": "p", "val_fraction": 0.5}, base_dir=tmp_path)
    values = sorted(set(np.round(np.concatenate([d.X_train, d.X_val]).ravel(), 4)))
    assert values == [round(1000 / 65535, 4), 1.0]


def test_bad_image_folders_are_explained(tmp_path):
    fails({"image_folder": "none"}, tmp_path, "image folder 'none' does not exist")
    (tmp_path / "file").write_text("x")
    fails({"image_folder": "file"}, tmp_path, "image folder 'file' is a file, not a folder")
    (tmp_path / "empty").mkdir()
    fails({"image_folder": "empty"}, tmp_path, "image folder 'empty' is empty")
    image(tmp_path / "flat" / "a.png")
    fails({"image_folder": "flat"}, tmp_path, "has no subfolders; put the images in one subfolder")
    image(tmp_path / "one" / "cats" / "a.png")
    fails({"image_folder": "one"}, tmp_path, "has only one class folder ('cats')")
    image(tmp_path / "hollow" / "cats" / "a.png")
    (tmp_path / "hollow" / "dogs").mkdir()
    (tmp_path / "hollow" / "dogs" / "notes.txt").write_text("hi")
    fails({"image_folder": "hollow"}, tmp_path, "class folder 'dogs' in 'hollow' has no images")
    tree(tmp_path / "mixed")
    image(tmp_path / "mixed" / "dogs" / "big.png", size=(20, 20))
    fails({"image_folder": "mixed"}, tmp_path, "have different sizes (e.g. 10×12 and 20×20)")
    fails({"image_folder": "mixed", "size": [0, 4]}, tmp_path,
          "training.dataset.size: must be [H, W] with whole numbers")
    fails({"image_folder": "mixed", "task": "regression"}, tmp_path,
          'the task must be "classification"')


def test_unreadable_and_truncated_images_name_the_file(tmp_path):
    tree(tmp_path / "pics")
    (tmp_path / "pics" / "dogs" / "fake.png").write_text("not an image")
    fails({"image_folder": "pics"}, tmp_path, "image 'dogs/fake.png' cannot be read")
    (tmp_path / "pics" / "dogs" / "fake.png").unlink()
    good = (tmp_path / "pics" / "cats" / "0.png").read_bytes()
    (tmp_path / "pics" / "cats" / "cut.png").write_bytes(good[: len(good) // 2])
    fails({"image_folder": "pics"}, tmp_path, "image 'cats/cut.png' cannot be")


def test_decompression_bomb_limit_is_kept(tmp_path, monkeypatch):
    tree(tmp_path / "pics", size=(40, 40))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 1,600 pixels is "too many" now
    fails({"image_folder": "pics"}, tmp_path, "more pixels than Pillow's safety limit of 1,000")


def test_missing_pillow_says_how_to_install_it(tmp_path, monkeypatch):
    tree(tmp_path / "pics")
    monkeypatch.setitem(sys.modules, "PIL", None)
    fails({"image_folder": "pics"}, tmp_path, "`pip install pillow`")


# --- sample shape from the header alone (the editor's check before Start) ---------------

@pytest.mark.parametrize("make,spec", [
    (lambda d: write(d, flowers()), {"csv": "data.csv", "target": "species"}),
    (lambda d: np.savez(d / "d.npz", X=np.zeros((8, 3, 5), np.float64), y=np.arange(8) % 2),
     {"npz": "d.npz"}),
    (lambda d: np.savez(d / "t.npz", X=np.zeros((8, 7), np.int32), y=np.arange(8) % 2),
     {"npz": "t.npz"}),
    (lambda d: tree(d / "pics", modes=("L", "RGB")), {"image_folder": "pics"}),
    (lambda d: tree(d / "pics"), {"image_folder": "pics", "size": [8, 6]}),
])
def test_the_header_read_gives_the_loaded_sample_shape(tmp_path, make, spec):
    make(tmp_path)
    got = sample_shape(spec, tmp_path)
    d = load_dataset(spec, base_dir=tmp_path)
    assert (got.input_shape, got.input_dtype) == (d.input_shape, d.input_dtype)
    assert check_fits(got, d.input_shape, d.input_dtype) is None


@pytest.mark.parametrize("make,spec,message", [
    (lambda d: write(d, "a,b\n1,2\n"), {"csv": "data.csv", "target": "c"},
     "data.csv: there is no column 'c' for the target; columns: 'a', 'b'"),
    (lambda d: write(d, "only\n1\n"), {"csv": "data.csv"}, "has only one column ('only')"),
    (lambda d: write(d, "a,b\n1,2\n", encoding="utf-16"), {"csv": "data.csv"},
     "is not UTF-8 text"),
    (lambda d: np.savez(d / "d.npz", Z=np.zeros((4, 2))), {"npz": "d.npz"},
     "has no array named X or y (arrays in the file: Z)"),
    (lambda d: np.savez(d / "d.npz", X=np.zeros(4), y=np.zeros(4)), {"npz": "d.npz"},
     "X has shape (4,)"),
    (lambda d: _pickle(d / "d.npz"), {"npz": "d.npz"}, "holds pickled Python objects"),
    (lambda d: tree(d / "pics", size=(12, 10)) or image(d / "pics" / "dogs" / "big.png", (5, 5)),
     {"image_folder": "pics"}, "have different sizes"),
    (lambda d: None, {"npz": "gone.npz"}, "dataset file 'gone.npz' does not exist"),
])
def test_the_header_read_refuses_in_the_loaders_words(tmp_path, make, spec, message):
    make(tmp_path)
    with pytest.raises(DatasetError) as err:
        sample_shape(spec, tmp_path)
    assert message in str(err.value)
    assert message in fails(spec, tmp_path, message)  # the same words at load time


def test_a_built_in_dataset_has_no_file_to_read():
    assert sample_shape({"name": "digits"}) is None
