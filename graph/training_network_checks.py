"""The project's ``training`` section checked against the network it trains.

A loss that expects log-probabilities (``NLLLoss``, ``KLDivLoss``) warns
when the block before an ``Output`` is not a ``LogSoftmax`` (with a quick fix
that inserts one): :func:`loss_input_problems`.  Each ``augment`` key must
change one of the ``Input``s (an image change needs a C×H×W float input,
``noise`` a float one, ``token_dropout`` a token one):
:func:`augment_input_problems`, with :func:`augment_problems`, the rule the
engine refuses with too.  :func:`loss_type` reads which loss an ``Output``
is trained with.
"""

from __future__ import annotations

from typing import Any

from .graph import Graph
from .problems import WARNING, Code, Problem
from .training_fields import augment_well_formed, per_output, training_problem
from .training_names import LOG_PROB_LOSSES, LOSSES


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
        spec: the ``training.augment`` object (well formed: see
            :func:`graph.training_fields.augment_well_formed`).
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


def augment_inputs(graph: Graph) -> list[tuple[str, tuple, bool]] | None:
    """The network's ``Input``s as :func:`augment_problems` takes them.

    Returns:
        ``(label, sample shape, is float)`` per ``Input`` as the file gives
        them, in node order; None when an ``Input`` has no usable shape (its
        own error comes first, so nothing is said about augmentation).
    """
    inputs = []
    for inp in graph.ends("input"):
        p = {**inp.spec.defaults(), **inp.params}
        shape = p.get("shape")
        if not isinstance(shape, (list, tuple)):
            return None
        inputs.append((inp.label(), tuple(shape), p.get("dtype") != "int64"))
    return inputs


def augment_input_problems(graph: Graph, training: Any) -> list[Problem]:
    """An error for each ``augment`` key that none of the network's ``Input``s
    takes (their shapes and dtypes as the file gives them)."""
    spec = training.get("augment") if isinstance(training, dict) else None
    if not isinstance(spec, dict) or not augment_well_formed(spec):
        return []  # nothing set, or malformed (that problem is reported)
    inputs = augment_inputs(graph)
    if not inputs:
        return []
    return [training_problem(f"training.augment.{key}", why)
            for key, why in augment_problems(spec, inputs)]
