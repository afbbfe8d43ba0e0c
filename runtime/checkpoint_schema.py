"""The layout of a checkpoint, checked field by field before any of it is used.

``torch.load(weights_only=True)`` promises only that a file holds tensors and
plain containers; a damaged or crafted file may hold them in any arrangement
(``epoch: "one"``, a 3-byte RNG state, gradients of another shape), and each
would otherwise surface as a traceback halfway into a resume, or as a crash
in the first training step.  Two passes stand in the way:

- :func:`check_structure` needs no network: every field present has its type
  and range, ``model`` maps names to finite tensors.  :func:`runtime.checkpoint.load_checkpoint`
  runs it, so every reader of a checkpoint gets it.
- :mod:`runtime.resume_checks` takes the trainer a checkpoint is resumed
  into (:func:`runtime.resume.restore` calls it): RNG states the generators
  accept, the stopped epoch's permutation and counts, gradients and optimizer
  state shaped like the parameters, and optimizer and schedule settings of the
  kinds the fresh objects hold.

Each problem is a :class:`~runtime.errors.CheckpointFieldError` naming the field
by its path from the checkpoint's top (``checkpoint.epoch``,
``checkpoint.model['fc.weight']``, ``checkpoint.optimizer.state[0].exp_avg``)
and saying what is wrong (``expected a non-negative integer, got 'one'``).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .errors import CheckpointFieldError

ROOT = "checkpoint"
#: The largest magnitude of a float32, the type training computes in.
FLOAT32_MAX = float(torch.finfo(torch.float32).max)


# ---------------------------------------------------------------------- words
def describe(value: Any) -> str:
    """A value as a message shows it: short, and never the whole of a big one."""
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).replace("torch.", "")
        if value.dim() == 0:
            return f"a scalar tensor ({dtype})"
        return f"a tensor of shape {tuple(value.shape)} ({dtype})"
    if value is None or isinstance(value, (bool, float)):
        return repr(value)
    if isinstance(value, int):  # repr of a huge int is slow, and refused past 4,300 digits
        return repr(value) if value.bit_length() <= 64 else \
            f"an integer of about {int(value.bit_length() * math.log10(2)):,} digits"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37]) + "…"
    if isinstance(value, dict):
        return f"a dict of {len(value)} entr{'y' if len(value) == 1 else 'ies'}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} item{'' if len(value) == 1 else 's'}"
    return f"a {type(value).__name__}"


def child(field: str, key: Any) -> str:
    """``checkpoint.rng`` + ``"torch"`` → ``checkpoint.rng.torch``; other keys in brackets
    (``checkpoint.model['fc.weight']``, ``checkpoint.grads[2]``)."""
    if isinstance(key, str) and key.isidentifier():
        return f"{field}.{key}"
    return f"{field}[{describe(key)}]"


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_finite(v: Any) -> bool:
    return is_int(v) or (isinstance(v, float) and math.isfinite(v))


class Fields:
    """Raises the field errors of one checkpoint file (its path goes in every message)."""

    def __init__(self, path: str | None):
        self.path = path

    def bad(self, field: str, problem: str) -> CheckpointFieldError:
        return CheckpointFieldError(field, problem, self.path)

    def expect(self, ok: bool, field: str, what: str, value: Any) -> None:
        if not ok:
            raise self.bad(field, f"expected {what}, got {describe(value)}")

    def dict(self, doc: dict, key: str, field: str, required: bool = False) -> dict | None:
        """``doc[key]`` checked to be a dict (None when absent and not required)."""
        f = child(field, key)
        if key not in doc:
            if required:
                raise self.bad(f, "missing")
            return None
        self.expect(isinstance(doc[key], dict), f, "a dict", doc[key])
        return doc[key]

    def count(self, doc: dict, key: str, field: str, low: int = 0, required: bool = False,
              nullable: bool = False) -> None:
        """``doc[key]`` is a whole number ≥ ``low`` (or None when ``nullable``)."""
        f = child(field, key)
        if key not in doc:
            if required:
                raise self.bad(f, "missing")
            return
        v = doc[key]
        if v is None and nullable:
            return
        what = "a non-negative integer" if low == 0 else f"an integer of at least {low}"
        self.expect(is_int(v) and v >= low, f, what + (" or None" if nullable else ""), v)

    def number(self, v: Any, field: str, nullable: bool = False, low: float | None = None) -> None:
        ok = (v is None and nullable) or (is_number(v) and (low is None or is_finite(v)
                                                              and v >= low))
        what = "a number" if low is None else f"a finite number of at least {low:g}"
        self.expect(ok, field, what + (" or None" if nullable else ""), v)

    def numbers(self, v: Any, field: str) -> None:
        self.expect(isinstance(v, list), field, "a list of numbers", v)
        for i, x in enumerate(v):
            self.number(x, f"{field}[{i}]")

    def tensor(self, v: Any, field: str, what: str, ok) -> None:
        self.expect(isinstance(v, torch.Tensor) and ok(v), field, what, v)


def _byte_state(t: torch.Tensor) -> bool:
    return t.dtype == torch.uint8 and t.dim() == 1


def _plain_tensor(t: torch.Tensor) -> bool:
    return not t.is_complex() and t.dtype != torch.bool


# ---------------------------------------------------------------------- structure
def check_structure(doc: dict, path: str | None = None) -> None:
    """Check every field a checkpoint holds for its type and range.

    Fields may be absent (what needs them says so); the ``model`` may not.

    Raises:
        CheckpointFieldError: the first field that is wrong, with its path.
    """
    F = Fields(path)
    model = F.dict(doc, "model", ROOT, required=True)
    check_state_dict(model, F, f"{ROOT}.model")
    optimizer = F.dict(doc, "optimizer", ROOT)
    if optimizer is not None:
        _optimizer(optimizer, F, f"{ROOT}.optimizer")
    for key in ("scheduler", "scaler"):
        if doc.get(key) is not None:
            F.dict(doc, key, ROOT)
    if doc.get("scheduler") is not None:
        sched, f = doc["scheduler"], f"{ROOT}.scheduler"
        F.count(sched, "steps", f, required=True)
        for key in ("scheduler", "warmup"):
            if sched.get(key) is not None:
                F.dict(sched, key, f)
    rng = F.dict(doc, "rng", ROOT)
    if rng is not None:
        _rng(rng, F, f"{ROOT}.rng")
    for key in ("epoch", "step"):
        F.count(doc, key, ROOT)
    F.count(doc, "planned_epochs", ROOT, low=1, nullable=True)
    if "partial" in doc:
        F.expect(isinstance(doc["partial"], bool), f"{ROOT}.partial", "True or False",
                 doc["partial"])
    if "history" in doc:
        _history(doc["history"], F, f"{ROOT}.history")
    if "step_losses" in doc:
        F.numbers(doc["step_losses"], f"{ROOT}.step_losses")
    best = F.dict(doc, "best", ROOT)
    if best is not None:
        _best(best, F, f"{ROOT}.best")
    for key in ("project", "training"):
        F.dict(doc, key, ROOT)
    if doc.get("epoch_state") is not None:
        _epoch_state(F.dict(doc, "epoch_state", ROOT), F, f"{ROOT}.epoch_state")
    _counts_agree(doc, F)
    if doc.get("grads") is not None:
        grads, f = doc["grads"], f"{ROOT}.grads"
        F.expect(isinstance(grads, list), f, "a list of gradients (tensors or None)", grads)
        for i, g in enumerate(grads):
            F.expect(g is None or isinstance(g, torch.Tensor) and g.is_floating_point(),
                     f"{f}[{i}]", "a floating-point tensor or None", g)


def _counts_agree(doc: dict, F: Fields) -> None:
    """Every epoch adds one row of history and every step one loss: a count that
    disagrees with its list was changed, and would put the run (and its
    schedule) somewhere it never was."""
    for count, series, what in (("epoch", "history", "epochs of metrics"),
                                ("step", "step_losses", "step losses")):
        if count in doc and series in doc and doc[count] != len(doc[series]):
            raise F.bad(f"{ROOT}.{count}", f"is {doc[count]}, but {ROOT}.{series} holds "
                        f"{len(doc[series])} {what}; the two were saved together and agree "
                        "in a checkpoint this program wrote")


def check_state_dict(state: dict, F: Fields, field: str) -> None:
    """Parameter names → finite, real-valued tensors."""
    for k, v in state.items():
        if not isinstance(k, str):
            raise F.bad(field, f"expected parameter names (strings) as keys, got the key "
                        f"{describe(k)}")
        f = child(field, k)
        F.tensor(v, f, "a tensor of numbers", _plain_tensor)
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            raise F.bad(f, "holds NaN or infinite values")


def _optimizer(opt: dict, F: Fields, field: str) -> None:
    state = F.dict(opt, "state", field, required=True)
    for k, entry in state.items():
        if not (is_int(k) and k >= 0):
            raise F.bad(f"{field}.state", "expected parameter indices (non-negative "
                        f"integers) as keys, got the key {describe(k)}")
        f = child(f"{field}.state", k)
        F.expect(isinstance(entry, dict), f, "a dict", entry)
        for name, v in entry.items():
            F.expect(v is None or is_number(v) or isinstance(v, torch.Tensor)
                     and _plain_tensor(v), child(f, name), "a tensor, a number or None", v)
    groups, f = opt.get("param_groups"), f"{field}.param_groups"
    if "param_groups" not in opt:
        raise F.bad(f, "missing")
    F.expect(isinstance(groups, list) and groups, f, "a non-empty list of parameter groups",
             groups)
    for i, g in enumerate(groups):
        F.expect(isinstance(g, dict), f"{f}[{i}]", "a dict", g)
        params = g.get("params")
        F.expect(isinstance(params, list) and all(is_int(p) and p >= 0 for p in params),
                 f"{f}[{i}].params", "a list of parameter indices", params)


def _rng(rng: dict, F: Fields, field: str) -> None:
    for key in ("torch", "shuffle", "augment"):
        if key in rng:
            F.tensor(rng[key], child(field, key), "a random-number generator state (a 1-D "
                     "uint8 tensor)", _byte_state)
    if "shuffle_device" in rng:
        F.expect(isinstance(rng["shuffle_device"], str), f"{field}.shuffle_device",
                 "a device name", rng["shuffle_device"])
    if rng.get("cuda") is not None:
        states = rng["cuda"]
        F.expect(isinstance(states, list), f"{field}.cuda", "a list of generator states",
                 states)
        for i, s in enumerate(states):
            F.tensor(s, f"{field}.cuda[{i}]", "a random-number generator state (a 1-D uint8 "
                     "tensor)", _byte_state)


def _metric(v: Any) -> bool:
    if v is None or is_number(v):
        return True
    if isinstance(v, dict):
        return all(isinstance(k, str) and (x is None or is_number(x)) for k, x in v.items())
    if isinstance(v, list):
        return all(x is None or is_number(x) for x in v)
    return False


def _history(history: Any, F: Fields, field: str) -> None:
    F.expect(isinstance(history, list), field, "a list of per-epoch metrics", history)
    for i, row in enumerate(history):
        f = f"{field}[{i}]"
        F.expect(isinstance(row, dict), f, "a dict of metrics", row)
        F.count(row, "epoch", f, low=1)
        for k, v in row.items():
            if not isinstance(k, str):
                raise F.bad(f, f"expected metric names (strings) as keys, got the key "
                            f"{describe(k)}")
            F.expect(_metric(v), child(f, k), "a number, None, or numbers by name", v)


def _best(best: dict, F: Fields, field: str) -> None:
    for key in ("monitor", "value", "epoch", "bad_epochs"):
        if key not in best:
            raise F.bad(child(field, key), "missing")
    F.expect(isinstance(best["monitor"], str), f"{field}.monitor", "a metric name",
             best["monitor"])
    F.number(best["value"], f"{field}.value", nullable=True)
    F.count(best, "epoch", field, nullable=True)
    F.count(best, "bad_epochs", field)


def _epoch_state(state: dict, F: Fields, field: str) -> None:
    for key in ("perm", "step", "losses", "seconds", "batch_size", "meter_total",
                "meter_count"):
        if key not in state:
            raise F.bad(child(field, key), "missing")
    F.tensor(state["perm"], f"{field}.perm", "a 1-D tensor of sample indices (int64)",
             lambda t: t.dim() == 1 and t.dtype == torch.int64)
    F.count(state, "step", field)
    F.numbers(state["losses"], f"{field}.losses")
    F.number(state["seconds"], f"{field}.seconds", low=0)
    F.count(state, "batch_size", field, low=1)
    norms = state.get("norms")
    F.expect(norms is None or isinstance(norms, torch.Tensor) and norms.dim() == 1
             and norms.is_floating_point(), f"{field}.norms",
             "a 1-D floating-point tensor or None", norms)
    total = state["meter_total"]
    F.expect(is_finite(total) or isinstance(total, torch.Tensor) and total.dim() == 0
             and _plain_tensor(total) and bool(torch.isfinite(total)),
             f"{field}.meter_total", "a finite number (or a scalar tensor)", total)
    F.count(state, "meter_count", field)
