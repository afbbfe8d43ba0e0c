"""Functional forms and tensor methods on import: ``F.relu(x)``, ``x.sigmoid()``,
``F.max_pool2d(x, 2)``, ``x * math.sqrt(d)``, ``h[-1]``, ``x.squeeze(1)`` → blocks.

What a call means is declared next to each block (``BlockSpec.functional``,
e.g. ``"F.max_pool2d(input, kernel_size, stride, ...)"``); this module reads
those declarations once into a table keyed by the torch function (matched by
identity, never by name) or the tensor method's name, binds a traced call's
arguments to the declared names, and turns them into the block's parameters:

- ``input`` is the tensor the block reads;
- a name that is one of the block's parameters sets it (checked by the
  parameter itself, so a value the block cannot hold is refused);
- ``name=default`` declares PyTorch's default where it differs from the
  block's; ``name!`` must be given (``F.softmax`` without ``dim``);
- the rest (``inplace``, ``_stacklevel``, ...) may only keep the value that
  changes nothing (:data:`_NEUTRAL`), else the import names the argument.

A few tensor methods have no block of their own but one that computes the
same thing given the input's shape (``squeeze``/``unsqueeze`` → ``Reshape``,
``transpose`` → ``Permute``, indexing → ``SelectTimestep``/``Select``); those
are :func:`_rewrite`'s, read with the shapes of the graph built so far.

The entry point :func:`convert` is called by the fx importer for every
function or method call before its own structural cases (``+``, ``cat``, ...).
"""

from __future__ import annotations

import ast
import math
import operator
import re
from dataclasses import dataclass
from functools import lru_cache

from graph import blocks
from graph.problems import ParamError

from . import import_states

#: Arguments without a block parameter, and the values that leave the result as
#: the block computes it (None: any value; in-place or not gives the same numbers).
_NEUTRAL = {"inplace": None, "_stacklevel": None, "dtype": (None,),
            "return_indices": (False,), "divisor_override": (None,),
            "weight": (None,), "bias": (None,)}

_FORM = re.compile(r"^(F|torch|operator)?\.(\w+)\((.*)\)$")


@dataclass(frozen=True)
class _Form:
    """One declared call: the block it makes and its positional argument names."""

    spec: object
    text: str
    args: tuple[str, ...]
    required: frozenset
    defaults: dict
    method: bool


def _parse(spec, text: str) -> tuple[object, _Form]:
    """``"F.relu(input, inplace)"`` → (the key it is found by, the form)."""
    m = _FORM.match(text)
    if m is None:
        raise ValueError(f"{spec.type}: cannot read functional form {text!r}")
    where, name, arglist = m.groups()
    args, required, defaults = [], set(), {}
    for a in (x.strip() for x in arglist.split(",") if x.strip()):
        if a.endswith("!"):
            a = a[:-1]
            required.add(a)
        if "=" in a:
            a, default = a.split("=")
            defaults[a] = ast.literal_eval(default)  # a literal of the declaration
        args.append(a)
    form = _Form(spec, text, tuple(args), frozenset(required), defaults, where is None)
    if where is None:
        return ("method", name), form
    import torch  # noqa: F401  (torch.nn.functional needs torch loaded)
    import torch.nn.functional as F

    owner = {"F": F, "torch": torch, "operator": operator}[where]
    return ("function", getattr(owner, name)), form


@lru_cache(maxsize=1)
def _table() -> dict:
    table: dict = {}
    for spec in blocks.all_specs():
        for text in spec.functional:
            key, form = _parse(spec, text)
            table.setdefault(key, []).append(form)
    return table


def forms_for(target, method: bool) -> list[_Form]:
    """The declared forms a traced call may be (empty when none is declared)."""
    key = ("method", target) if method else ("function", target)
    try:
        return _table().get(key, [])
    except TypeError:  # an unhashable target is no declared function
        return []


def convert(b, n) -> bool:
    """Map one traced call onto a block of the graph being built.

    Args:
        b: the importer's builder (``tensor``, ``add``, ``val``, ``bad``, ...).
        n: an fx ``call_function`` or ``call_method`` node.

    Returns:
        True when the call was handled: mapped, or reported in ``b.bad``;
        False when it is none of the forms known here (the caller goes on).
    """
    if import_states.rewrite(b, n):  # h[-1], h.transpose(0, 1): recurrent states
        return True
    if _rewrite(b, n):
        return True
    method = n.op == "call_method"
    for form in forms_for(n.target, method):
        bound = _bind(form, n)
        if bound is None:
            continue
        bound = {k: v if k == "input" else _concrete(b, v) for k, v in bound.items()}
        if not _applies(b, form, bound):
            continue
        _make(b, n, form, bound)
        return True
    forms = forms_for(n.target, method)
    if forms and all(f.spec.type != "Scale" for f in forms):  # x * y is Multiply's
        b.bad.append(f"{_call_text(n)} with a tensor where {forms[0].spec.type} needs a "
                     "constant (e.g. a weight passed in) has no block")
        return True
    return False


def _bind(form: _Form, n) -> dict | None:
    """Argument name → value for a call, or None when the call does not fit."""
    names = ("input",) + form.args if form.method else form.args
    if len(n.args) > len(names):
        return None
    bound = dict(zip(names, n.args))
    for k, v in n.kwargs.items():
        if k not in names or k in bound:
            return None
        bound[k] = v
    return bound


_UNKNOWN = object()


def _concrete(b, v):
    """A size computed from a tensor's shape (``out.size()[3]``, ``x.shape[-1]``)
    as the number it is in the graph built so far; anything else unchanged."""
    got = _size_of(b, v)
    # the batch (and any variable size) is no number a block could hold
    flat = got if isinstance(got, (list, tuple)) else (got,)
    if got is _UNKNOWN or not all(isinstance(x, (int, float)) for x in flat):
        return v
    return got


#: Arithmetic on sizes (``x.size(1) * x.size(2)``, ``math.sqrt(x.size(-1))``),
#: worked out when the operands are numbers.
_SIZE_ARITHMETIC = (operator.mul, operator.add, operator.sub, operator.floordiv,
                    operator.truediv, operator.pow, math.sqrt)


def _size_of(b, v):
    if isinstance(v, (list, tuple)):
        items = [_size_of(b, x) for x in v]
        return _UNKNOWN if any(x is _UNKNOWN for x in items) else type(v)(items)
    if not hasattr(v, "op"):
        return v
    if not b.is_meta(v):
        return _UNKNOWN
    name = v.target if v.op == "call_method" else getattr(v.target, "__name__", None)
    args = list(v.args)
    if v.op == "call_function" and v.target in _SIZE_ARITHMETIC:
        values = [_size_of(b, a) for a in args]
        if v.kwargs or not all(type(x) in (int, float) for x in values):
            return _UNKNOWN  # the batch, a variable size, or no number at all
        try:
            return v.target(*values)
        except (ArithmeticError, ValueError, TypeError):  # x // 0, sqrt(-1)
            return _UNKNOWN
    if name in ("size", "getattr") and args and b.tensor(args[0]) is not None:
        if name == "getattr" and args[1] != "shape":
            return _UNKNOWN
        shape = _shape(b, b.tensor(args[0]))
        if shape is None:
            return _UNKNOWN
        dim = v.kwargs.get("dim", args[1] if name == "size" and len(args) > 1 else None)
        got = shape if dim is None else shape[dim]
    elif name == "getitem" and len(args) == 2:
        seq, idx = _size_of(b, args[0]), _size_of(b, args[1])
        if _UNKNOWN in (seq, idx) or not isinstance(seq, tuple):
            return _UNKNOWN
        got = seq[idx]
    else:
        return _UNKNOWN
    return got


def _applies(b, form: _Form, bound: dict) -> bool:
    """A tensor where the form reads one, and no tensor anywhere else."""
    for k, v in bound.items():
        is_tensor = b.tensor(v) is not None
        if (k == "input") != is_tensor:
            return False
        if k != "input" and hasattr(v, "op"):
            return False
    return "input" in bound


def _make(b, n, form: _Form, bound: dict) -> None:
    spec = form.spec
    where = _call_text(n)
    params: dict = {}
    for k in form.required:
        if bound.get(k) is None:  # fx writes the defaults out: dim=None
            b.bad.append(f"{where} without {k}= (the block needs it)")
            return
    for k, v in bound.items():
        if k == "input":
            continue
        if k in _NEUTRAL and spec.param_index.get(k) is None or k in ("weight", "bias") \
                and spec.type == "LayerNorm":
            allowed = _NEUTRAL[k]
            if allowed is not None and v not in allowed:
                b.bad.append(f"{where} with {k}={_short(v)} (not supported)")
                return
            continue
        if k == "training":
            continue  # read below, given or not
        if k == "normalized_shape":
            shape = list(v) if isinstance(v, (list, tuple)) else [v]
            params["normalized_dims"] = len(shape)
            continue
        if spec.param_index.get(k) is not None:
            params[k] = v
            continue
        if v != form.defaults.get(k):
            b.bad.append(f"{where} with {k}={_short(v)} (not supported)")
            return
    if "training" in form.args:
        # traced, training=self.training is the model's mode at the time: the
        # block follows the mode as the call did; a constant False is no-op
        # (alpha_dropout's default), and a constant True (dropout's default)
        # would drop in evaluation too, which no block does
        training = bound.get("training", form.defaults.get("training"))
        if training != b.root.training:
            if training:
                b.bad.append(f"{where} drops in evaluation too (training=True); pass "
                             "training=self.training")
                return
            b.val[n] = ("T", b.tensor(bound["input"]))
            return
    for k, default in form.defaults.items():
        if k not in bound and spec.param_index.get(k) is not None:
            params[k] = default
    if spec.type == "LayerNorm":
        params["elementwise_affine"] = False
    for k, v in params.items():
        try:
            params[k] = _plain(spec.param_index[k].check(v)) if k in spec.param_index else v
        except ParamError as exc:
            b.bad.append(f"{where}: {exc}")
            return
    edge = (b.tensor(bound["input"]), spec.inputs[0].name)
    b.val[n] = ("T", b.add(spec.type, _changed(spec.type, params), [edge]))


def _short(v) -> str:
    """A value for a message: a literal, or what a tensor argument is."""
    return "a tensor" if hasattr(v, "op") else repr(v)


def _plain(v):
    return list(v) if isinstance(v, tuple) else v


def _call_text(n) -> str:
    if n.op == "call_method":
        return f".{n.target}()"
    mod = getattr(n.target, "__module__", "") or ""
    name = getattr(n.target, "__name__", str(n.target))
    prefix = {"torch.nn.functional": "F.", "_operator": "operator.",
              "operator": "operator."}.get(mod, "torch.")
    return f"{prefix}{name}()"


# ----------------------------------------------------------------- rewrites

def _shape(b, nid: str) -> tuple | None:
    """The output shape of a block built so far (batch first), or None."""
    if b.rank(nid) is None:
        return None
    return tuple(b.an.output_type(nid, import_states.port_of(nid) or "out").shape)


def _rewrite(b, n) -> bool:
    """Calls computed by a block given the input's shape; True when handled."""
    name = n.target if n.op == "call_method" else getattr(n.target, "__name__", None)
    if n.target is operator.getitem:
        return _index(b, n)
    if name not in ("squeeze", "unsqueeze", "transpose", "view", "reshape"):
        return False
    if n.op == "call_function" and getattr(n.target, "__module__", None) not in (None, "torch"):
        return False
    args = list(n.args)
    if not args:
        return False
    x = args[0]
    t = b.tensor(x)
    if t is None:
        return False
    shape = _shape(b, t)
    if shape is None:
        return False
    rest = args[1:]
    where = f".{name}{tuple(rest)}"
    if name in ("view", "reshape"):
        want = list(rest[0]) if len(rest) == 1 and isinstance(rest[0], (list, tuple)) else rest
        # x.view(-1, 16 * 5 * 5): the -1 is the batch when the rest holds one sample
        if (want and want[0] == -1 and all(type(v) is int and v > 0 for v in want[1:])
                and all(isinstance(s, int) for s in shape[1:])
                and _product(want[1:]) == _product(shape[1:])):
            _reshape(b, n, t, want[1:])
            return True
        return False
    if name == "transpose":
        if len(rest) != 2 or not all(type(v) is int for v in rest):
            return False
        d0, d1 = (d % len(shape) for d in rest)
        if 0 in (d0, d1):
            b.bad.append(f"{where} moves the batch dimension (dim 0)")
            return True
        order = list(range(len(shape)))
        order[d0], order[d1] = order[d1], order[d0]
        b.val[n] = ("T", b.add("Permute", _changed("Permute", {"dims": order}), [(t, "in")]))
        return True
    dim = n.kwargs.get("dim", rest[0] if rest else None)
    if name == "unsqueeze":
        if type(dim) is not int:
            return False
        d = dim % (len(shape) + 1)
        if d == 0:
            b.bad.append(f"{where} adds a dimension before the batch")
            return True
        new = list(shape[:d]) + [1] + list(shape[d:])
    else:
        dims_ = [dim] if type(dim) is int else list(dim) if isinstance(dim, (list, tuple)) \
            else [i for i, s in enumerate(shape) if i > 0 and s == 1]
        gone = {d % len(shape) for d in dims_}
        if 0 in gone:
            b.bad.append(f"{where} removes the batch dimension (dim 0)")
            return True
        new = [s for i, s in enumerate(shape) if i not in gone or s != 1]
    _reshape(b, n, t, new[1:])
    return True


def _product(values) -> int:
    out = 1
    for v in values:
        out *= v
    return out


def _reshape(b, n, t: str, sample: list) -> None:
    """A Reshape to ``sample`` (one symbolic size becomes the -1 it is worked out as)."""
    named = [i for i, s in enumerate(sample) if not isinstance(s, int)]
    if len(named) > 1:
        b.bad.append(f".{n.target}() of a tensor with several variable sizes")
        return
    want = [-1 if i in named else s for i, s in enumerate(sample)]
    b.val[n] = ("T", b.add("Reshape", _changed("Reshape", {"shape": want}), [(t, "in")]))


def _index(b, n) -> bool:
    """``out[:, -1]``, ``x[:, :, 0]``, ``x[..., 2]``, ``hidden[-2, :, :]``."""
    src, idx = n.args
    tag, nid = b.val.get(src, ("?", None))
    items = list(idx) if isinstance(idx, tuple) else [idx]
    full = slice(None)
    if tag != "T":
        return False
    ints = [k for k, i in enumerate(items) if type(i) is int]
    if len(ints) != 1 or any(i != full for k, i in enumerate(items)
                             if k != ints[0] and i is not Ellipsis) \
            or sum(i is Ellipsis for i in items) > 1:
        return False
    k = ints[0]
    if Ellipsis in items and items.index(Ellipsis) < k:
        dim = -(len(items) - k)  # counted from the end
    else:
        if Ellipsis in items or k == 0:
            return False  # an index into the batch is no layer
        dim = k
    kind = "SelectTimestep" if dim == 1 else "Select"
    b.val[n] = ("T", b.add(kind, _changed(kind, {"dim": dim, "index": items[k]}), [(nid, "in")]))
    return True


def _changed(kind: str, params: dict) -> dict:
    """The parameters of a ``kind`` block that differ from its defaults."""
    spec = blocks.get(kind)
    return {k: v for k, v in params.items()
            if k in spec.param_index and not spec.param_index[k].is_default(v)}
