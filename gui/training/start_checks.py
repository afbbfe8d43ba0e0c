"""What Start checks before a run is made (no widgets of its own, no torch).

A Start that cannot train is refused here, before a run record, a run folder
or a training process exists, with one reason and the node it concerns (the
window selects that block on the canvas): a problem of the training
settings (:mod:`graph.training_check`) or of the network against the
dataset (:mod:`graph.dataset_checks`, shown on the canvas before Start), the
network's first error, a dataset file still being read whose samples do not
fit the ``Input``, or a training step too large
for the device's memory (:func:`runtime.memory.memory_refusal`, the check
the engine itself makes).  What only the training process can find out (a
file's contents, a checkpoint, a device's memory not known here yet) it
reports as a refusal of its own, in words that name blocks by their label
(``Linear "hidden"``): :func:`node_named_in` finds the block to show.
"""

from __future__ import annotations

from graph.training_check import first_error_text

from .settings_data import input_of


def start_problem(doc, settings) -> tuple[str, str | None] | None:
    """The reason Start is refused and the node to show, or None.

    Args:
        doc: the :class:`~gui.document.Document` (graph and analysis).
        settings: the :class:`~gui.training.settings.TrainingSettings` (the
            dataset fit and the devices' memory it knows).
    """
    settings_errors = [p for p in doc.analyzer.errors() if p.location is not None]
    if settings_errors:
        # the training section's own (graph.training_check), and the network
        # against the dataset (graph.dataset_checks: on the Input or Output)
        return first_error_text(settings_errors), settings_errors[0].node
    errors = doc.analyzer.model_errors()
    if errors:
        first = errors[0]
        n = len(errors)
        more = f" (and {n - 1} more in the Problems panel)" if n > 1 else ""
        return (f"the network has {n} error{'s' * (n != 1)}; fix "
                f"{'them' if n != 1 else 'it'} first: {first.message}{more}", first.node)
    problem = settings.fit_error()
    if problem:
        inp = input_of(doc.graph)
        return problem, inp.id if inp is not None else None
    return settings.memory_error()


def node_named_in(message: str, graph) -> str | None:
    """The node whose label (``Type "name"``) comes first in a message, or None."""
    best, at = None, len(message)
    for nid, node in graph.nodes.items():
        k = message.find(node.label())
        if 0 <= k < at:
            best, at = nid, k
    return best
