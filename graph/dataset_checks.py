"""Validation against the chosen dataset: each ``Input`` against its sample
array, each ``Output`` against its targets, with quick fixes.

:func:`dataset_problems` runs in the analysis (:class:`~graph.analysis.Analyzer`)
whenever shapes change, from a :class:`~graph.dataset_info.DatasetInfo` the
caller read; its rules are :mod:`graph.dataset_info`'s, the ones the training
engine refuses with, so a problem is on the canvas before Start.  Each
problem is an error on the node it concerns, with ``location``
``training.dataset`` (``training.task``, ``training.loss`` where that is what to
change): it stops training, not building or exporting the model.

Quick fixes (see :mod:`graph.fixes`): an ``Input`` takes the dataset's sample
shape (or dtype); an ``Output`` fed N×…×C where N×C scores are wanted gets a
``Flatten`` + ``Linear(num_classes)`` before it; a ``Linear`` that gives too
few scores (directly, or through activations and dropout) gets the class
count as ``out_features``.
"""

from __future__ import annotations

from typing import Mapping

from .dataset_info import (CLASSIFICATION, DataMismatch, DatasetInfo, default_loss, input_fit,
                           target_fit, task_fit)
from .graph import Graph, Node
from .problems import ERROR, Code, Problem
from .training_check import loss_type, per_output
from .training_names import class_weighted

DATASET = "training.dataset"
#: How far back from an Output the Linear whose size sets the scores is looked for
#: (through activations, dropout, normalisation: layers that keep the shape).
_LOOK_BACK = 8


def _problem(node: Node, message: str, location: str = DATASET,
             fix: dict | None = None, port: str | None = None) -> Problem:
    return Problem(ERROR, Code.DATASET, node.id, f"{node.label()}: {message}", port=port,
                   fix=fix, location=location)


def dataset_problems(g: Graph, training: dict, results: Mapping,
                     info: DatasetInfo | None) -> list[Problem]:
    """The errors of the network against the dataset (empty when it fits or
    nothing is known).

    Args:
        g: the graph.
        training: the project's ``training`` section (task and losses).
        results: node id → :class:`~graph.analysis.NodeResult`.
        info: what the dataset gives, or None (no dataset, or not read yet).
    """
    if info is None:
        return []
    training = training if isinstance(training, dict) else {}
    inputs, outputs = g.ends("input"), g.ends("output")
    out: list[Problem] = []
    if info.error:
        # a file that cannot be read: said once, on the first Input (Start's refusal)
        if inputs:
            out.append(_problem(inputs[0], info.error))
        return out
    for inp in inputs:
        out.extend(_input_problems(g, inp, info, len(inputs), results))
    task = training.get("task")
    for o in outputs:
        out.extend(_output_problems(g, o, info, len(outputs), results, training, task))
    return out


def _input_problems(g: Graph, inp: Node, info: DatasetInfo, n_inputs: int,
                    results: Mapping) -> list[Problem]:
    arr = info.input_for(inp.id, n_inputs)
    if arr is None:
        named = [k for k, _ in info.inputs if k is not None]
        if named:
            have = ", ".join(f"X_{k}" for k in named)
            why = (f'dataset "{info.name}" has no array X_{inp.id} for this Input (it has '
                   f"{have}); add one, or remove the Input")
        else:
            why = (f'dataset "{info.name}" gives one input array (X) but the network has '
                   f"{n_inputs} Inputs; save one array per Input, named X_<input id>")
        return [_problem(inp, why)]
    r = results.get(inp.id)
    if r is None or r.params is None:
        return []
    shape, dtype = r.params["shape"], r.params["dtype"]
    why = input_fit(arr.shape, arr.dtype, info.name, shape, dtype)
    if why is None:
        return []
    if input_fit(arr.shape, arr.dtype, info.name, shape, arr.dtype) is None:
        fix = {"kind": "set_param", "param": "dtype", "value": arr.dtype}
    else:  # the shape first; a dtype that differs too is then fixed on its own
        fix = {"kind": "set_param", "param": "shape", "value": list(arr.shape)}
    return [_problem(inp, why, fix=fix)]


def _output_problems(g: Graph, o: Node, info: DatasetInfo, n_outputs: int, results: Mapping,
                     training: dict, task) -> list[Problem]:
    target = info.target_for(o.id, n_outputs)
    if target is None:
        return []  # an Output without a target takes no loss
    loss_where = f"training.loss.{o.id}" if per_output(training.get("loss")) else "training.loss"
    if task not in (None, "classification", "regression"):
        return []  # a problem of the training section, reported there
    why = task_fit(task, target.task, info.name) if target.fixed else None
    if why:
        return [_problem(o, why, location="training.task")]
    task = task or target.task
    y_shape = target.sample_shape(task)
    known, loss = loss_type(training, o.id)
    if not known:
        return []  # a malformed loss: its own problem
    loss = loss or default_loss(task)
    edges = g.in_edges(o.id)
    if len(edges) != 1:
        return []  # unconnected or doubly fed: reported on the Output itself
    edge = edges[0]
    src = results.get(edge.source)
    tt = src.outs.get(edge.source_port) if src is not None and src.outs else None
    if tt is None:
        return []  # the problem is upstream and reported there
    feeder = g.nodes[edge.source]
    found: list[Problem] = []
    try:
        target_fit(tt.shape[1:], tt.dtype == "float32", y_shape, loss, task,
                   target.num_classes, feeder.label())
    except DataMismatch as exc:
        where = loss_where if exc.about == "loss" else DATASET
        found.append(_problem(o, str(exc), location=where,
                              fix=_output_fix(g, o, tt, y_shape, target.num_classes, task,
                                              results),
                              port=edge.target_port))
    found.extend(_weight_problems(o, training, loss, loss_where, target, task, info.name))
    return found


def _output_fix(g: Graph, o: Node, tt, y_shape: tuple, num_classes: int | None, task: str,
                results: Mapping) -> dict | None:
    """The quick fix that makes the output fit the targets, or None."""
    sample = tuple(tt.shape[1:])
    if task == CLASSIFICATION:
        want = num_classes
        if not want or y_shape != ():
            return None  # per-step labels: the fix depends on the network
        if len(sample) == 1:
            linear = _linear_before(g, o, results)
            return None if linear is None else {"kind": "set_param", "node": linear,
                                                "param": "out_features", "value": want}
    else:
        want = 1
        for d in y_shape:
            want *= d
        if len(y_shape) > 1:
            return None
        if len(sample) == 1:
            linear = _linear_before(g, o, results)
            return None if linear is None else {"kind": "set_param", "node": linear,
                                                "param": "out_features", "value": want}
    if len(sample) < 1 or tt.dtype != "float32":
        return None
    chain = [{"type": "Flatten", "params": {}}] if len(sample) > 1 else []
    chain.append({"type": "Linear", "params": {"out_features": want}})
    return {"kind": "insert", "type": chain[0]["type"], "params": chain[0]["params"],
            "then": chain[1:]}


def _linear_before(g: Graph, o: Node, results: Mapping) -> str | None:
    """The Linear whose ``out_features`` is the Output's last size: right before
    it, or behind layers that keep the shape (ReLU, Dropout, LogSoftmax)."""
    nid = o.id
    for _ in range(_LOOK_BACK):
        edges = g.in_edges(nid)
        if len(edges) != 1:
            return None
        src = g.nodes[edges[0].source]
        if src.type == "Linear":
            return src.id
        r = results.get(src.id)
        ins = list(r.ins.values()) if r is not None and r.ins else []
        if not r or not r.outs or len(ins) != 1 or len(ins[0]) != 1 \
                or tuple(ins[0][0].shape) != tuple(r.outs.get("out", ins[0][0]).shape):
            return None
        nid = src.id
    return None


def _weight_problems(o: Node, training: dict, loss: str, loss_where: str, target,
                     task: str, name: str) -> list[Problem]:
    """Class weights (``weight``) that do not give one weight per class."""
    c = target.num_classes
    if task != CLASSIFICATION or not c or not class_weighted(loss):
        return []
    spec = training.get("loss")
    if per_output(spec):
        spec = spec.get(o.id)
    weights = spec.get("weight") if isinstance(spec, dict) else None
    if not isinstance(weights, list) or len(weights) == c:
        return []
    n = len(weights)
    return [_problem(o, f"{loss_where}.weight has {n} class weight{'s' * (n != 1)} but dataset "
                        f'"{name}" has {c} classes; give one weight per class',
                     location=f"{loss_where}.weight")]
