"""A block's face: what the canvas shows of a node's settings, in few words.

Qt-free, so the canvas, the find bar and tests read one summary.  The spec's
key parameters are always shown; every other parameter only when it differs
from its default, advanced ones included (a ``dilation 2``, an LSTM's
``no batch first`` or ``proj 4`` change what the layer computes: a face that
left them out would hide them).  Values are compact:
``3×3`` for a kernel, ``/2`` for a stride, ``same`` for a padding mode,
``bidirectional`` for a flag turned on and ``no bias`` for one turned off, so
a Conv2d reads ``channels 16 · 3×3 /2 same``.
"""

from __future__ import annotations

from graph.graph import Node

#: separator between the parts of a face (the canvas wraps lines at it)
SEP = " · "


#: names a face shortens beyond the rule of :func:`short_name`
ABBREVIATIONS = {"dim_feedforward": "ff", "negative_slope": "slope", "embedding_dim": "dim",
                 "normalized_dims": "dims", "elementwise_affine": "affine"}


#: choices that do not name themselves: ``init orthogonal``, not ``orthogonal``
NAMED_CHOICES = frozenset({"init"})


def short_name(name: str) -> str:
    """A parameter's name as a face shows it: ``out_channels`` → ``channels``,
    ``kernel_size`` → ``kernel``, ``num_layers`` → ``layers``."""
    if name in ABBREVIATIONS:
        return ABBREVIATIONS[name]
    for prefix in ("out_", "num_"):
        if name.startswith(prefix) and len(name) > len(prefix):
            name = name[len(prefix):]
    if name.endswith("_size") and len(name) > 5:
        name = name[:-5]
    return "pad" if name == "padding" else name.replace("_", " ")


def value_text(prm, v, key: bool = True) -> str | None:
    """A parameter value, compact: a key size as ``3×3`` (other sizes equal in
    every dimension as one number: ``pad 1``), shapes as ``1×28×28``; None
    when there is nothing to show (an empty optional value)."""
    if v is None:
        return None
    kind = prm.kind if prm is not None else ""
    if isinstance(v, bool):
        words = short_name(prm.name)
        return words if v else f"no {words}"
    if kind == "size" and isinstance(v, (list, tuple)) and len(set(v)) == 1 and not key:
        v = v[0]
    if kind == "size" and isinstance(v, int) and key:
        v = (v,) * (prm.length or 1)
    if isinstance(v, (list, tuple)):
        sep = "×" if kind in ("size", "shape") else ", "
        inner = sep.join(str(x) for x in v)
        return inner if sep == "×" else f"[{inner}]"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _part(prm, v, key: bool) -> str | None:
    """One parameter's words on the face."""
    # a stride equal in every dimension is one number: ``/2``, not ``/2×2``
    text = value_text(prm, v, key and prm.name != "stride")
    if text is None:
        return None
    if prm.name in NAMED_CHOICES:
        return f"{short_name(prm.name)} {text}"
    if prm.kind == "choice" or isinstance(v, bool) or isinstance(v, str):
        return text  # a mode names itself: ``same``, ``gelu``, ``bidirectional``
    if prm.name == "stride":
        return f"/{text}"  # the usual shorthand: ``3×3 /2``
    if prm.name == "kernel_size" and prm.kind == "size":
        return text  # ``3×3`` is a kernel to anyone who reads a network
    return f"{short_name(prm.name)} {text}"


def face_parts(node: Node) -> list[str]:
    """The parts of ``node``'s face, in the spec's parameter order (see the
    module docstring); an instance of a unit shows all its parameter values."""
    spec = node.spec
    if spec is None:
        return [f"{k}={v}" for k, v in node.params.items()]
    if spec.role == "input" and "shape" not in node.params:
        return []  # a unit's Input: its shape comes from each instance's input
    key = spec.key_params or ()
    if getattr(spec, "unit", None) is not None:
        # an instance is its parameter values: all of them, defaults too
        key = tuple(prm.name for prm in spec.params)
    parts: list[str] = []
    kernel = None  # the kernel's part, which a stride and a padding join
    for prm in spec.params:
        v = node.params.get(prm.name, prm.default)
        if prm.name not in key and (prm.name not in node.params or prm.is_default(v)):
            continue
        text = _part(prm, v, prm.name in key)
        if text is None:
            continue
        if parts and prm.name in ("stride", "padding") and parts[-1] == kernel:
            # one phrase, as people write it: ``3×3 /2 same``
            parts[-1] = kernel = f"{parts[-1]} {text}"
            continue
        parts.append(text)
        if prm.name == "kernel_size":
            kernel = text
    return parts


def face_text(node: Node) -> str:
    """The whole face of ``node`` on one line (tooltips, tests, the find bar)."""
    return SEP.join(face_parts(node))
