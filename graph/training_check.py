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

The checks of each key live in :mod:`graph.training_fields`, those against
the network in :mod:`graph.training_network_checks`; this module puts them
together and is where callers import them from.

What this module cannot know without loading anything — which built-in
datasets exist and their option ranges, whether a file exists — is checked
by :mod:`runtime.data` when the dataset is loaded.
"""

from __future__ import annotations

from typing import Any

from .graph import Graph
from .problems import ERROR, Problem
from .training_fields import (KEYS, combination_problems, did_you_mean, field_problems,
                              per_output, training_problem)
from .training_names import kind_of
from .training_network_checks import (GEOMETRIC_KEYS, augment_input_problems, augment_inputs,
                                      augment_problem, augment_problems, loss_input_problems,
                                      loss_type)

__all__ = ["KEYS", "GEOMETRIC_KEYS", "did_you_mean", "per_output", "section_problems",
           "training_problems", "training_problems_with_graph", "training_errors",
           "first_error_text", "loss_type", "loss_input_problems", "augment_problems",
           "augment_problem", "augment_inputs", "augment_input_problems"]


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
        return [training_problem("training", f"expected an object, got {kind_of(training)}")]
    found = list(field_problems(training, outputs))
    if not found:  # (each setting well formed:) the ones that do not go together
        found = list(combination_problems(training))
    return [training_problem(loc, why) for loc, why in found]


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


def first_error_text(problems: list[Problem]) -> str:
    """The first error's message, saying how many more there are (for refusals)."""
    errors = [p for p in problems if p.severity == ERROR]
    if not errors:
        return ""
    more = len(errors) - 1
    tail = f" (and {more} more problem{'s' * (more != 1)} in the training settings)" \
        if more else ""
    return errors[0].message + tail
