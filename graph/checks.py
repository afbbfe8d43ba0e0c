"""The graph-wide checks of validation (the per-node ones are in :mod:`graph.analysis`).

* :func:`structural_problems`: no Input, no Output (an empty graph has both,
  with no node to attach them to), and nodes whose result reaches no Output;
  they depend only on the graph's structure, so :class:`~graph.analysis.Analyzer`
  redoes them only after structural edits and renames;
* :func:`context_problems`: warnings that depend on the training setup — a
  Softmax right before a cross-entropy output, a model very large for the
  number of training samples.
"""

from __future__ import annotations

from typing import Mapping

from .graph import Graph
from .problems import ERROR, WARNING, Code, Problem

#: Parameters per training sample above which a model counts as very large.
LARGE_MODEL_RATIO = 100
LARGE_MODEL_MIN = 1_000_000


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


def context_problems(g: Graph, training: dict, results: Mapping, dataset_samples: int | None
                     ) -> list[Problem]:
    """Warnings that depend on the training setup.

    Args:
        g: the graph.
        training: the project's ``training`` section (loss and task).
        results: node id → :class:`~graph.analysis.NodeResult` (parameter counts).
        dataset_samples: the number of training samples, if known.
    """
    out: list[Problem] = []
    training = training if isinstance(training, dict) else {}
    loss = (training.get("loss") or {}).get("type")
    classification = training.get("task") != "regression"
    if loss in (None, "CrossEntropyLoss"):
        for o in g.ends("output"):
            for e in g.in_edges(o.id):
                src = g.nodes[e.source]
                if src.type == "Softmax" and (loss or classification):
                    out.append(Problem(WARNING, Code.SOFTMAX_LOSS, src.id,
                                       f"{src.label()}: CrossEntropyLoss applies log-softmax "
                                       "itself; a Softmax right before the output squashes "
                                       "the gradients — remove it (apply softmax only for "
                                       "predictions)"))
    if dataset_samples:
        total = sum(r.n_params for r in results.values())
        if total > max(LARGE_MODEL_MIN, LARGE_MODEL_RATIO * dataset_samples):
            biggest = max(results, key=lambda k: results[k].n_params)
            out.append(Problem(WARNING, Code.LARGE_MODEL, biggest,
                               f"the model has {total:,} parameters for "
                               f"{dataset_samples:,} training samples; it will likely "
                               f"over-fit — make {g.nodes[biggest].label()} smaller or add "
                               "regularisation"))
    return out
