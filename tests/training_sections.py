"""Hypothesis strategies for ``training`` sections (quality.md R9), shared by
the check's fuzz (tests/graph/test_training_fuzz.py) and the runtime's
(tests/runtime/test_training_config_fuzz.py).

- ``noisy``: random JSON at every key, nested, mixed with near-valid settings
  (real loss, optimizer and schedule names with random settings);
- ``plain``: usual values, so that many sections pass the check and what is
  built from them is exercised too;
- ``section``: either.
"""

from __future__ import annotations

from hypothesis import strategies as st

from graph.training_check import KEYS
from graph.training_names import AUGMENT, LOSSES, MONITORS, OPTIMIZERS, SCHEDULES

leaf = (st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.integers(-3, 70)
        | st.floats(allow_nan=False, allow_infinity=False) | st.floats(-1, 2)
        | st.text(max_size=6) | st.sampled_from(["mean", "sum", "none", "cos", "min", "bf16",
                                                 "auto", "cpu", "val_loss", "y", "iris"]))
json_value = st.recursive(leaf, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                          max_leaves=6)
plausible = leaf | st.lists(st.integers(-1, 40), max_size=4) | st.lists(st.floats(0, 1),
                                                                         max_size=3)


def named(table) -> st.SearchStrategy:
    """``{"type": NAME, ...settings}`` with real and random names and settings."""
    setting_names = sorted({k for rules in table.values() for k in rules})
    return st.builds(
        lambda t, kw: {"type": t, **kw} if t is not None else kw,
        st.sampled_from(sorted(table)) | json_value,
        st.dictionaries(st.sampled_from(setting_names) | st.text(max_size=4), plausible,
                        max_size=4))


schedule = named(SCHEDULES)
scheduler = schedule | st.builds(lambda s, then: {**s, "then": then}, schedule,
                                 schedule | json_value)
dataset = st.fixed_dictionaries({}, optional={
    "name": st.sampled_from(["iris", "moons", "nope"]) | json_value,
    "csv": st.sampled_from(["a.csv", ""]) | json_value, "val_fraction": plausible,
    "n": plausible, "noise": plausible, "target": plausible, "size": plausible,
    "task": plausible, "seq_len": plausible})
loss = named(LOSSES)
STRATEGIES = {
    "dataset": dataset,
    "loss": loss | st.dictionaries(st.sampled_from(["y", "z"]), loss | json_value, max_size=2),
    "loss_weights": st.dictionaries(st.sampled_from(["y", "z"]) | st.text(max_size=3),
                                    plausible, max_size=2),
    "optimizer": named(OPTIMIZERS),
    "scheduler": scheduler,
    "early_stopping": st.fixed_dictionaries({}, optional={
        "patience": plausible, "monitor": st.sampled_from(MONITORS) | leaf,
        "min_delta": plausible, "mode": leaf}),
    "augment": st.dictionaries(st.sampled_from(sorted(AUGMENT)) | st.text(max_size=4),
                               plausible, max_size=3),
}
noisy = st.builds(
    lambda known, extra: {**known, **extra},
    st.fixed_dictionaries({}, optional={k: STRATEGIES.get(k, plausible) | json_value
                                        for k in KEYS}),
    st.dictionaries(st.text(max_size=8), json_value, max_size=1))

#: Values a setting of that name usually takes (some combinations are still wrong).
GOOD = {
    "lr": [1e-3, 0.1], "weight_decay": [0, 1e-4], "momentum": [0, 0.9], "betas": [[0.9, 0.99]],
    "eps": [1e-8], "amsgrad": [True, False], "nesterov": [True, False], "dampening": [0, 0.1],
    "alpha": [0.99], "centered": [True], "rho": [0.9], "lr_decay": [0.0, 0.01],
    "initial_accumulator_value": [0.1], "momentum_decay": [0.004],
    "decoupled_weight_decay": [True], "maximize": [False, True], "foreach": [None, False],
    "differentiable": [False], "capturable": [False], "fused": [None],
    "label_smoothing": [0.0, 0.1], "reduction": ["mean", "sum", "batchmean"],
    "weight": [[1.0, 2.0, 1.0], [1.0]], "pos_weight": [[1.0, 1.0, 1.0]],
    "ignore_index": [-100, 1], "beta": [1.0, 0.0], "delta": [1.0], "p": [1, 2],
    "margin": [1.0, -1], "log_target": [False, True],
    "step_size": [1, 3], "gamma": [0.5, 0.9, 1], "milestones": [[1, 2], [3]], "T_max": [5, 1],
    "eta_min": [0.0, 1e-5], "T_0": [2], "T_mult": [1, 2], "factor": [0.5, 0.9],
    "total_iters": [0, 3], "start_factor": [0.5, 1.0], "end_factor": [1.0, 0.0],
    "power": [1.0, 2.0], "base_lr": [1e-4, [1e-4]], "max_lr": [0.01, [0.02]],
    "step_size_up": [2], "step_size_down": [None, 3],
    "mode": ["triangular", "triangular2", "exp_range", "min", "max"],
    "scale_mode": ["cycle", "iterations"], "cycle_momentum": [True, False],
    "base_momentum": [0.8], "max_momentum": [0.9], "total_steps": [1, 1000], "epochs": [1, 5],
    "steps_per_epoch": [1, 100], "pct_start": [0.3], "anneal_strategy": ["cos", "linear"],
    "div_factor": [25.0], "final_div_factor": [1e4], "three_phase": [True, False],
    "patience": [0, 2], "threshold": [1e-4], "threshold_mode": ["rel", "abs"],
    "cooldown": [0, 1], "min_lr": [0, 1e-6], "decay": [0.1, 0], "warmup_steps": [1, 5],
}


def usual(table) -> st.SearchStrategy:
    """``{"type": NAME, ...}`` with usual values for a few of its settings."""
    def build(name):
        return st.fixed_dictionaries(
            {"type": st.just(name)},
            optional={k: st.sampled_from(GOOD.get(k, [None])) for k in table[name]})
    return st.sampled_from(sorted(table)).flatmap(build)


usual_schedule = usual(SCHEDULES)
#: Sections of usual values: many pass the check, so what is built from them is tested too.
plain = st.fixed_dictionaries({"dataset": st.just({"name": "iris"})}, optional={
    "loss": usual(LOSSES) | st.builds(lambda v: {"y": v}, usual(LOSSES)),
    "optimizer": usual(OPTIMIZERS),
    "scheduler": usual_schedule | st.builds(lambda s: {"type": "LinearWarmup",
                                                       "warmup_steps": 2, "then": s},
                                            usual_schedule),
    "epochs": st.integers(1, 3), "batch_size": st.integers(1, 64),
    "seed": st.integers(0, 2**32 - 1),
    "grad_accum_steps": st.integers(1, 3), "grad_clip_norm": st.sampled_from([None, 1.0]),
    "l1": st.sampled_from([0, 1e-4]), "amp": st.sampled_from([False, "bf16"]),
    "early_stopping": st.sampled_from([None, {"patience": 2}, {"patience": 1,
                                                                "monitor": "train_loss"}]),
    "task": st.sampled_from([None, "classification"]), "device": st.just("cpu"),
})
section = noisy | plain
