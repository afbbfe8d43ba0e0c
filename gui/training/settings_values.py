"""What the training settings panel shows for a ``training`` section, however
malformed (no widgets here, no torch).

A file written by hand may hold anything at any key (``"loss":
"CrossEntropyLoss"``, ``"batch_size": [1]``, ``"lr": "fast"``).  The panel
shows what it can and marks the rest:

- :func:`shown_values`: per field, the value to show — the file's where it is
  valid, the default where it is not;
- :func:`field_of`: which field a problem of :mod:`graph.training_check`
  (by its location) marks;
- :data:`KEYS_OF`: which fields edit which key, so a change rewrites only
  the keys whose fields the user touched (a value the panel cannot show, a
  per-output loss or a seed above the spin box's range, is kept as it is).
"""

from __future__ import annotations

import copy
from typing import Any

from graph.training_names import (DATASET_SOURCES, DEVICES, LOSSES, MAX_INT, OPTIMIZERS,
                                  SCHEDULES, TASKS, is_number, is_whole)

#: Panel field → the ``training`` key it edits (the dataset fields push their
#: own edits and are not listed).
KEYS_OF: dict[str, str] = {
    "task": "task", "loss": "loss", "optimizer": "optimizer", "lr": "optimizer",
    "momentum": "optimizer", "weight_decay": "optimizer", "schedule": "scheduler",
    "schedule_params": "scheduler", "epochs": "epochs", "batch_size": "batch_size",
    "accum": "grad_accum_steps", "clip": "grad_clip_norm", "l1": "l1",
    "patience": "early_stopping", "monitor": "early_stopping", "amp": "amp", "device": "device", "seed": "seed",
    "label_smoothing": "loss", "reduction": "loss", "ignore_index": "loss",
    "class_weights": "loss",
}
_FIELD_OF_KEY = {"task": "task", "loss": "loss", "loss_weights": "loss", "epochs": "epochs",
                 "batch_size": "batch_size", "grad_accum_steps": "accum",
                 "grad_clip_norm": "clip", "l1": "l1", "early_stopping": "patience",
                 "amp": "amp", "device": "device", "seed": "seed"}


def field_of(location: str | None) -> str | None:
    """The panel field a problem at ``location`` (``"training.optimizer.lr"``)
    belongs to, or None when no field shows it (``augment``, an unknown key)."""
    parts = (location or "").split(".")
    if len(parts) < 2 or parts[0] != "training":
        return None
    key, sub = parts[1], parts[2] if len(parts) > 2 else None
    if key == "dataset":
        return {"val_fraction": "val_fraction", "target": "target"}.get(sub, "dataset")
    if key == "optimizer":
        return {"lr": "lr", "momentum": "momentum", "weight_decay": "weight_decay"}.get(
            sub, "optimizer")
    if key == "scheduler":
        return "schedule" if sub in (None, "type") else "schedule_params"
    if key == "early_stopping" and sub == "monitor":
        return "monitor"
    if key == "loss" and sub is not None:  # a loss setting has its own field
        return {"label_smoothing": "label_smoothing", "reduction": "reduction",
                "ignore_index": "ignore_index", "weight": "class_weights"}.get(sub, "loss")
    return _FIELD_OF_KEY.get(key)


def _named(spec: Any, known) -> bool:
    """Whether ``spec`` is an object whose ``type`` is one of ``known``."""
    return isinstance(spec, dict) and isinstance(spec.get("type"), str) \
        and spec["type"] in known


def _whole(v: Any, lo: int, default: int) -> int:
    return v if is_whole(v) and lo <= v <= MAX_INT else default


def shown_values(training: Any, bad: set[str] = frozenset()) -> dict[str, Any]:
    """Per field, the value to show.

    Args:
        training: the project's ``training`` section (any JSON value).
        bad: the fields with a problem: they show their default.

    Returns:
        ``dataset`` is ``(source, name)`` (``("name", "digits")``, ``("csv",
        None)``, or ``(None, None)``); ``schedule_params`` the schedule's
        settings as a dict; the others the field's value (None: empty or the
        default entry).
    """
    t = training if isinstance(training, dict) else {}

    def ok(field: str, value: Any, valid: bool, default: Any) -> Any:
        return value if valid and field not in bad else default

    ds = t.get("dataset") if isinstance(t.get("dataset"), dict) else {}
    kinds = [k for k in DATASET_SOURCES if k in ds]
    kind = kinds[0] if len(kinds) == 1 else None
    name = ds.get("name") if kind == "name" and isinstance(ds.get("name"), str) else None
    vf = ds.get("val_fraction", 0.2)
    loss = t.get("loss")
    opt = t.get("optimizer") if isinstance(t.get("optimizer"), dict) else {}
    opt_type = opt.get("type") if _named(opt, OPTIMIZERS) else "Adam"
    sch = t.get("scheduler") if isinstance(t.get("scheduler"), dict) else {}
    sch_type = sch.get("type") if _named(sch, SCHEDULES) else None
    es = t.get("early_stopping") if isinstance(t.get("early_stopping"), dict) else {}
    clip, l1, amp = t.get("grad_clip_norm"), t.get("l1", 0.0), t.get("amp", False)
    lr, momentum, wd = opt.get("lr", 1e-3), opt.get("momentum"), opt.get("weight_decay")
    lo = loss if _named(loss, LOSSES) else {}
    smoothing, reduction = lo.get("label_smoothing", 0.0), lo.get("reduction")
    ignore, weights = lo.get("ignore_index"), lo.get("weight")
    return {
        "dataset": (kind, name),
        "target": ok("target", ds.get("target", ""), isinstance(ds.get("target", ""), str), ""),
        "val_fraction": ok("val_fraction", vf, is_number(vf) and 0 < vf < 1, 0.2),
        "task": ok("task", t.get("task"), t.get("task") in TASKS, None),
        "loss": ok("loss", loss.get("type") if _named(loss, LOSSES) else None, True, None),
        "optimizer": ok("optimizer", opt_type, True, "Adam"),
        "lr": ok("lr", lr, is_number(lr) and lr > 0, 1e-3),
        "momentum": ok("momentum", momentum, is_number(momentum), None),
        "weight_decay": ok("weight_decay", wd, is_number(wd), None),
        "schedule": ok("schedule", sch_type, True, None),
        "schedule_params": {k: v for k, v in sch.items() if k != "type"}
        if sch_type is not None and "schedule_params" not in bad else {},
        "epochs": ok("epochs", _whole(t.get("epochs", 10), 1, 10), True, 10),
        "batch_size": ok("batch_size", _whole(t.get("batch_size", 64), 1, 64), True, 64),
        "accum": ok("accum", _whole(t.get("grad_accum_steps", 1), 1, 1), True, 1),
        "clip": ok("clip", clip, is_number(clip) and clip > 0, None),
        "l1": ok("l1", l1, is_number(l1) and l1 >= 0, 0.0),
        "patience": ok("patience", _whole(es.get("patience", 0), 0, 0), True, 0),
        "monitor": ok("monitor", es.get("monitor", "val_loss"),
                      isinstance(es.get("monitor", "val_loss"), str), "val_loss"),
        "amp": ok("amp", bool(amp), isinstance(amp, bool) or amp in ("bf16", "fp16"), False),
        "device": ok("device", t.get("device", "auto"),
                     isinstance(t.get("device", "auto"), str)
                     and t.get("device", "auto") in DEVICES, "auto"),
        "seed": ok("seed", _whole(t.get("seed", 0), 0, 0), True, 0),
        "label_smoothing": ok("label_smoothing", smoothing,
                              is_number(smoothing) and 0 <= smoothing <= 1, 0.0),
        "reduction": ok("reduction", reduction, isinstance(reduction, str), None),
        "ignore_index": ok("ignore_index", ignore, is_whole(ignore), None),
        # shown even when their count is wrong (marked): "Equal" then clears them
        "class_weights": weights if isinstance(weights, list) and weights
        and all(is_number(w) for w in weights) else None,
    }


def keep_untouched(training: dict, loaded: dict, shown: dict, now: dict) -> None:
    """Put back the keys whose fields the user has not touched since the panel loaded.

    A value no field can show (malformed, a loss per Output, a seed above the
    spin box's range) is so never replaced by an edit of another field.

    Args:
        training: the settings read from every field (changed in place).
        loaded: the section as the panel loaded it.
        shown: field → what it showed then; ``now``: field → what it shows now.
    """
    for key in set(KEYS_OF.values()):
        fields = [f for f, k in KEYS_OF.items() if k == key]
        if all(now.get(f) == shown.get(f) for f in fields):
            if key in loaded:
                training[key] = copy.deepcopy(loaded[key])
            else:
                training.pop(key, None)
