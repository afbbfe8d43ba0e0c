"""The graph-wide checks of validation (the per-node ones are in :mod:`graph.node_analysis`).

* :func:`structural_problems`: no Input, no Output (an empty graph has both,
  with no node to attach them to), and nodes whose result reaches no Output;
  they depend only on the graph's structure, so :class:`~graph.analysis.Analyzer`
  redoes them only after structural edits and renames;
* :func:`name_problems`: names the code cannot use as they are (a file
  written by hand may hold a keyword, a duplicate, ``my pool``); each is a
  warning that says what the code calls the block instead, with a quick fix
  that renames the block to that name (redone with the structural checks);
* :func:`context_problems`: warnings that depend on the training setup and
  the machine — a block that outputs probabilities (``outputs_probabilities``
  in its spec, e.g. Softmax) right before a cross-entropy output, a model very
  large for the number of training samples, a model whose weights alone do
  not fit in this machine's memory (:func:`machine_memory`; graph/ cannot ask
  torch, so it reads the operating system's figure).
"""

from __future__ import annotations

import functools
import os
from typing import Mapping

from . import humanize
from .graph import Graph
from .names import code_names, name_problem, usable
from .problems import ERROR, WARNING, Code, Problem
from .training_check import loss_type

#: Parameters per training sample above which a model counts as very large.
LARGE_MODEL_RATIO = 100
LARGE_MODEL_MIN = 1_000_000
#: Bytes per parameter of a float32 model.
BYTES_PER_PARAM = 4


@functools.lru_cache(maxsize=1)
def machine_memory() -> int | None:
    """This machine's physical memory in bytes (None where the system does not say).

    Read without torch, from ``os.sysconf`` (Linux, macOS); the training
    engine checks the chosen device's own memory before it starts.
    """
    try:
        n = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # no sysconf (Windows) or no such name
        return None
    return n if n > 0 else None


def weights_too_large(n_params: int, memory: int | None) -> bool:
    """Whether a model's float32 weights alone exceed ``memory`` bytes."""
    return memory is not None and BYTES_PER_PARAM * n_params > memory


def structural_problems(g: Graph, order: list[str]) -> list[Problem]:
    """Missing Input/Output and nodes that reach no Output.

    Args:
        g: the graph.
        order: its nodes in topological order (problems follow it).
    """
    if not g.nodes:
        # No node to attach these to: the only problems with node None
        # (check --json writes null), so a blank canvas is not "valid".
        return [Problem(ERROR, Code.NO_INPUT, None, "the network is empty: it has no "
                        "Input block; add an Input (the data) and the layers after it"),
                Problem(ERROR, Code.NO_OUTPUT, None, "the network is empty: it has no "
                        "Output block; add an Output and connect the last layer to it")]
    out: list[Problem] = []
    inputs, outputs = g.ends("input"), g.ends("output")  # kept by the graph: no pass
    if not inputs:
        first = order[0] if order else next(iter(g.nodes))
        out.append(Problem(ERROR, Code.NO_INPUT, first,
                           "the network has no Input block; add an Input and connect it "
                           "to the first layer"))
    if not outputs:
        sinks = [nid for nid in order if not g.out_edges(nid)] or order or list(g.nodes)
        out.append(Problem(ERROR, Code.NO_OUTPUT, sinks[-1],
                           "the network has no Output block; add an Output and connect "
                           "the last layer to it"))
        return out
    ins, _ = g.adjacency()
    used = {o.id for o in outputs}
    stack = list(used)
    while stack:  # everything an Output depends on
        for e in ins[stack.pop()]:
            if e.source not in used:
                used.add(e.source)
                stack.append(e.source)
    for nid in order if len(used) < len(g.nodes) else ():
        if nid not in used:
            out.append(Problem(WARNING, Code.UNREACHABLE, nid,
                               f"{g.nodes[nid].label()}: its result is not used — it does "
                               "not reach an Output"))
    return out


def name_problems(g: Graph) -> list[Problem]:
    """A warning on each node whose name the generated code cannot use as it is.

    Node order decides which of two nodes with one name keeps it (the first),
    as in the code (:func:`graph.names.code_names`).
    """
    seen: set[str] = set()
    bad: list[tuple[str, str]] = []
    for nid, n in g.nodes.items():
        if usable(n.name, seen):
            seen.add(n.name)
        else:
            bad.append((nid, name_problem(n.name, seen, advice=False)))
    if not bad:
        return []
    code = code_names(g.nodes.values())
    out = []
    for nid, why in bad:
        node, used = g.nodes[nid], code[nid]
        out.append(Problem(WARNING, Code.BAD_NAME, nid,
                           f"{node.label()}: {why}, so the code, exported files and "
                           f"checkpoints call this block {used!r}; rename it",
                           fix={"kind": "rename", "name": used}))
    return out


def context_problems(g: Graph, training: dict, results: Mapping, dataset_samples: int | None,
                     memory: int | None = None) -> list[Problem]:
    """Warnings that depend on the training setup and the machine.

    Args:
        g: the graph.
        training: the project's ``training`` section (loss and task).
        results: node id → :class:`~graph.analysis.NodeResult` (parameter counts).
        dataset_samples: the number of training samples, if known.
        memory: the machine's memory in bytes (None: unknown, no memory warning).
    """
    out: list[Problem] = []
    training = training if isinstance(training, dict) else {}
    classification = training.get("task") != "regression"
    for o in g.ends("output"):
        # a malformed loss (a training problem of its own) implies nothing here
        known, loss = loss_type(training, o.id)
        if known and loss in (None, "CrossEntropyLoss"):
            for e in g.in_edges(o.id):
                src = g.nodes[e.source]
                spec = src.spec
                if spec is not None and spec.outputs_probabilities and (loss or classification):
                    out.append(Problem(WARNING, Code.SOFTMAX_LOSS, src.id,
                                       f"{src.label()}: CrossEntropyLoss applies log-softmax "
                                       f"itself; a {src.type} right before the output "
                                       "squashes the gradients — remove it (apply softmax "
                                       "only for predictions)"))
    total = sum(r.n_params for r in results.values()) if dataset_samples or memory else 0
    if weights_too_large(total, memory):
        out.append(_too_large(g, results, total, memory))
    elif dataset_samples:
        if total > max(LARGE_MODEL_MIN, LARGE_MODEL_RATIO * dataset_samples):
            biggest = max(results, key=lambda k: results[k].n_params)
            out.append(Problem(WARNING, Code.LARGE_MODEL, biggest,
                               f"the model has {total:,} parameters for "
                               f"{dataset_samples:,} training samples; it will likely "
                               f"over-fit — make {g.nodes[biggest].label()} smaller or add "
                               "regularisation"))
    return out


def _too_large(g: Graph, results: Mapping, total: int, memory: int) -> Problem:
    """The warning on the largest layer of a model whose weights exceed ``memory``."""
    biggest = max(results, key=lambda k: results[k].n_params)
    n = results[biggest].n_params
    label = g.nodes[biggest].label()
    where = f"this machine's memory ({humanize.size(memory)})"
    if weights_too_large(n, memory):
        text = (f"{label}: its {humanize.count(n)} parameters need "
                f"{humanize.size(BYTES_PER_PARAM * n)} for the weights alone, more than {where}")
    else:
        text = (f"the model's {humanize.count(total)} parameters need "
                f"{humanize.size(BYTES_PER_PARAM * total)} for the weights alone, more than "
                f"{where}; the largest layer is {label} ({humanize.count(n)} parameters)")
    return Problem(WARNING, Code.TOO_LARGE, biggest,
                   f"{text}; it cannot be built, exported with weights or trained here — "
                   "make it smaller")
