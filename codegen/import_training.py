"""Training-only forms on import: ``if self.training: x = x + std * torch.randn_like(x)``.

A forward that reads ``self.training`` is refused (:mod:`codegen.import_modes`)
unless what it computes only while training is what a block computes while
training and the block is the identity in evaluation.  Such blocks declare
the expression (``BlockSpec.training_forms``, e.g. GaussianNoise's
``"input + torch.randn_like(input) * std"``); this module reads the
declarations into patterns and finds them in the training-mode trace.

Algorithm: every traced call of the training trace is tried as the root of
each pattern (``+`` and ``*`` in either operand order; ``torch.add``/
``x.add`` as ``+``); a pattern's parameters must be constants the block's
parameter accepts.  A match counts only when the values it computes are
used by nothing else, its input by nothing but the match, and the training
trace with every match taken out calls exactly what the evaluation trace
calls: then the two traces align one to one, and the block is put after the
matched input in whichever trace the builder maps.  Otherwise nothing is
matched and the usual refusals (a mode difference, a random function) stand.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, field
from functools import lru_cache

from graph import blocks
from graph.problems import ParamError


@dataclass(frozen=True)
class _Pattern:
    """One declared form: the block and the expression tree to match."""

    spec: object
    text: str
    tree: tuple


def _tree(spec, node) -> tuple:
    """An expression of the declaration as ``("op", "add"|"mul", a, b)``,
    ``("fn", torch function, args)``, ``("input",)`` or ``("param", name)``."""
    import torch

    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
        op = "add" if isinstance(node.op, ast.Add) else "mul"
        return ("op", op, _tree(spec, node.left), _tree(spec, node.right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch" \
            and not node.keywords:
        return ("fn", getattr(torch, node.func.attr), tuple(_tree(spec, a) for a in node.args))
    if isinstance(node, ast.Name) and node.id == "input":
        return ("input",)
    if isinstance(node, ast.Name) and node.id in spec.param_index:
        return ("param", node.id)
    raise ValueError(f"{spec.type}: cannot read training form {ast.unparse(node)!r}")


@lru_cache(maxsize=1)
def patterns() -> tuple[_Pattern, ...]:
    """Every block's declared training-only forms."""
    out = []
    for spec in blocks.all_specs():
        for text in spec.training_forms:
            out.append(_Pattern(spec, text, _tree(spec, ast.parse(text, mode="eval").body)))
    return tuple(out)


def hint() -> str:
    """What to write instead of a random draw, from the declarations."""
    forms = [f"if self.training: x = {p.text.replace('input', 'x')} is the {p.spec.type} "
             "block" for p in patterns()]
    return "; ".join(forms)


def _binary(n, op: str):
    """The two operands of ``a + b``/``torch.add(a, b)``/``a.add(b)`` (``*``
    alike), or None."""
    import torch

    if n.kwargs or len(n.args) != 2:
        return None
    fns = {"add": (operator.add, torch.add), "mul": (operator.mul, torch.mul)}[op]
    if n.op == "call_function" and any(n.target is f for f in fns) \
            or n.op == "call_method" and n.target == op:
        return n.args
    return None


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _match(tree, v, bind: dict, inner: list) -> bool:
    kind = tree[0]
    if kind == "input":
        if not hasattr(v, "op"):
            return False
        if "input" in bind:
            return bind["input"] is v
        bind["input"] = v
        return True
    if kind == "param":
        if not _number(v) or tree[1] in bind and bind[tree[1]] != v:
            return False
        bind[tree[1]] = v
        return True
    if not hasattr(v, "op"):
        return False
    if kind == "op":
        args = _binary(v, tree[1])
        if args is None:
            return False
        for a, b in ((args[0], args[1]), (args[1], args[0])):
            got, seen = dict(bind), list(inner)
            if _match(tree[2], a, got, seen) and _match(tree[3], b, got, seen):
                bind.clear(), bind.update(got)
                inner[:] = seen + [v]
                return True
        return False
    if v.op != "call_function" or v.target is not tree[1] or v.kwargs \
            or len(v.args) != len(tree[2]):
        return False
    if not all(_match(t, a, bind, inner) for t, a in zip(tree[2], v.args)):
        return False
    inner.append(v)
    return True


@dataclass
class Match:
    """One training-only form found: the block it is, its input and the calls
    it is made of (``root`` last, the value the forward goes on with)."""

    spec: object
    params: dict
    input: object
    nodes: list
    root: object = field(init=False)

    def __post_init__(self):
        self.root = self.nodes[-1]


def _find(node) -> Match | None:
    for pattern in patterns():
        bind: dict = {}
        inner: list = []
        if not _match(pattern.tree, node, bind, inner):
            continue
        x = bind.pop("input")
        params = {}
        try:
            for k, v in bind.items():
                params[k] = pattern.spec.param_index[k].check(v)
        except ParamError:
            continue  # a value the block cannot hold (std < 0): no match
        mine = set(inner)
        if any(u not in mine for m in inner[:-1] for u in m.users) or \
                any(u not in mine for u in x.users):
            continue  # a value used elsewhere too: no block gives it
        return Match(pattern.spec, params, x, inner)
    return None


def _steps(trace) -> list:
    return [n for n in trace.nodes if n.op != "output"]


class TrainingForms:
    """The training-only forms of one model, for the trace the builder maps.

    Args:
        trace: the fx graph the builder maps (traced in the model's mode).
        other: the fx graph traced in the other mode.
        training: whether ``trace`` is the training-mode trace.
    """

    def __init__(self, trace, other, training: bool):
        train, evaluation = (trace, other) if training else (other, trace)
        found: list[Match] = []
        taken: set = set()
        for n in _steps(train):
            if n in taken or n.op not in ("call_function", "call_method"):
                continue
            m = _find(n)
            if m is not None and not taken.intersection(m.nodes):
                found.append(m)
                taken.update(m.nodes)
        rest = [n for n in _steps(train) if n not in taken]
        evals = _steps(evaluation)
        aligned = found and len(rest) == len(evals) and all(
            (a.op, a.target) == (b.op, b.target) for a, b in zip(rest, evals))
        #: the training trace's nodes the forms are made of (taken out of the
        #: comparison of the two modes)
        self.skip: set = taken if aligned else set()
        self._matches = found if aligned else []
        pairs = dict(zip(rest, evals)) if aligned else {}
        #: node of the builder's trace → the match whose block goes after it
        self._after = {(m.input if training else pairs[m.input]): m for m in self._matches}
        #: node of the builder's trace → the match it is part of (training trace only)
        self._inside = {n: m for m in self._matches for n in m.nodes} if training else {}

    def handle(self, b, n) -> bool:
        """Map a node that is part of a form: its root is the input with the
        block after it, the rest no value of its own.  False: not part of one."""
        m = self._inside.get(n)
        if m is None:
            return False
        b.val[n] = b.val.get(m.input, ("X", None)) if n is m.root else ("M", None)
        if m.input in b.grads.free:
            b.grads.free.add(n)  # a draw depends on no trained weight
        self.after(b, n)  # a root may be the input of the next form
        return True

    def after(self, b, n) -> None:
        """Put the block of a form after node ``n``, its input, once mapped."""
        m = self._after.get(n)
        if m is None:
            return
        t = b.tensor(n)
        if t is None:
            b.bad.append(f"{m.spec.type} of {n} (training only) has no block's tensor")
            return
        params = {k: v for k, v in m.params.items() if not m.spec.param_index[k].is_default(v)}
        b.val[n] = ("T", b.add(m.spec.type, params, [(t, m.spec.inputs[0].name)]))
