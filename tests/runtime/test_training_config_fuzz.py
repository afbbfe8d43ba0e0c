"""The runtime side of the training-section fuzz (quality.md R9): from random
sections (tests/training_sections.py), building the training configuration
raises nothing but :class:`~runtime.errors.ConfigError`, and refuses a section
exactly when the check (what ``check`` and the editor show) finds an error in
it, with that error's message; what it accepts, torch builds (loss, optimizer,
schedule) without an error; the training script refuses what the check reports."""

from __future__ import annotations

import torch
from hypothesis import given, settings

from codegen.errors import CodegenError
from codegen.training_script import render
from graph.training_check import first_error_text, training_errors
from runtime.config import parse_training
from runtime.errors import ConfigError
from runtime.optim import build_loss, build_optimizer, build_schedule, default_loss
from support import chain
from training_sections import section

GRAPH = chain(("Linear", {"out_features": 3}), input_shape=(4,))
MODEL = torch.nn.Linear(4, 3)
CPU = torch.device("cpu")
#: settings the check accepts but the engine refuses until it applies them
NOT_YET = ("augment", "loss_weights")


def _not_yet(training: dict) -> bool:
    return bool(training.get("augment")) or any(
        w != 1 for w in (training.get("loss_weights") or {}).values())


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(section)
def test_building_the_configuration_refuses_exactly_what_the_check_reports(training):
    errors = training_errors(training, GRAPH)
    try:
        c = parse_training(training, graph=GRAPH)
    except ConfigError as exc:
        if errors:
            assert str(exc) == first_error_text(errors)
        else:
            assert _not_yet(training), str(exc)
            assert str(exc).split(":")[0] in {f"training.{k}" for k in NOT_YET}
        return
    assert not errors, errors
    # what the check accepts, torch builds (the registry of names and settings agrees
    # with the installed torch: tests/runtime/test_training_names.py)
    build_loss(c.loss or default_loss(c.task or "classification"), CPU)
    opt = build_optimizer(c.optimizer, MODEL.parameters())
    build_schedule(c.scheduler, opt, c.epochs, 7)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(section)
def test_the_training_script_refuses_what_the_check_reports(training):
    errors = training_errors(training)
    try:
        render("model.py", "Net", "model_train.py", (4,), "float32", training)
    except CodegenError as exc:
        if errors:
            assert str(exc) == first_error_text(errors)
        return
    assert not errors
