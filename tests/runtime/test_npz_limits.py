""".npz files whose arrays would not fit in memory are refused from what they
declare, before anything is decompressed (a "zip bomb" took 13 s to be refused)."""

import io
import re
import struct
import time
import zipfile

import numpy as np
import pytest

from runtime.data import DatasetError, load_dataset
from runtime.data import npz as npz_mod

MB = 1_000_000


@pytest.fixture
def no_decompressing(monkeypatch):
    """Fail the test if numpy is asked to read the arrays."""
    def refuse(*_a, **_k):
        raise AssertionError("the arrays were read before the sizes were checked")
    monkeypatch.setattr(npz_mod.np, "load", refuse)


def test_a_compressed_array_that_expands_past_the_limit_is_refused_unread(
        tmp_path, monkeypatch, no_decompressing):
    # 16 MB of zeros compress to a few kilobytes
    np.savez_compressed(tmp_path / "bomb.npz", X=np.zeros((2000, 1000)), y=np.zeros(2000))
    assert (tmp_path / "bomb.npz").stat().st_size < 100_000
    monkeypatch.setattr(npz_mod, "memory_limit", lambda: 1 * MB)
    with pytest.raises(DatasetError) as err:
        load_dataset({"npz": "bomb.npz"}, base_dir=tmp_path)
    packed = zipfile.ZipFile(tmp_path / "bomb.npz").getinfo("X.npy").compress_size
    assert str(err.value) == (
        f"bomb.npz: array X ({packed:,} bytes compressed) "
        "would take 16.0 MB once read, more than the 1.0 MB this machine can spare now; use a "
        "smaller dataset (or free memory)")


def _declare_size(path, member: str, size: int) -> None:
    """Rewrite a zip's declared uncompressed size of ``member`` (local header and
    central directory), as a crafted archive would."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for sig, size_at, name_len_at, name_at in ((b"PK\x03\x04", 22, 26, 30),
                                               (b"PK\x01\x02", 24, 28, 46)):
        at = data.find(sig)
        while at >= 0:
            n = struct.unpack_from("<H", data, at + name_len_at)[0]
            if data[at + name_at:at + name_at + n] == name:
                struct.pack_into("<I", data, at + size_at, size)
            at = data.find(sig, at + 4)
    path.write_bytes(bytes(data))


def test_a_declared_size_beyond_the_limit_is_refused_from_the_directory(
        tmp_path, monkeypatch, no_decompressing):
    np.savez_compressed(tmp_path / "d.npz", X=np.zeros((10, 3)), y=np.arange(10) % 2)
    _declare_size(tmp_path / "d.npz", "X.npy", 0xFFFF_FF00)  # "4.3 GB"
    monkeypatch.setattr(npz_mod, "memory_limit", lambda: 100 * MB)
    t0 = time.perf_counter()
    with pytest.raises(DatasetError) as err:
        load_dataset({"npz": "d.npz"}, base_dir=tmp_path)
    assert time.perf_counter() - t0 < 1
    text = str(err.value)
    assert text.startswith("d.npz: array X (") and "bytes compressed) would take 4.3 GB once " \
        "read, more than the 100.0 MB this machine can spare now" in text


def _npz_with_header_only(path, shape) -> None:
    """An .npz whose X.npy is a header declaring ``shape`` and no data (a few bytes)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": shape})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("X.npy", header.getvalue())  # magic and header, no data
        buf = io.BytesIO()
        np.save(buf, np.zeros(3))
        z.writestr("y.npy", buf.getvalue())


def test_the_shape_a_header_declares_is_checked_before_reading(tmp_path, monkeypatch,
                                                                no_decompressing):
    _npz_with_header_only(tmp_path / "d.npz", (1_000_000, 1000))
    assert (tmp_path / "d.npz").stat().st_size < 1000
    monkeypatch.setattr(npz_mod, "memory_limit", lambda: 100 * MB)
    message = ("d.npz: array X (shape (1000000, 1000) of float32) would take 4.0 GB once read, "
               "more than the 100.0 MB this machine can spare now")
    with pytest.raises(DatasetError, match=re.escape(message)):
        load_dataset({"npz": "d.npz"}, base_dir=tmp_path)
    # what the window reads to check the dataset against the Input, before Start
    with pytest.raises(DatasetError, match=re.escape(message)):
        npz_mod.npz_sample_shape(tmp_path / "d.npz")


def test_arrays_within_the_limit_load(tmp_path, monkeypatch):
    np.savez_compressed(tmp_path / "d.npz", X=np.zeros((20, 3)), y=np.arange(20) % 2)
    monkeypatch.setattr(npz_mod, "memory_limit", lambda: 1 * MB)
    d = load_dataset({"npz": "d.npz"}, base_dir=tmp_path)
    assert d.X_train.shape[1:] == (3,)
    assert npz_mod.memory_limit is not None and npz_mod.MEMORY_SHARE == 0.5


def test_the_limit_follows_the_memory_available_now(monkeypatch):
    monkeypatch.setattr(npz_mod, "available_memory", lambda: 8 * MB)
    assert npz_mod.memory_limit() == 4 * MB
    monkeypatch.setattr(npz_mod, "available_memory", lambda: None)
    assert npz_mod.memory_limit() is None
