"""The one registry of training names (graph.training_names) against torch:
every loss, optimizer and schedule it names exists, every setting it accepts
is a constructor argument, what torch requires it requires, and no
configurable torch schedule is missing; the runtime and the settings panel
read their lists from it."""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler

from graph import training_names as names
from graph.training_check import section_problems
from runtime import optim

NOT_CONFIGURABLE = ("LambdaLR", "MultiplicativeLR", "SequentialLR", "ChainedScheduler",
                    "LRScheduler")


def _arguments(cls, skip: int) -> tuple[set, set]:
    """(all keyword names, those without a default) after ``self`` and ``skip`` more."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1 + skip:]
    kw = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return {p.name for p in kw}, {p.name for p in kw if p.default is p.empty}


@pytest.mark.parametrize("table,home,skip", [
    (names.LOSSES, nn, 0), (names.OPTIMIZERS, torch.optim, 1),
    (names.TORCH_SCHEDULES, lr_scheduler, 1)], ids=["losses", "optimizers", "schedules"])
def test_every_name_and_setting_is_torchs(table, home, skip):
    for name, rules in table.items():
        accepted, required = _arguments(getattr(home, name), skip)
        assert set(rules) <= accepted, (name, set(rules) - accepted)
        needed = {k for k, r in rules.items() if r.required}
        # torch's required ones the registry requires, or the engine fills in
        assert required - needed <= {"T_max", "max_lr"}, (name, required - needed)


def test_no_configurable_torch_schedule_is_missing():
    torch_names = {n for n, c in vars(lr_scheduler).items()
                   if isinstance(c, type) and n not in NOT_CONFIGURABLE and not n.startswith("_")
                   and (issubclass(c, lr_scheduler.LRScheduler) or n == "ReduceLROnPlateau")}
    assert torch_names == set(names.TORCH_SCHEDULES)


def test_the_runtime_and_the_panel_read_the_registry():
    from gui.training import settings_data

    assert optim.LOSSES == settings_data.LOSSES == tuple(names.LOSSES)
    assert optim.OPTIMIZERS == settings_data.OPTIMIZERS == tuple(names.OPTIMIZERS)
    assert optim.schedule_names() == tuple(names.SCHEDULES)
    assert set(settings_data.SCHEDULES) <= set(names.SCHEDULES)


def test_each_schedule_the_panel_offers_starts_from_valid_settings():
    from gui.training.settings_data import SCHEDULES

    for name, start in SCHEDULES.items():
        assert section_problems({"scheduler": {"type": name, **start}}) == [], name


@pytest.mark.parametrize("name", list(names.SCHEDULES))
def test_every_schedule_starts_from_settings_that_check_and_build(name):
    # the panel offers every schedule from these starts: each must be valid
    # for the check and build in torch, for an optimizer with momentum and one with betas
    assert set(names.SCHEDULE_STARTS) == set(names.SCHEDULES)
    spec = {"type": name, **names.SCHEDULE_STARTS[name]}
    for opt in ({"type": "SGD", "lr": 0.1, "momentum": 0.9}, {"type": "Adam", "lr": 0.01}):
        assert section_problems({"scheduler": spec, "optimizer": opt}) == [], (name, opt)
        w = torch.nn.Parameter(torch.zeros(2))
        o = optim.build_optimizer(opt, [w])
        s = optim.build_schedule(spec, o, epochs=3, steps_per_epoch=4)
        for _ in range(3):
            for _ in range(4):
                o.step()
                s.step_batch()
            s.step_epoch(1.0)
        assert o.param_groups[0]["lr"] > 0, (name, opt)
