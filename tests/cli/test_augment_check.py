"""``check`` names each ``training.augment`` key that cannot change any of the
network's inputs (an image change without a C×H×W float ``Input``, noise without
a float one, token dropout without a token one), with the key and the inputs,
before anything is trained; ``train`` refuses with the same words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import main

FLAT = [{"id": "x", "type": "Input", "name": "features",
         "params": {"shape": [4], "dtype": "float32"}},
        {"id": "l", "type": "Linear", "params": {"out_features": 3}},
        {"id": "y", "type": "Output", "params": {}}]
TOKENS = [{"id": "x", "type": "Input", "name": "tokens",
           "params": {"shape": ["T"], "dtype": "int64"}},
          {"id": "e", "type": "Embedding", "params": {"num_embeddings": 16,
                                                      "embedding_dim": 8}},
          {"id": "l", "type": "Linear", "params": {"out_features": 3}},
          {"id": "y", "type": "Output", "params": {}}]
IMAGE = [{"id": "x", "type": "Input", "name": "image",
          "params": {"shape": [1, 8, 8], "dtype": "float32"}},
         {"id": "f", "type": "Flatten", "params": {}},
         {"id": "l", "type": "Linear", "params": {"out_features": 10}},
         {"id": "y", "type": "Output", "params": {}}]

NONE_IMAGE = "applies to image inputs (C×H×W float samples), and this network has none"


def _project(tmp_path: Path, nodes: list, augment, dataset=None) -> Path:
    ids = [n["id"] for n in nodes]
    training = {"augment": augment}
    if dataset is not None:
        training["dataset"] = dataset
    doc = {"format": "netcanvas", "version": 1, "name": "Net", "nodes": nodes,
           "edges": [{"source": a, "target": b} for a, b in zip(ids, ids[1:])],
           "training": training}
    path = tmp_path / "net.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("nodes, augment, line", [
    (FLAT, {"rotate": 10},
     f'error  training.augment.rotate  rotate {NONE_IMAGE} (Input "features" gives 4 float '
     "samples); remove rotate"),
    (TOKENS, {"rotate": 10},
     f'error  training.augment.rotate  rotate {NONE_IMAGE} (Input "tokens" gives T integer '
     "samples); remove rotate"),
    (TOKENS, {"scale": [0.9, 1.1]},
     f'error  training.augment.scale  scale {NONE_IMAGE} (Input "tokens" gives T integer '
     "samples); remove scale"),
    (FLAT, {"token_dropout": 0.1},
     "error  training.augment.token_dropout  token_dropout applies to token (integer) inputs, "
     'and this network has none (Input "features" gives 4 float samples); use noise for '
     "float inputs"),
    (TOKENS, {"noise": 0.05},
     "error  training.augment.noise  noise applies to float inputs, and this network has "
     'none (Input "tokens" gives T integer samples); use token_dropout for token inputs'),
])
def test_check_names_the_key_that_fits_none_of_the_inputs(tmp_path, capsys, nodes, augment,
                                                          line):
    path = _project(tmp_path, nodes, augment)
    assert main.main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert line in out.splitlines(), out
    assert "invalid: 1 error" in out


def test_every_key_that_cannot_apply_gets_its_own_line(tmp_path, capsys):
    path = _project(tmp_path, FLAT, {"translate": 1, "noise": 0.1, "hflip": True,
                                     "token_dropout": 0.2})
    assert main.main(["check", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    named = [ln.split("  ")[1] for ln in lines if ln.startswith("error  training.augment")]
    # noise fits the float vector: only the image changes and the token dropout are named
    assert named == ["training.augment.translate", "training.augment.hflip",
                     "training.augment.token_dropout"]


def test_keys_that_fit_an_input_or_change_nothing_pass(tmp_path, capsys):
    path = _project(tmp_path, IMAGE, {"rotate": 10, "scale": [0.9, 1.1], "noise": 0.05})
    assert main.main(["check", str(path)]) == 0
    # switched off (0, false, [1, 1]): nothing would change, so nothing to refuse
    path = _project(tmp_path, TOKENS, {"rotate": 0, "hflip": False, "scale": [1, 1],
                                       "token_dropout": 0.1})
    assert main.main(["check", str(path)]) == 0
    assert "training.augment" not in capsys.readouterr().out


def test_a_network_with_an_image_and_a_token_input_takes_both_kinds(tmp_path, capsys):
    nodes = [IMAGE[0], dict(TOKENS[0], id="t")]
    doc = {"format": "netcanvas", "version": 1, "name": "Two", "nodes": nodes + [
        {"id": "f", "type": "Flatten", "params": {}},
        {"id": "e", "type": "Embedding", "params": {"num_embeddings": 16, "embedding_dim": 8}},
        {"id": "y1", "type": "Output", "params": {}}, {"id": "y2", "type": "Output", "params": {}}],
        "edges": [{"source": "x", "target": "f"}, {"source": "f", "target": "y1"},
                  {"source": "t", "target": "e"}, {"source": "e", "target": "y2"}],
        "training": {"augment": {"rotate": 5, "token_dropout": 0.1}}}
    path = tmp_path / "two.json"
    path.write_text(json.dumps(doc))
    assert main.main(["check", str(path)]) == 0
    assert "training.augment" not in capsys.readouterr().out


def test_check_json_carries_the_problem_with_its_location(tmp_path, capsys):
    path = _project(tmp_path, TOKENS, {"crop_pad": 2})
    assert main.main(["check", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    [problem] = [p for p in report["problems"] if p.get("location", "").startswith(
        "training.augment")]
    assert problem["location"] == "training.augment.crop_pad"
    assert problem["severity"] == "error" and problem["code"] == "bad_training"
    assert 'crop_pad applies to image inputs' in problem["message"]
    assert 'Input "tokens" gives T integer samples' in problem["message"]


def test_train_refuses_with_the_words_check_prints(tmp_path, capsys):
    path = _project(tmp_path, FLAT, {"rotate": 10}, dataset={"name": "iris"})
    assert main.main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert main.main(["train", str(path), "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    message = (f'training.augment.rotate: rotate {NONE_IMAGE} (Input "features" gives 4 float '
               "samples); remove rotate")
    assert f"error: {message}" in err
    assert message.replace(": ", "  ", 1) in out
