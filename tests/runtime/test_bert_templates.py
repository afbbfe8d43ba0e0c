"""The BERT-style template pair (issue 17 item 3): ``bert_masked_tokens``
pretrains a Transformer encoder on unlabelled sequences (masked tokens), and
``bert_finetune_period`` reuses the same encoder blocks, frozen, under a new
classification head.  The two steps as a user takes them on the command line:
train the masked model into a run folder, then train the classifier with
``--init-weights RUN/last.pt``."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from graph.project import load_project
from test_train_cli import ROOT, train

TEMPLATES = ROOT / "resources" / "templates"
MASKED, FINETUNE = TEMPLATES / "bert_masked_tokens.json", TEMPLATES / "bert_finetune_period.json"
#: The blocks the two templates share (names the checkpoint keys start with).
ENCODER = ("embed", "pos_enc", "encoder")


def _small(src: Path, dst: Path, n: int) -> Path:
    """A copy of a template with a small data set (the test's budget)."""
    data = json.loads(src.read_text(encoding="utf-8"))
    data["training"]["dataset"]["n"] = n
    dst.write_text(json.dumps(data), encoding="utf-8")
    return dst


def _model(ckpt: Path) -> dict:
    return torch.load(ckpt, weights_only=True)["model"]


def _block(key: str) -> str:
    return key.split(".", 1)[0]


def test_the_classifier_reuses_the_encoder_blocks_frozen_under_a_new_head():
    masked, fine = load_project(MASKED), load_project(FINETUNE)
    by_name = {n.name: n for n in masked.graph.nodes.values()}
    for node in fine.graph.nodes.values():
        if node.name in ENCODER:
            twin = by_name[node.name]
            assert (node.type, node.params) == (twin.type, twin.params), node.name
            assert node.frozen, node.name
        elif node.type not in ("Input", "Output"):
            assert not node.frozen and node.name not in by_name, node.name
    assert {n.name for n in fine.graph.nodes.values()} >= set(ENCODER)
    # only the masked positions are scored: the unmasked ones hold -100
    assert masked.training["loss"].get("ignore_index", -100) == -100
    assert masked.training["dataset"]["name"] == "masked_tokens"
    assert fine.training["dataset"]["name"] == "token_period"
    for project in (masked, fine):
        assert "Load Pretrained Weights" in project.extra["description"]


def test_pretrain_then_finetune_loads_the_encoder_and_trains_only_the_head(tmp_path):
    pre = train(_small(MASKED, tmp_path / "masked.json", 200), "--epochs", 1,
                "--out", tmp_path / "pre")
    assert pre.returncode == 0, pre.stderr
    ckpt = tmp_path / "pre" / "last.pt"
    fine = train(_small(FINETUNE, tmp_path / "fine.json", 120), "--epochs", 2,
                 "--init-weights", ckpt, "--out", tmp_path / "fine")
    assert fine.returncode == 0, fine.stderr
    lines = [ln.strip() for ln in fine.stderr.splitlines()]
    before, after = _model(ckpt), _model(tmp_path / "fine" / "last.pt")
    shared = [k for k in before if _block(k) in ENCODER]
    assert {_block(k) for k in shared} == {"embed", "encoder"}  # sinusoidal positions: no weights
    for key in shared:
        shape = "×".join(map(str, before[key].shape))
        assert f"loaded: {key} ({shape})" in lines, (key, fine.stderr)
        # frozen: the fine-tuning run left the pretrained tensor exactly as it was
        assert torch.equal(before[key], after[key]), key
    head = [k for k in after if _block(k) not in ENCODER]
    assert head
    for key in head:
        assert f"not loaded: {key}: missing in the file" in lines, (key, fine.stderr)
    # the masked model's own head is not part of the classifier
    unused = [k for k in before if _block(k) not in ENCODER]
    assert unused and all(f"unused: {k}: unexpected key, the network has no such tensor"
                          in lines for k in unused), fine.stderr
    # the optimizer holds the head's tensors and nothing of the encoder
    opt = torch.load(tmp_path / "fine" / "last.pt", weights_only=True)["optimizer"]
    assert sum(len(g["params"]) for g in opt["param_groups"]) == len(head)
    last = json.loads(fine.stdout.strip().splitlines()[-1])
    assert last["stopped"] == "completed" and 0.0 <= last["val_accuracy"] <= 1.0
