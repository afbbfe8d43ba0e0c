"""The project's ``training`` section checked: every key's type and value, in one place.

:func:`training_problems` walks the section of ``project-format.md``
("Training") against the vocabulary of :mod:`graph.training_names` and
returns each mistake as a :class:`~graph.problems.Problem` of code
``bad_training`` whose ``location`` is where it is in the file and whose
message starts with it::

    training.loss: expected an object like {"type": "CrossEntropyLoss"}, got a string

Nothing here raises on any JSON value.  The project still opens with such
mistakes (the network is fine); the editor's Problems panel and ``check``
list them, and training and the export of a training script refuse to start
until they are fixed (:mod:`runtime.config` raises the first one).

With the graph, three more things are checked: the keys of a per-output
``loss`` and of ``loss_weights`` must be ``Output`` ids; a loss that
expects log-probabilities (``NLLLoss``, ``KLDivLoss``) warns when the block
before an ``Output`` is not a ``LogSoftmax`` (with a quick fix that inserts one);
and each ``augment`` key must change one of the ``Input``s (an image change
needs a C×H×W float input, ``noise`` a float one, ``token_dropout`` a token
one): :func:`augment_problems`, the rule the engine refuses with too.

What this module cannot know without loading anything — which built-in
datasets exist and their option ranges, whether a file exists — is checked
by :mod:`runtime.data` when the dataset is loaded.
"""

from __future__ import annotations

import difflib
from typing import Any, Iterator, Mapping

from .graph import Graph
from .problems import ERROR, WARNING, Code, Problem
from .training_names import (AUGMENT, DATASET_SOURCES, DEVICES, LOG_PROB_LOSSES, LOSSES,
                             MAX_SEED, MONITORS, NO_MOMENTUM, OPTIMIZERS, SCHEDULES, TASKS,
                             Rule, choice, flag, kind_of, listed, monitor_rule, nonneg, number,
                             positive, shown, whole)

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
def _section(training: Mapping, outputs: list[str] | None) -> _Found:
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


def _combinations(training: Mapping) -> _Found:
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


def _problem(location: str, reason: str) -> Problem:
    return Problem(ERROR, Code.TRAINING, None, f"{location}: {reason}", location=location)


def section_problems(training: Any, outputs: list[str] | None = None) -> list[Problem]:
    """The errors of a ``training`` section, in the order of its keys.

    Args:
        training: the section as loaded (any JSON value; None means empty).
        outputs: the network's ``Output`` ids, to check the keys of a
            per-output ``loss`` and of ``loss_weights`` (None: not checked).
    """
    if training is None:
        return []
    if not isinstance(training, dict):
        return [_problem("training", f"expected an object, got {kind_of(training)}")]
    found = list(_section(training, outputs))
    if not found:  # (each setting well formed:) the ones that do not go together
        found = list(_combinations(training))
    return [_problem(loc, why) for loc, why in found]


def training_problems(training: Any, graph: Graph | None = None) -> list[Problem]:
    """Every problem of the section: :func:`section_problems` and, with the
    graph, the Output ids it names and the loss-input warnings."""
    if graph is None:
        return section_problems(training)
    outputs = [o.id for o in graph.ends("output")]
    return section_problems(training, outputs) + training_problems_with_graph(training, graph)


def training_problems_with_graph(training: Any, graph: Graph) -> list[Problem]:
    """The problems of the section that depend on the network (see the module docstring)."""
    return loss_input_problems(graph, training) + augment_input_problems(graph, training)


def training_errors(training: Any, graph: Graph | None = None) -> list[Problem]:
    """The errors only (what refuses training)."""
    return [p for p in training_problems(training, graph) if p.severity == ERROR]


# ---------------------------------------------------------------------- reading
def loss_type(training: Any, output_id: str | None = None) -> tuple[bool, str | None]:
    """The loss an ``Output`` is trained with, as far as the section says.

    Returns:
        ``(known, name)``: ``(True, None)`` for the default loss, ``(True,
        "NLLLoss")`` for a named one, ``(False, None)`` when the section's
        loss is malformed (its problem is reported; nothing is inferred from it).
    """
    spec = training.get("loss") if isinstance(training, dict) else None
    if spec is None:
        return True, None
    if per_output(spec):
        if output_id is None or output_id not in spec:
            return True, None  # that output takes no loss / the default
        spec = spec[output_id]
    if isinstance(spec, dict) and isinstance(spec.get("type"), str) and spec["type"] in LOSSES:
        return True, spec["type"]
    return False, None


def loss_input_problems(graph: Graph, training: Any) -> list[Problem]:
    """A warning on each ``Output`` trained with a log-probability loss
    (``NLLLoss``, ``KLDivLoss``) whose input is not a ``LogSoftmax``."""
    out: list[Problem] = []
    for o in graph.ends("output"):
        known, name = loss_type(training, o.id)
        if not known or name not in LOG_PROB_LOSSES:
            continue
        edges = graph.in_edges(o.id)
        if len(edges) != 1:
            continue  # unconnected or doubly fed: reported on the Output itself
        src = graph.nodes[edges[0].source]
        if src.type == "LogSoftmax":
            continue
        where = f"training.loss.{o.id}" if per_output(training.get("loss")) else "training.loss"
        if src.type == "Softmax":
            text = (f"{name} expects log-probabilities, but {o.label()} receives "
                    f"probabilities from {src.label()}; replace it with a LogSoftmax")
            fix = None
        else:
            text = (f"{name} expects log-probabilities, but {o.label()} receives the output "
                    f"of {src.label()}; insert a LogSoftmax before the Output (or use "
                    "CrossEntropyLoss, which applies log-softmax itself)")
            fix = {"kind": "insert", "type": "LogSoftmax", "params": {}}
        out.append(Problem(WARNING, Code.LOSS_INPUT, o.id, f"{where}: {text}",
                           port=edges[0].target_port, fix=fix, location=where))
    return out


#: Keys that change an image's geometry (one affine map per sample).
GEOMETRIC_KEYS = ("translate", "rotate", "scale", "crop_pad", "hflip")


def augment_problems(spec: Any, inputs: list[tuple[str, tuple, bool]]
                     ) -> list[tuple[str, str]]:
    """The keys of ``training.augment`` that change none of the network's inputs.

    Args:
        spec: the ``training.augment`` object (well formed: see :func:`_augment`).
        inputs: ``(label, sample shape, is float)`` of each ``Input``.

    Returns:
        ``(key, message)`` for each key set to a value that would change
        something, in the object's order; empty when every key applies.
    """
    if not isinstance(spec, dict) or not spec:
        return []
    images = [lab for lab, shape, fl in inputs if fl and len(shape) == 3]
    floats = [lab for lab, _shape, fl in inputs if fl]
    tokens = [lab for lab, _shape, fl in inputs if not fl]

    def shown() -> str:
        return "; ".join(f"{lab} gives {'×'.join(map(str, shape)) or 'scalar'} "
                         f"{'float' if fl else 'integer'} samples"
                         for lab, shape, fl in inputs)

    found = []
    for key, value in spec.items():
        if key == "scale":
            active = value is not None and list(value) != [1, 1]
        else:
            active = bool(value)
        if not active:
            continue
        if key in GEOMETRIC_KEYS and not images:
            found.append((key, f"{key} applies to image inputs (C×H×W float samples), and "
                               f"this network has none ({shown()}); remove {key}"))
        elif key == "noise" and not floats:
            found.append((key, f"noise applies to float inputs, and this network has none "
                               f"({shown()}); use token_dropout for token inputs"))
        elif key == "token_dropout" and not tokens:
            found.append((key, f"token_dropout applies to token (integer) inputs, and this "
                               f"network has none ({shown()}); use noise for float inputs"))
    return found


def augment_problem(spec: Any, inputs: list[tuple[str, tuple, bool]]
                    ) -> tuple[str, str] | None:
    """The first of :func:`augment_problems` (what the engine refuses with), or None."""
    found = augment_problems(spec, inputs)
    return found[0] if found else None


def augment_input_problems(graph: Graph, training: Any) -> list[Problem]:
    """An error for each ``augment`` key that none of the network's ``Input``s
    takes (their shapes and dtypes as the file gives them)."""
    spec = training.get("augment") if isinstance(training, dict) else None
    if not isinstance(spec, dict) or next(_augment(spec), None) is not None:
        return []  # nothing set, or malformed (that problem is reported)
    inputs = []
    for inp in graph.ends("input"):
        p = {**inp.spec.defaults(), **inp.params}
        shape = p.get("shape")
        if not isinstance(shape, (list, tuple)):
            return []  # the Input's own error comes first
        inputs.append((inp.label(), tuple(shape), p.get("dtype") != "int64"))
    if not inputs:
        return []
    return [_problem(f"training.augment.{key}", why) for key, why in augment_problems(spec, inputs)]


def first_error_text(problems: list[Problem]) -> str:
    """The first error's message, saying how many more there are (for refusals)."""
    errors = [p for p in problems if p.severity == ERROR]
    if not errors:
        return ""
    more = len(errors) - 1
    tail = f" (and {more} more problem{'s' * (more != 1)} in the training settings)" \
        if more else ""
    return errors[0].message + tail

