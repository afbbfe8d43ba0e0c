"""The checks of a checkpoint against the trainer it is resumed into.

:mod:`runtime.checkpoint_schema` has checked each field's type and range when
the file was read; what must also agree with *this* run is checked here, by
:func:`runtime.resume.restore`, before any of it is applied:

- RNG states that the generators they restore accept (tried on throwaway
  generators, so a refusal leaves the global one untouched);
- the stopped epoch: a permutation of this run's samples, a step within an
  epoch, one gradient norm per layer with weights; saved gradients shaped
  like the parameters;
- the optimizer: each group's settings are ones a fresh optimizer of the same
  class takes (its constructor and one step on a throwaway parameter check
  their values, as torch would at the first step), and each parameter's state
  has the entries that step makes, shaped like the parameter;
- optimizer and schedule settings of the kinds the freshly made objects hold
  (:func:`same_kind`): torch's ``load_state_dict`` takes whatever it is given.

Problems are :class:`~runtime.errors.CheckpointFieldError` with the field's
path, as in :mod:`runtime.checkpoint_schema`.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch

from .checkpoint_schema import (FLOAT32_MAX, ROOT, Fields, child, describe, is_finite,
                                is_number)

#: Optimizer state entries that are one number per parameter, not one per weight.
SCALAR_STATE = ("step", "mu_product")


def check_rng(rng: dict, device: torch.device, F: Fields) -> None:
    """Each saved generator state is one the generator it restores accepts.

    Checked on throwaway generators, so that a refusal leaves the global
    generator untouched.
    """
    field = f"{ROOT}.rng"
    todo = []
    if "torch" in rng:
        todo.append(("torch", rng["torch"], torch.Generator()))
    if "shuffle" in rng and rng.get("shuffle_device") == device.type:
        todo.append(("shuffle", rng["shuffle"], torch.Generator(device=device)))
    if "augment" in rng and rng.get("shuffle_device") == device.type:
        todo.append(("augment", rng["augment"], torch.Generator(device=device)))
    if rng.get("cuda") and device.type == "cuda":
        n = torch.cuda.device_count()
        if len(rng["cuda"]) > n:
            raise F.bad(f"{field}.cuda", f"holds {len(rng['cuda'])} GPU states but this "
                        f"machine has {n} GPU(s)")
        todo += [(f"cuda[{i}]", s, torch.Generator(device=f"cuda:{i}"))
                 for i, s in enumerate(rng["cuda"])]
    for name, state, gen in todo:
        want = gen.get_state().numel()
        f = f"{field}.{name}"
        if state.numel() != want:
            raise F.bad(f, f"expected a random-number generator state of {want:,} bytes, "
                        f"got {describe(state)}")
        try:
            gen.set_state(state)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise F.bad(f, f"is not a valid random-number generator state "
                        f"({str(exc).splitlines()[0]})") from None


def check_epoch_state(state: dict, n_samples: int, steps: int, n_norms: int, F: Fields) -> None:
    """The stopped epoch fits this run: its permutation, step and gradient norms."""
    field = f"{ROOT}.epoch_state"
    perm = state["perm"]
    if not torch.equal(torch.sort(perm).values, torch.arange(n_samples)):
        raise F.bad(f"{field}.perm", f"expected an ordering of the {n_samples:,} training "
                    "samples (each index from 0 once), got other indices")
    if state["step"] > steps:
        raise F.bad(f"{field}.step", f"expected at most {steps} (the steps of an epoch), "
                    f"got {state['step']}")
    norms = state.get("norms")
    if norms is not None and norms.numel() != n_norms:
        raise F.bad(f"{field}.norms", f"expected {n_norms} gradient norms (one per layer "
                    f"with weights), got {describe(norms)}")


def check_grads(grads: list, params: list, F: Fields) -> None:
    """Saved gradients: one per parameter, each None or of its parameter's shape."""
    field = f"{ROOT}.grads"
    if len(grads) != len(params):
        raise F.bad(field, f"expected {len(params)} gradients (one per parameter), got "
                    f"{len(grads)}")
    for i, (g, p) in enumerate(zip(grads, params)):
        if g is not None and g.shape != p.shape:
            raise F.bad(f"{field}[{i}]", f"expected a tensor of shape {tuple(p.shape)}, got "
                        f"{describe(g)}")


def _fresh_state(optimizer: torch.optim.Optimizer, group: dict, field: str,
                 F: Fields) -> dict:
    """The state one step of this optimizer, with ``group``'s settings, makes for a
    parameter: made on a throwaway one-element parameter.  Its constructor and
    step also check the settings' values (torch refuses a negative learning
    rate, or ``capturable`` on the CPU)."""
    takes = inspect.signature(type(optimizer).__init__).parameters
    # defaults may hold settings the class's constructor does not take (AdamW
    # inherits Adam's decoupled_weight_decay)
    settings = {k: v for k, v in group.items() if k in optimizer.defaults and k in takes}
    device = group["params"][0].device if group["params"] else torch.device("cpu")
    p = torch.zeros(1, device=device, requires_grad=True)
    try:
        probe = type(optimizer)([p], **settings)
        p.grad = torch.ones(1, device=device)
        probe.step()
    except (ValueError, TypeError, RuntimeError, KeyError, AssertionError) as exc:
        # torch checks some settings with assertions (capturable on the CPU)
        raise F.bad(field, f"holds settings the optimizer refuses "
                    f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
                    ) from None
    return dict(probe.state[p])


def check_optimizer_state(optimizer: torch.optim.Optimizer, F: Fields) -> None:
    """After loading: each group's settings are ones the optimizer takes, and each
    parameter's state has the entries a step makes, of their kinds, shaped like
    the parameter.

    torch's ``load_state_dict`` checks the groups' sizes but neither the
    settings' values nor the state's entries and shapes; a wrong one would
    fail only inside the first ``step``.
    """
    params = [p for g in optimizer.param_groups for p in g["params"]]
    index = {id(p): i for i, p in enumerate(params)}
    for i, group in enumerate(optimizer.param_groups):
        fresh = _fresh_state(optimizer, group, f"{ROOT}.optimizer.param_groups[{i}]", F)
        for p in group["params"]:
            entry = optimizer.state.get(p)
            if not entry:
                continue  # made afresh at the first step
            f = f"{ROOT}.optimizer.state[{index[id(p)]}]"
            for name, made in fresh.items():
                if name not in entry:
                    raise F.bad(child(f, name), "missing")
                v = entry[name]
                if name in SCALAR_STATE:  # counts and products of momenta: never negative
                    ok = is_finite(v) and v >= 0 or isinstance(v, torch.Tensor) \
                        and v.numel() == 1 and not v.is_complex() \
                        and bool(torch.isfinite(v).all()) and float(v) >= 0
                    F.expect(ok, child(f, name), "a non-negative number (or a one-element "
                             "tensor)", v)
                elif isinstance(made, torch.Tensor) or v is not None:
                    # None only where a step leaves it None (SGD without momentum)
                    F.expect(isinstance(v, torch.Tensor), child(f, name),
                             f"a tensor of shape {tuple(p.shape)} (its parameter's)", v)
                    if v.shape != p.shape:
                        raise F.bad(child(f, name), f"expected a tensor of shape "
                                    f"{tuple(p.shape)} (its parameter's), got {describe(v)}")
                    if not bool(torch.isfinite(v).all()):
                        raise F.bad(child(f, name), "holds NaN or infinite values")


def same_kind(saved: Any, fresh: Any, field: str, F: Fields, extra_keys: bool = True,
              hint: str = "") -> None:
    """``saved`` holds values of the kinds ``fresh`` (the same object, freshly made) holds.

    Dicts are compared key by key (a key ``fresh`` has must be there; one it
    lacks is refused unless ``extra_keys``), lists and tuples item by item,
    numbers must be finite where the fresh one is, and strings must be the
    fresh ones: they are modes and the names of settings (OneCycleLR's phases
    name the learning rates they run between), which the run's settings fix.
    ``hint`` ends every message.
    """
    def expect(ok: bool, what: str) -> None:
        if not ok:
            raise F.bad(field, f"expected {what}, got {describe(saved)}{hint}")

    if isinstance(fresh, dict):
        expect(isinstance(saved, dict), "a dict")
        for k, v in fresh.items():
            if k not in saved:
                raise F.bad(child(field, k), f"missing{hint}")
            same_kind(saved[k], v, child(field, k), F, extra_keys, hint)
        if not extra_keys:
            for k in saved:
                if k not in fresh:
                    raise F.bad(child(field, k), f"is not a setting this object has{hint}")
    elif isinstance(fresh, (list, tuple)):
        expect(isinstance(saved, (list, tuple)) and len(saved) == len(fresh),
               f"a list of {len(fresh)} item{'' if len(fresh) == 1 else 's'}")
        for i, (a, b) in enumerate(zip(saved, fresh)):
            same_kind(a, b, f"{field}[{i}]", F, extra_keys, hint)
    elif isinstance(fresh, bool):
        expect(isinstance(saved, bool), "True or False")
    elif is_number(fresh):
        if not is_finite(fresh):
            expect(is_number(saved), "a number")
        else:  # settings are used in float32 arithmetic: 1e300 would overflow mid-step
            expect(is_finite(saved), "a finite number")
            expect(abs(saved) <= FLOAT32_MAX, "a number within float32's range (up to about "
                   "3.4e38)")
    elif isinstance(fresh, str):
        expect(saved == fresh, repr(fresh))
    elif isinstance(fresh, torch.Tensor):
        expect(isinstance(saved, torch.Tensor) and saved.shape == fresh.shape,
               f"a tensor of shape {tuple(fresh.shape)}")
    elif fresh is None:
        expect(saved is None or is_number(saved) or isinstance(saved, (bool, str)),
               "None or a plain value")
