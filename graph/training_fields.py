"""The keys of the project's ``training`` section checked one by one, and together.

Each key's value is checked against its rule from the vocabulary of
:mod:`graph.training_names`: plain values (``epochs``, ``device``, …)
directly, objects (``loss``, ``optimizer``, ``scheduler``, ``dataset``,
``early_stopping``, ``augment``) key by key.  The checks yield
``(location, reason)`` pairs, such as ``("training.loss", "expected an
object like {...}, got a string")``; :func:`training_problem` makes one a
:class:`~graph.problems.Problem`.  :mod:`graph.training_check` is the entry point.
"""

from __future__ import annotations

import difflib
from typing import Any, Iterator, Mapping

from .problems import ERROR, Code, Problem
from .training_names import (AUGMENT, DATASET_SOURCES, DEVICES, LOSSES, MAX_SEED, MONITORS,
                             NO_MOMENTUM, OPTIMIZERS, SCHEDULES, TASKS, Rule, choice, flag,
                             kind_of, listed, monitor_rule, nonneg, number, positive, shown,
                             whole)

#: Every key of the section (``compile`` is ours: ``torch.compile`` the model).
KEYS = ("dataset", "task", "loss", "loss_weights", "optimizer", "scheduler", "epochs",
        "batch_size", "seed", "device", "grad_accum_steps", "grad_clip_norm", "l1",
        "early_stopping", "amp", "augment", "compile")
#: Keys that take plain values, with their rules (null only where the doc's default is).
_SCALARS: Mapping[str, Rule] = {
    "task": choice(*TASKS, None),
    "epochs": whole(1),
    "batch_size": whole(1),
    "seed": whole(0, MAX_SEED),
    "device": choice(*DEVICES),
    "grad_accum_steps": whole(1),
    "grad_clip_norm": positive(nullable=True),
    "l1": nonneg(),
    "amp": choice(False, True, "bf16", "fp16", expect='false, true, "bf16" or "fp16"'),
    "compile": flag(),
}
#: Dataset keys besides the source, with their rules (ranges of the built-in
#: sets' options are the loader's: it knows each set).
_DATASET_OPTIONS: Mapping[str, Rule] = {
    "val_fraction": number(0, 1, lo_open=True, hi_open=True),
    "task": choice(*TASKS),
    "n": whole(1), "noise": nonneg(), "classes": whole(2), "seq_len": whole(1),
    "vocab": whole(2),
}
_FILE_OPTIONS = {"csv": ("target",), "npz": (), "image_folder": ("size",)}
_EARLY: Mapping[str, Rule] = {"patience": whole(1), "monitor": choice(*MONITORS),
                              "min_delta": nonneg()}

_Found = Iterator[tuple[str, str]]  # (location, reason)


def did_you_mean(name: Any, known) -> str:
    """A hint for a misspelt name: ``"; did you mean 'epochs'?"`` or the known list."""
    close = difflib.get_close_matches(str(name), list(known), n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return "; known: " + ", ".join(known)


def _like(example: str) -> str:
    return f'an object like {{"type": "{example}"}}'


# ---------------------------------------------------------------------- pieces
def _settings(spec: dict, rules: Mapping[str, Rule], name: str, where: str) -> _Found:
    """The keyword arguments of a loss/optimizer/schedule against its rules."""
    for key, value in spec.items():
        if key == "type":
            continue
        rule = rules.get(key)
        if rule is None:
            yield f"{where}.{key}", f"{name} has no setting {key!r}{did_you_mean(key, rules)}"
        elif (why := rule.why(value)) is not None:
            yield f"{where}.{key}", why
    for key, rule in rules.items():
        if rule.required and key not in spec:
            yield f"{where}.{key}", f"{name} needs the setting {key!r} ({rule.expect})"


def _options(spec: dict, rules: Mapping[str, Rule], where: str) -> _Found:
    """The keys of a settings object (early stopping, augmentation) against their rules."""
    for key, value in spec.items():
        rule = rules.get(key)
        if rule is None:
            yield f"{where}.{key}", f"unknown setting{did_you_mean(key, rules)}"
        elif (why := rule.why(value)) is not None:
            yield f"{where}.{key}", why


def _typed(spec: Any, known: Mapping, what: str, example: str, where: str
           ) -> tuple[str | None, _Found]:
    """``{"type": NAME, ...}``: the name if it is known, and the problems of its shape."""
    problems: list[tuple[str, str]] = []
    name = None
    if not isinstance(spec, dict):
        hint = ""
        if isinstance(spec, str) and spec in known:
            hint = f'; write {{"type": "{spec}"}}'
        problems.append((where, f"expected {_like(example)}, got {kind_of(spec)}{hint}"))
    elif "type" not in spec:
        problems.append((where, f'must be an object with a "type" name, e.g. '
                         f'{{"type": "{example}"}}'))
    elif not isinstance(spec["type"], str):
        article = "an" if what[0] in "aeiou" else "a"
        problems.append((f"{where}.type", f"must be the name of {article} {what} (a string "
                         f"such as {example!r}), got {shown(spec['type'])}"))
    elif spec["type"] not in known:
        problems.append((f"{where}.type", f"unknown {what} {spec['type']!r}"
                         f"{did_you_mean(spec['type'], known)}"))
    else:
        name = spec["type"]
    return name, iter(problems)


def _loss(spec: Any, where: str) -> _Found:
    name, found = _typed(spec, LOSSES, "loss", "CrossEntropyLoss", where)
    yield from found
    if name is not None:
        yield from _settings(spec, LOSSES[name], name, where)


def per_output(loss: Any, outputs: list[str] | None = None) -> bool:
    """Whether a ``loss`` value is one loss per ``Output`` id (``{"y": {"type": …}}``)
    rather than one loss: an object without ``type`` whose entries are all
    objects, or (with the network's ``outputs``) all named by Output ids.  An
    object of plain settings without ``type`` is a loss that lacks its name."""
    if not isinstance(loss, dict) or not loss or "type" in loss:
        return False
    return all(isinstance(v, dict) for v in loss.values()) or (
        outputs is not None and all(k in outputs for k in loss))


def _losses(spec: Any, outputs: list[str] | None) -> _Found:
    """``loss``: one loss object, or one per ``Output`` id."""
    if spec is None:
        return
    if per_output(spec, outputs):
        for oid, entry in spec.items():
            if outputs is not None and oid not in outputs:
                yield f"training.loss.{oid}", _no_output(oid, outputs)
            else:
                yield from _loss(entry, f"training.loss.{oid}")
        return
    if isinstance(spec, dict) and not spec:
        yield "training.loss", (f"expected {_like('CrossEntropyLoss')} (or one such object per "
                                "Output id), got an empty object; remove it for the default")
        return
    yield from _loss(spec, "training.loss")


def _no_output(oid: str, outputs: list[str]) -> str:
    have = ", ".join(repr(o) for o in outputs) or "none"
    return f"the network has no Output with id {oid!r} (its Outputs: {have})"


def _loss_weights(spec: Any, outputs: list[str] | None) -> _Found:
    if spec is None:
        return
    if not isinstance(spec, dict):
        yield "training.loss_weights", ("expected an object of weights by Output id, like "
                                        f'{{"y": 1.0}}, got {kind_of(spec)}')
        return
    rule = nonneg()
    for oid, w in spec.items():
        if outputs is not None and oid not in outputs:
            yield f"training.loss_weights.{oid}", _no_output(oid, outputs)
        elif (why := rule.why(w)) is not None:
            yield f"training.loss_weights.{oid}", why


def _optimizer(spec: Any) -> _Found:
    if spec is None:
        return
    where = "training.optimizer"
    name, found = _typed(spec, OPTIMIZERS, "optimizer", "Adam", where)
    yield from found
    if name is None:
        return
    yield from _settings(spec, OPTIMIZERS[name], name, where)
    if name == "SGD" and spec.get("nesterov") is True:
        momentum, dampening = spec.get("momentum", 0), spec.get("dampening", 0)
        if number().why(momentum) is None and number().why(dampening) is None \
                and (momentum <= 0 or dampening != 0):
            yield f"{where}.nesterov", "Nesterov momentum needs momentum > 0 and dampening 0"


def _scheduler(spec: Any, where: str = "training.scheduler") -> _Found:
    if spec is None:
        return
    name, found = _typed(spec, SCHEDULES, "scheduler", "StepLR", where)
    yield from found
    if name is None:
        return
    rules = SCHEDULES[name]
    if name == "LinearWarmup":
        then = spec.get("then")
        if then is not None:
            if isinstance(then, dict) and then.get("type") == "LinearWarmup":
                yield f"{where}.then", "must be another schedule (not a second warm-up)"
            else:
                yield from _scheduler(then, f"{where}.then")
        spec = {k: v for k, v in spec.items() if k != "then"}
    yield from _settings(spec, rules, name, where)
    if name == "OneCycleLR" and "total_steps" not in spec \
            and ("epochs" in spec) != ("steps_per_epoch" in spec):
        given, missing = ("epochs", "steps_per_epoch") if "epochs" in spec else \
            ("steps_per_epoch", "epochs")
        yield f"{where}.{missing}", (f"OneCycleLR takes {given} only with {missing} (or "
                                     "total_steps); give both, or neither to fit the run")


def _dataset(spec: Any) -> _Found:
    where = "training.dataset"
    if spec is None:
        return
    if not isinstance(spec, dict):
        hint = f'; write {{"name": "{spec}"}}' if isinstance(spec, str) else ""
        yield where, f'expected an object like {{"name": "digits"}}, got {kind_of(spec)}{hint}'
        return
    sources = [k for k in DATASET_SOURCES if k in spec]
    if len(sources) != 1:
        what = "names none" if not sources else "names " + " and ".join(sources)
        yield where, (f"{what} of the sources; it needs exactly one of "
                      + ", ".join(f'"{s}"' for s in DATASET_SOURCES))
        return
    source = sources[0]
    value = spec[source]
    if source == "name":
        if not isinstance(value, str) or not value:
            yield f"{where}.name", ("must be the name of a built-in dataset (a string such as "
                                    f"'digits'), got {shown(value)}")
        allowed = ("name", "target", *_DATASET_OPTIONS)
    else:
        if not isinstance(value, str) or not value.strip():
            yield f"{where}.{source}", f"must be a file path, got {shown(value)}"
        allowed = (source, "val_fraction", "task", *_FILE_OPTIONS[source])
    for key, v in spec.items():
        if key == source:
            continue
        if key not in allowed:
            yield f"{where}.{key}", f"unknown setting{did_you_mean(key, allowed)}"
        elif key == "target":
            if not isinstance(v, str) or not v:
                yield f"{where}.target", ("must be a column name" if source == "csv" else
                                          'must be "input" (reconstruct the input)') + \
                    f", got {shown(v)}"
        elif key == "size":
            ok = isinstance(v, list) and len(v) == 2 and all(
                whole(1, 4096).why(s) is None for s in v)
            if not ok:
                yield f"{where}.size", ("must be [H, W] with whole numbers from 1 to 4096, "
                                        f"got {listed(v)}")
        elif (why := _DATASET_OPTIONS[key].why(v)) is not None:
            yield f"{where}.{key}", why


def _early_stopping(spec: Any, outputs: list[str] | None = None) -> _Found:
    where = "training.early_stopping"
    if spec is None or spec is False:
        return
    if not isinstance(spec, dict):
        yield where, ('expected null or an object like {"patience": 5, "monitor": '
                      f'"val_loss"}}, got {shown(spec) if spec is not True else "true"}')
        return
    # a network with several Outputs may watch one output's metric (val_accuracy_<id>)
    yield from _options(spec, {**_EARLY, "monitor": monitor_rule(outputs)}, where)


def _augment(spec: Any) -> _Found:
    where = "training.augment"
    if spec is None:
        return
    if not isinstance(spec, dict):
        yield where, f'expected null or an object like {{"noise": 0.1}}, got {kind_of(spec)}'
        return
    yield from _options(spec, AUGMENT, where)
    v = spec.get("scale")
    if AUGMENT["scale"].why(v) is None and v is not None and not 0 < v[0] <= v[1]:
        yield f"{where}.scale", f"must be [LO, HI] with 0 < LO <= HI, got {listed(v)}"


# ---------------------------------------------------------------------- the section
def field_problems(training: Mapping, outputs: list[str] | None) -> _Found:
    """Each key of the section checked alone, in the file's order (``outputs``:
    the network's ``Output`` ids, or None not to check the ids a key names)."""
    objects = {"dataset": _dataset, "loss": lambda v: _losses(v, outputs),
               "loss_weights": lambda v: _loss_weights(v, outputs), "optimizer": _optimizer,
               "scheduler": _scheduler, "early_stopping": lambda v: _early_stopping(v, outputs),
               "augment": _augment}
    for key, value in training.items():  # in the file's order
        if key in objects:
            yield from objects[key](value)
        elif key in _SCALARS:
            if (why := _SCALARS[key].why(value)) is not None:
                yield f"training.{key}", why
        else:
            yield f"training.{key}", f"unknown setting{did_you_mean(key, KEYS)}"


def combination_problems(training: Mapping) -> _Found:
    """Settings that are fine alone but not together."""
    opt = training.get("optimizer")
    opt_type = opt.get("type") if isinstance(opt, dict) else None
    where, sch = "training.scheduler", training.get("scheduler")
    if isinstance(sch, dict) and sch.get("type") == "LinearWarmup":
        where, sch = f"{where}.then", sch.get("then")
    if isinstance(sch, dict) and sch.get("type") in ("OneCycleLR", "CyclicLR") \
            and sch.get("cycle_momentum", True) is True and opt_type in NO_MOMENTUM:
        yield f"{where}.cycle_momentum", (f"{sch['type']} cycles the momentum, which {opt_type} "
                                          "has none; set cycle_momentum to false, or use an "
                                          "optimizer with momentum (SGD, RMSprop, Adam, …)")

def training_problem(location: str, reason: str) -> Problem:
    """The error of code ``bad_training`` at ``location``, whose message starts with it."""
    return Problem(ERROR, Code.TRAINING, None, f"{location}: {reason}", location=location)


def augment_well_formed(spec: Any) -> bool:
    """Whether a ``training.augment`` value has no problem of its own (each key
    known, each value of its type)."""
    return next(_augment(spec), None) is None
