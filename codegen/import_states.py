"""Recurrent states on import: ``out, h = self.gru(x, h)``, ``out, (h, c) =
self.lstm(x, (h0, c0))``, ``h[-1]``, ``h.transpose(0, 1)``, ``return out, h``.

PyTorch keeps a recurrent layer's states (layers·directions)×N×H, the batch
second, while every tensor on the canvas has its batch first: a block's state
ports (``BlockSpec.batch_second``: ``h0``, ``h_n``, ...) hold the transpose,
and the generated code transposes at the call.  The builder tags a value in
PyTorch's layout ``("S", ref)``: the transpose of the canvas tensor ``ref``.
Such a value may

- feed a state argument of a recurrent module (an edge to ``h0``/``c0``);
- be indexed: torch's ``h[k]`` is ``SelectTimestep(k)`` of the canvas tensor;
  the last layer's state of a layer whose sequence output nothing reads is
  that layer with ``return_sequences`` false (one block, as a person draws it),
  and so is ``torch.cat((h[-2], h[-1]), dim=1)`` of a bidirectional one;
- be transposed back (``h.transpose(0, 1)``, ``h.permute(1, 0, 2)``: the
  canvas tensor), made contiguous, cloned, detached or squeezed (``h.squeeze(0)``);
- be returned: the imported model returns it batch first.

A forward argument that only feeds state arguments is in PyTorch's layout
too: its Input has the shape the user gave without the batch,
(layers·directions)×H, and the imported model takes it batch first,
N×(layers·directions)×H.  :func:`codegen.import_checks.verify` feeds the
original the transpose and compares returned states transposed
(:class:`States` records which arguments and outputs these are).

What a module returns when it is more than one tensor is declared by its
spec (``module_result``): the builder tags it ``("R", (node id, structure))``
and indexing walks the structure; ``module_args`` says which input port each
forward argument feeds.  No block type is named here.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

from .import_checks import module_spec, return_line, source_line

#: Calls that give back the value they are given, layout and all.
_SAME = ("contiguous", "clone", "detach")


class PortRef(str):
    """A node id that stands for one of the node's outputs other than the first
    (``PortRef("gru", "h_n")``): used wherever the builder uses a node id."""

    port: str

    def __new__(cls, nid: str, port: str) -> "PortRef":
        self = super().__new__(cls, nid)
        self.port = port
        return self


def port_of(ref) -> str | None:
    """The output port a tensor reference names (None: the node's first)."""
    return getattr(ref, "port", None)


@dataclass
class States:
    """What the builder learns about states while it walks the trace.

    Attributes:
        args: indices of forward arguments in PyTorch's state layout.
        outputs: indices (in the flattened result) of returned states.
        calls: node id → the fx node of the module call it was made from.
        picks: SelectTimestep node id → (state reference, layer index).
    """

    args: set = field(default_factory=set)
    outputs: set = field(default_factory=set)
    calls: dict = field(default_factory=dict)
    picks: dict = field(default_factory=dict)


def _ref(b, nid: str, port: str):
    spec = b.g.nodes[nid].spec
    return nid if port == spec.outputs[0].name else PortRef(nid, port)


def _value(b, nid: str, port: str) -> tuple:
    ref = _ref(b, nid, port)
    return ("S", ref) if port in b.g.nodes[nid].spec.batch_second else ("T", ref)


def _name(n) -> str | None:
    return n.target if n.op == "call_method" else getattr(n.target, "__name__", None)


# ------------------------------------------------------------ module calls

def result(b, n, spec, nid: str) -> None:
    """Tag what a module call returns: one tensor, or the spec's structure."""
    b.states.calls[nid] = n
    b.val[n] = ("T", nid) if spec.module_result is None else ("R", (nid, spec.module_result))


def _bind(b, spec, call) -> dict | None:
    """Input port → fx node (or an already tagged value) for a module call
    whose spec declares ``module_args``; None when the call does not fit."""
    names = [name for name, _ in spec.module_args]
    if len(call.args) > len(names) or any(k not in names for k in call.kwargs):
        return None
    given = dict(zip(names, call.args))
    given.update(call.kwargs)
    out: dict = {}
    for name, ports in spec.module_args:
        v = given.get(name)
        if v is None:
            continue
        if not isinstance(ports, tuple):
            out[ports] = v
            continue
        if isinstance(v, (tuple, list)) and len(v) == len(ports):
            out.update(zip(ports, v))
            continue
        # a tuple another layer returned: decoder(y, hidden) with hidden = (h_n, c_n)
        tag, got = b.val.get(v, ("?", None)) if hasattr(v, "op") else ("?", None)
        if tag != "R" or len(got[1]) != len(ports) or not all(isinstance(p, str)
                                                              for p in got[1]):
            return None
        out.update({port: _value(b, got[0], p) for port, p in zip(ports, got[1])})
    return out


def call_edges(b, n, spec) -> list | None:
    """The edges ``(reference, input port)`` of a module call with declared
    ``module_args``; None (with the reason in ``b.bad``) when one cannot be made."""
    bound = _bind(b, spec, n)
    if bound is None:
        b.bad.append(f"{n.target}: arguments {_short(n)} do not fit "
                     f"{', '.join(name for name, _ in spec.module_args)}")
        return None
    edges = []
    for port, v in bound.items():
        if hasattr(v, "op") and b.is_meta(v):
            # a state made without a tensor (torch.zeros(layers, x.size(0), h)) is
            # the layer's own default when zero; the exactness check tells
            continue
        tag, ref = v if isinstance(v, tuple) else b.val.get(v, ("?", None))
        want = "S" if port in spec.batch_second else "T"
        if tag != want:
            if want == "S" and tag == "T":
                b.bad.append(f"{n.target}: its initial state {port} ({v}) is not in "
                             "PyTorch's state layout (layers·directions)×N×H as NetCanvas "
                             "can follow it: pass a forward argument only as the state, "
                             "or another layer's final state")
            else:
                b.bad.append(f"input {v} of {n.target}")
            return None
        edges.append((ref, port))
    return edges


def _short(n) -> str:
    parts = [str(a) for a in n.args] + [f"{k}={v}" for k, v in n.kwargs.items()]
    return "(" + ", ".join(parts) + ")"


def _state_arguments(b, call) -> list:
    """The fx nodes a module call passes as its states (batch second)."""
    if call.op != "call_module":
        return []
    try:
        spec = module_spec(b.root.get_submodule(call.target))
    except AttributeError:
        return []
    if spec is None or spec.module_args is None:
        return []
    bound = _bind(b, spec, call) or {}
    return [v for port, v in bound.items() if port in spec.batch_second and hasattr(v, "op")]


def _feeds_states(b, n) -> bool:
    """Whether every use of ``n`` is as a state argument (through
    ``.contiguous()`` and the like)."""
    users = list(n.users)
    if not users:
        return False
    for u in users:
        if u.op == "call_method" and u.target in _SAME and u.args[0] is n and len(u.args) == 1:
            if not _feeds_states(b, u):
                return False
        elif n not in _state_arguments(b, u):
            return False
    return True


def argument(b, n, nid: str, k: int) -> tuple:
    """Tag forward argument ``k`` (its Input ``nid``): in PyTorch's state
    layout when it only feeds state arguments."""
    if _feeds_states(b, n):
        b.states.args.add(k)
        return ("S", nid)
    return ("T", nid)


# ------------------------------------------------------------ using states

def _out_used(b, nid: str) -> bool:
    """Whether anything reads the sequence output (the first result) of a call."""
    call = b.states.calls.get(nid)
    if call is None:
        return True
    for u in call.users:
        if not (u.op == "call_function" and u.target is operator.getitem):
            return True
        if u.args[1] == 0 and u.users:
            return True
    return False


def _compact(b, ref) -> str | None:
    """The node whose ``return_sequences`` may be turned off to give the last
    layer's final state itself, or None."""
    nid = str(ref)
    node = b.g.nodes[nid]
    if port_of(ref) is None or port_of(ref) != node.spec.outputs[1].name \
            or "return_sequences" not in node.spec.param_index or _out_used(b, nid):
        return None
    return nid


def _shape(b, ref) -> tuple | None:
    """The shape (batch first) of a tensor of the graph built so far, or None."""
    if b.rank(ref) is None:
        return None
    return tuple(b.an.output_type(ref, port_of(ref) or "out").shape)


def _stacks(b, ref) -> int | None:
    shape = _shape(b, ref)
    return shape[1] if shape is not None and len(shape) == 3 else None


def pick(b, n, ref, idx: int) -> None:
    """``h[idx]`` of a state in PyTorch's layout: one layer and direction."""
    stacks = _stacks(b, ref)
    if stacks is None:
        b.bad.append(f"indexing the state {n.args[0]}[{idx}]")
        return
    if not -stacks <= idx < stacks:
        b.bad.append(f"{n.args[0]}[{idx}] is out of range: the state has {stacks} "
                     "layer(s)·direction(s)")
        return
    k = idx % stacks
    nid = _compact(b, ref)
    if nid is not None and k == stacks - 1 and not b.g.nodes[nid].params.get("bidirectional") \
            and _final_state(b, nid):
        b.val[n] = ("T", nid)
        return
    params = {} if idx == -1 else {"index": idx}
    sel = b.add("SelectTimestep", params, [(ref, "in")])
    b.states.picks[sel] = (ref, k)
    b.val[n] = ("T", sel)


def concat(b, n, items) -> bool:
    """``torch.cat((h[-2], h[-1]), dim=1)`` of a bidirectional layer whose
    sequence output nothing reads: that layer's own final state (its two
    SelectTimestep blocks are taken out again).  False: an ordinary Concat."""
    dim = n.kwargs.get("dim", n.args[1] if len(n.args) > 1 else 0)
    if len(items) != 2 or dim not in (1, -1):
        return False
    refs = [b.tensor(a) for a in items]
    picks = [b.states.picks.get(r) for r in refs]
    if None in picks or picks[0][0] != picks[1][0] or \
            port_of(picks[0][0]) != port_of(picks[1][0]):
        return False
    ref = picks[0][0]
    nid, stacks = _compact(b, ref), _stacks(b, ref)
    if nid is None or not b.g.nodes[nid].params.get("bidirectional") or \
            [k for _, k in picks] != [stacks - 2, stacks - 1] or \
            any(len(a.users) != 1 or b.g.out_edges(r) for a, r in zip(items, refs)):
        return False
    if not _final_state(b, nid):
        return False
    for r in refs:
        b.g.remove_node(r)
        del b.states.picks[r]
    b.val[n] = ("T", nid)
    return True


def _final_state(b, nid: str) -> bool:
    """Turn ``return_sequences`` off when the block allows it (a sequence-first
    layer does not: its state's batch is not the canvas's first dimension)."""
    b.g.set_param(nid, "return_sequences", False)
    if b.rank(nid) is None:
        b.g.set_param(nid, "return_sequences", True)
        return False
    return True


def _swaps(n) -> bool:
    """Whether a call exchanges dims 0 and 1 of a rank-3 tensor and nothing else."""
    name, rest = _name(n), list(n.args[1:])
    if name == "transpose":
        rest = rest or [n.kwargs.get("dim0"), n.kwargs.get("dim1")]
        return len(rest) == 2 and {rest[0], rest[1]} in ({0, 1}, {0, -2})
    if name == "permute":
        order = list(rest[0]) if len(rest) == 1 and isinstance(rest[0], (list, tuple)) \
            else rest or list(n.kwargs.get("dims", ()))
        return [d % 3 if type(d) is int else d for d in order] == [1, 0, 2]
    return False


def rewrite(b, n) -> bool:
    """A call on a state, or one that makes a state; True when mapped or refused."""
    args = list(n.args)
    if not args or not hasattr(args[0], "op"):
        return False
    tag, ref = b.val.get(args[0], ("?", None))
    name = _name(n)
    if n.target is operator.getitem and tag == "R":
        return _walk(b, n, ref, args[1])
    if tag == "S":
        return _on_state(b, n, ref, name, args)
    if tag == "T" and _swaps(n) and _feeds_states(b, n):
        shape = _shape(b, ref)
        if shape is not None and len(shape) == 3:
            b.val[n] = ("S", ref)  # x.transpose(0, 1) passed as a state: the canvas's x
            return True
    return False


def _walk(b, n, ref, idx) -> bool:
    nid, structure = ref
    if type(idx) is not int or not -len(structure) <= idx < len(structure):
        b.val[n] = ("?", None)  # refused where it is used
        return True
    part = structure[idx]
    if part is None:
        b.val[n] = ("?", None)
    elif isinstance(part, tuple):
        b.val[n] = ("R", (nid, part))
    else:
        b.val[n] = _value(b, nid, part)
    return True


def _on_state(b, n, ref, name, args) -> bool:
    full = slice(None)
    if n.target is operator.getitem:
        idx = args[1]
        items = list(idx) if isinstance(idx, tuple) else [idx]
        if items and type(items[0]) is int and all(i == full for i in items[1:]):
            pick(b, n, ref, items[0])  # h[-1], h[-2, :, :]
            return True
    elif name in _SAME and len(args) == 1:
        b.val[n] = ("S", ref)
        return True
    elif _swaps(n):
        b.val[n] = ("T", ref)  # back to the batch first: the canvas's own tensor
        return True
    elif name == "squeeze" and n.kwargs.get("dim", args[1] if len(args) > 1 else None) == 0:
        if _stacks(b, ref) == 1:
            pick(b, n, ref, 0)
        else:
            b.val[n] = ("S", ref)  # squeezing a size other than 1 changes nothing
        return True
    b.bad.append(f"{_call(n)} of the recurrent state {args[0]} (PyTorch's "
                 "(layers·directions)×N×H) has no block; index it (h[-1]), transpose it "
                 "(h.transpose(0, 1)) or return it")
    return True


def _call(n) -> str:
    if n.target is operator.getitem:
        return f"indexing [{n.args[1]!r}]"
    return f".{_name(n)}()" if n.op == "call_method" else f"{_name(n)}()"


# ------------------------------------------------------------ outputs

def outputs(b, n) -> None:
    """One Output per returned tensor, nested tuples and returned state tuples
    flattened in order; a state is returned batch first (recorded for the check)."""
    flat: list = []

    def walk(v):
        if isinstance(v, (tuple, list)):
            for x in v:
                walk(x)
            return
        tag, ref = b.val.get(v, ("?", None)) if hasattr(v, "op") else ("?", None)
        if tag == "R" and all(isinstance(p, str) for p in _leaves(ref[1])):
            for p in _leaves(ref[1]):
                flat.append((v, _value(b, ref[0], p)))
            return
        flat.append((v, (tag, ref)))

    walk(n.args[0])
    for i, (v, (tag, ref)) in enumerate(flat):
        if tag not in ("T", "S"):
            # the output node has no line of its own: the line that made the
            # value, else forward's return statement
            where = source_line(v) if hasattr(v, "op") else ""
            b.bad.append(f"output {v} is not a tensor of a block",
                         where=where or return_line(b.root))
            continue
        if tag == "S":
            b.states.outputs.add(i)
        b.add("Output", {}, [(ref, "in")])


def _leaves(structure) -> list:
    out = []
    for p in structure:
        out.extend(_leaves(p) if isinstance(p, tuple) else [p])
    return out
