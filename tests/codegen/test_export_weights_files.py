"""Broken weight files given to ``export --weights`` (bad-input issue, item 2), as a
user runs it (``main.main``, in-process): one ``error:`` line saying what is
wrong with the file, exit code 1, never a traceback or torch's advice to load
with ``weights_only=False``."""

from __future__ import annotations

import json
import struct

import pytest
import torch

import main
from codegen.export import ExportError, save_weights

pytest.importorskip("safetensors")

PROJECT = {
    "format": "netcanvas", "version": 1, "name": "Tiny",
    "nodes": [{"id": "x", "type": "Input", "params": {"shape": [4]}},
              {"id": "fc", "type": "Linear", "name": "fc", "params": {"out_features": 3}},
              {"id": "y", "type": "Output", "params": {}}],
    "edges": [{"source": "x", "target": "fc"}, {"source": "fc", "target": "y"}],
}


def good_safetensors(tmp_path) -> bytes:
    from safetensors.torch import save_file

    path = tmp_path / "good.safetensors"
    save_file({"fc.weight": torch.zeros(3, 4), "fc.bias": torch.zeros(3)}, str(path))
    return path.read_bytes()


def header(doc: dict) -> bytes:
    raw = json.dumps(doc).encode()
    return struct.pack("<Q", len(raw)) + raw


BROKEN = {
    "truncated": (lambda good: good[: len(good) // 2], "invalid header length"),
    "empty": (lambda good: b"", "header too small"),
    "bad header": (lambda good: struct.pack("<Q", 20) + b"{not json at all}...",
                   "invalid JSON in header"),
    "header too large": (lambda good: b"\xff" * 8 + b"{}", "header too large"),
    "unknown dtype": (lambda good: header({"fc.weight": {"dtype": "F99", "shape": [3, 4],
                                                         "data_offsets": [0, 48]}}) + b"\0" * 48,
                      "invalid JSON in header: unknown variant `F99`"),
}


@pytest.mark.parametrize("name", BROKEN)
def test_export_of_broken_safetensors_says_what_is_wrong(tmp_path, capsys, name):
    make, detail = BROKEN[name]
    proj = tmp_path / "tiny.json"
    proj.write_text(json.dumps(PROJECT))
    bad = tmp_path / "w.safetensors"
    bad.write_bytes(make(good_safetensors(tmp_path)))
    code = main.main(["export", str(proj), "-o", str(tmp_path / "m.py"), "--weights", str(bad)])
    _out, err = capsys.readouterr()
    assert code == 1
    assert (f"error: cannot read weights from {bad}: it is not a complete safetensors file "
            f"(its header is damaged: {detail}") in err, err
    assert "Traceback" not in err and "SafetensorError" not in err


def test_export_of_weights_with_a_pickled_object_gives_no_unsafe_advice(tmp_path, capsys):
    proj = tmp_path / "tiny.json"
    proj.write_text(json.dumps(PROJECT))
    bad = tmp_path / "w.pt"
    torch.save({"fc.weight": torch.zeros(3, 4), "hook": print}, bad)  # a global: refused
    code = main.main(["export", str(proj), "-o", str(tmp_path / "m.py"), "--weights", str(bad)])
    _out, err = capsys.readouterr()
    assert code == 1
    assert (f"error: cannot read weights from {bad}: it holds objects other than tensors and "
            "plain values, and loading it could run code (Unsupported global: GLOBAL print "
            "was not an allowed global by default)") in err, err
    assert "weights_only" not in err and "trusted source" not in err


def test_export_of_weights_from_a_device_is_refused(tmp_path, capsys):
    proj = tmp_path / "tiny.json"
    proj.write_text(json.dumps(PROJECT))
    code = main.main(["export", str(proj), "-o", str(tmp_path / "m.py"), "--weights",
                      "/dev/zero"])
    _out, err = capsys.readouterr()
    assert code == 1
    assert "error: cannot read weights from /dev/zero: it is not a regular file" in err, err


def test_a_weights_write_torch_fails_is_an_export_error(tmp_path, monkeypatch):
    """torch's writer raises a bare RuntimeError on a full disk; it becomes our error."""
    def save(obj, f, *a, **k):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0")

    monkeypatch.setattr(torch, "save", save)
    with pytest.raises(ExportError, match=r"cannot write .*w\.pt: \[enforce fail.*\(is the disk "
                                          r"full\?\)"):
        save_weights(torch.nn.Linear(2, 2), tmp_path / "w.pt")
    assert list(tmp_path.iterdir()) == []  # no temporary left behind
