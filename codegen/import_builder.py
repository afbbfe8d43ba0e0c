"""The import's builder: the traced fx graph → a :class:`~graph.Graph`, one fx node
at a time.

Values are tagged while walking: a block's tensor ``("T", id)``, a module's
tuple result ``("R", ...)`` (``x, _ = self.lstm(x)``), a recurrent state in
PyTorch's layout ``("S", id)``, *meta* values ``("M", None)`` (sizes, devices,
masks: anything computed without a tensor input, folded into the parameters
of the block that uses them), or ``("X", None)`` for the value of a node that
could not be mapped (what consumes it is a knock-on, not a cause).  Modules
are mapped by their block spec's ``from_module`` hook; calls by
:mod:`codegen.import_rewrites`, :mod:`codegen.import_functional` and the
structural cases here (``+``, ``cat``, ``mean``, indexing).  Whatever has no
block is collected in :class:`~codegen.import_checks.Problems`.
"""

from __future__ import annotations

import operator

from graph import Analyzer, Graph, blocks
from graph.blocks.module_import import ImportRefused, module_params
from graph.problems import ParamError

from . import (import_functional, import_modes, import_rewrites, import_states,
               import_training)
from .import_checks import ModelImportError, Problems, module_spec
from .import_functional import _short


_FUNCS = {"add": "Add", "mul": "Multiply", "relu": "ReLU", "tanh": "Tanh",
          "sigmoid": "Sigmoid", "gelu": "GELU", "silu": "SiLU", "elu": "ELU",
          "softmax": "Softmax", "log_softmax": "LogSoftmax", "cat": "Concat",
          "flatten": "Flatten", "reshape": "Reshape", "view": "Reshape",
          "permute": "Permute", "mean": "Mean"}


class Builder:
    """Maps one traced model onto a new graph (see the module docstring)."""

    def __init__(self, module, fx_graph, shapes, dtypes):
        self.root, self.fx_graph, self.shapes, self.dtypes = module, fx_graph, shapes, dtypes
        self.g = Graph()
        self.val: dict = {}
        self.bad = Problems()
        #: node id → path of the original submodule whose weights it takes
        self.origin: dict[str, str] = {}
        self.depth: dict[str, int] = {}
        self.an: Analyzer | None = None  # made on first use, follows the graph
        self.units = None  # an import_units.Plan: submodules that become unit instances
        self.states = import_states.States()  # recurrent states (batch second in torch)
        #: (fx node, reason) where the trace in the other mode parts from this one
        self.mode_difference = None
        self.grads = import_modes.Gradients(module)
        #: what blocks compute only while training (GaussianNoise)
        self.forms: import_training.TrainingForms | None = None

    def add(self, type_name: str, params: dict, inputs: list[tuple[str, str]], name=None) -> str:
        if name is not None and self.g.name_problem(name) is not None:
            name = None  # taken, or unusable as an attribute: a derived one instead
        node = self.g.add_node(type_name, params, name=name)
        for src, port in inputs:
            self.g.connect(src, node.id, source_port=import_states.port_of(src),
                           target_port=port)
        self.depth[node.id] = 1 + max((self.depth[s] for s, _ in inputs), default=-1)
        return node.id

    def tensor(self, a):
        v = self.val.get(a) if hasattr(a, "op") else None
        return v[1] if v and v[0] == "T" else None

    def _tags(self, a):
        """The value tag of each graph node in an argument (nested lists, tuples, dicts)."""
        if hasattr(a, "op"):
            yield self.val.get(a, ("?",))[0]
        elif isinstance(a, (list, tuple, dict)):
            for x in (a.values() if isinstance(a, dict) else a):
                yield from self._tags(x)

    def is_meta(self, a) -> bool:
        """Whether an argument (nested) holds only metadata: no tensor, nothing unmapped."""
        return all(tag == "M" for tag in self._tags(a))

    def failed(self, a) -> bool:
        """Whether an argument (nested) is the value of a node that could not be mapped."""
        return any(tag == "X" for tag in self._tags(a))

    def known(self, n) -> bool:
        """Whether a node's operation has a mapping at all (its input aside)."""
        if n.op == "call_module":
            mod = self.root.get_submodule(n.target)
            return module_spec(mod) is not None or bool(self.units and self.units.is_leaf(mod))
        if n.op not in ("call_function", "call_method"):
            return True
        t = n.target
        name = t if isinstance(t, str) else getattr(t, "__name__", str(t))
        if name == "getattr":
            return n.args[1] in ("shape", "device", "dtype", "ndim")
        return (t is operator.getitem or name in ("size", "dim", "iadd", "imul")
                or name in _FUNCS or import_rewrites.kind_of(n) is not None
                or bool(import_functional.forms_for(t, n.op == "call_method")))

    def build(self) -> Graph:
        k = 0
        if self.mode_difference is not None:  # where forward parts by mode: the first cause
            self.bad.node, reason = self.mode_difference
            self.bad.append(reason)
        for n in self.fx_graph.nodes:
            self.bad.node = n
            before = len(self.bad)
            if self.forms is not None and self.forms.handle(self, n):
                continue  # part of a training-only form: its block is after its input
            if self.failed(list(n.args) + list(n.kwargs.values())):
                # a knock-on of an earlier cause: reported only if it is a cause itself
                if not self.known(n):
                    self.bad.append(self.unsupported(n))
                self.val[n] = ("X", None)
                continue
            self.step(n, k)
            k += n.op == "placeholder"
            if len(self.bad) == before:
                self.grads.check(self, n)
            if len(self.bad) > before:
                self.val[n] = ("X", None)
            elif self.forms is not None:
                self.forms.after(self, n)
        if self.an is not None:
            self.an.close()
        if self.bad:
            raise ModelImportError(self.bad.message(type(self.root).__name__))
        for nid, node in self.g.nodes.items():
            rows = [m for m in self.g.nodes if self.depth[m] == self.depth[nid]]
            self.g.move(nid, (220.0 * self.depth[nid], 120.0 * rows.index(nid)))
        return self.g

    def unsupported(self, n) -> str:
        if n.op == "call_module":
            return f"module {n.target} ({type(self.root.get_submodule(n.target)).__name__}) has no block"
        if n.op == "call_function" and getattr(n.target, "__name__", "") == "getattr":
            return f"attribute .{n.args[1]} has no block"
        t = n.target
        return f"function {t if isinstance(t, str) else getattr(t, '__name__', t)} has no block"

    def step(self, n, k: int) -> None:
        """Map one fx node (``k``: how many forward arguments came before it)."""
        if n.op == "placeholder":
            if k >= len(self.shapes):
                raise ModelImportError(f"forward() has more arguments than input_shapes ({len(self.shapes)})")
            nid = self.add("Input", {"shape": list(self.shapes[k]), "dtype": self.dtypes[k]}, [],
                           name=n.name)
            self.val[n] = import_states.argument(self, n, nid, k)
        elif n.op == "output":
            import_states.outputs(self, n)
        elif import_modes.random_call(n) is not None:  # never folded into a parameter
            self.bad.append(f"function {import_modes.random_call(n)} draws random numbers; "
                            f"no block does ({import_training.hint()})")
        elif self.is_meta(list(n.args) + list(n.kwargs.values())) and n.op != "call_module":
            self.val[n] = ("M", None)
        elif n.op == "call_module":
            self.module(n)
        else:
            self.function(n)

    # ----------------------------------------------------------------- modules
    def module(self, n) -> None:
        if self.units is not None and self.units.instance(self, n):
            return
        mod = self.root.get_submodule(n.target)
        spec = module_spec(mod)
        if spec is None:
            self.bad.append(self.unsupported(n))
            return
        cls_name = type(mod).__name__.replace("Parametrized", "")
        try:
            params = module_params(spec, mod, n.kwargs)
            params.update(_parametrization(spec, mod))
        except ImportRefused as exc:
            self.bad.append(f"{n.target}: {exc.describe(cls_name)}")
            return
        if spec.module_args is not None:  # named arguments, tuples of states
            edges = import_states.call_edges(self, n, spec)
            if edges is not None:
                nid = self.add(spec.type, params, edges, name=n.target.replace(".", "_"))
                self.origin[nid] = n.target
                import_states.result(self, n, spec, nid)
            return
        ins = [a for a in n.args if not self.is_meta(a)]
        ports = list(spec.inputs)
        if len(ins) > 1 and len(set(ins)) == 1 and all(p.optional for p in ports[1:]):
            ins = ins[:1]  # self-attention: key and value default to the query
        if len(ins) > len(ports):  # never dropped silently: the layer would compute without it
            self.bad.append(f"module {n.target} ({cls_name}) is called with {len(ins)} tensors; "
                            f"its block takes {len(ports)} "
                            f"({', '.join(p.name for p in ports)})")
            return
        edges = []
        for port, a in zip(ports, ins):
            t = self.tensor(a)
            if t is None:
                self.bad.append(f"input {a} of {n.target}")
                return
            edges.append((t, port.name))
        nid = self.add(spec.type, params, edges, name=n.target.replace(".", "_"))
        self.origin[nid] = n.target
        import_states.result(self, n, spec, nid)

    # --------------------------------------------------------------- functions
    def function(self, n) -> None:
        # x / c, x - y, .contiguous(), x.view(...); then the forms the block specs declare
        if import_rewrites.rewrite(self, n) or import_functional.convert(self, n):
            return
        t = n.target
        name = t if isinstance(t, str) else getattr(t, "__name__", str(t))
        args = list(n.args)
        if t is operator.getitem:
            return self.getitem(n, args)
        if name == "getattr" and args[1] not in ("shape", "device", "dtype", "ndim"):
            self.bad.append(self.unsupported(n))
            return
        if name in ("getattr", "size", "dim"):
            self.val[n] = ("M", None)
            return
        kind = _FUNCS.get({"iadd": "add", "imul": "mul"}.get(name, name))
        if kind is None:
            self.bad.append(self.unsupported(n))
            return
        if kind == "Concat":
            items = args[0]
            if import_states.concat(self, n, items):  # a bidirectional final state
                return
            dim = n.kwargs.get("dim", args[1] if len(args) > 1 else 0)
            return self.op(n, kind, {"dim": dim}, list(items), variadic="in")
        x, rest = args[0], args[1:]
        p: dict = {}
        if kind in ("Add", "Multiply"):
            extra = {k: v for k, v in n.kwargs.items() if not (k == "alpha" and v == 1)}
            if extra or len(args) != 2:  # torch.add(x, y, alpha=2) scales y first
                what = ", ".join(f"{k}={_short(v)}" for k, v in extra.items()) or \
                    f"{len(args)} operands"
                self.bad.append(f"{kind} with {what} has no block")
                return
            return self.op(n, kind, {}, args, variadic="in")
        if kind == "Flatten":
            p = {"start_dim": n.kwargs.get("start_dim", rest[0] if rest else 0),
                 "end_dim": n.kwargs.get("end_dim", rest[1] if len(rest) > 1 else -1)}
            if p["start_dim"] == 0:  # torch.flatten(x): its default folds the batch in too
                self.bad.append(f"{name} from dim 0 folds the batch into the features (a "
                                "block keeps the batch as dim 0; write torch.flatten(x, 1))")
                return
        elif kind == "Reshape":
            shape = list(rest[0]) if len(rest) == 1 and isinstance(rest[0], (tuple, list)) else rest
            if not shape or not self.is_meta(shape[0]) or not all(isinstance(s, int) for s in shape[1:]):
                self.bad.append(f"{name} with a shape not of the form (batch, ...)")
                return
            p = {"shape": list(shape[1:])}
        elif kind == "Permute":
            p = {"dims": list(rest[0]) if len(rest) == 1 and isinstance(rest[0], (tuple, list)) else list(rest)}
        elif kind == "Mean":
            return self.mean(n, x, n.kwargs.get("dim", rest[0] if rest else None),
                             n.kwargs.get("keepdim", rest[1] if len(rest) > 1 else False))
        elif kind in ("Softmax", "LogSoftmax"):
            p = {"dim": n.kwargs.get("dim", rest[0] if rest else -1)}
        self.op(n, kind, p, [x])

    def mean(self, n, x, dim, keepdim) -> None:
        """``x.mean(dim)``: a Mean over one dim, or GlobalAvgPool over all after
        the channels (what generated code writes for it: ``x.mean(dim=(2, 3))``)."""
        t = self.tensor(x)
        rank = self.rank(t) if t is not None else None
        if isinstance(dim, (tuple, list)) and len(dim) == 1:
            dim = dim[0]
        if isinstance(dim, int) and not isinstance(dim, bool):
            return self.op(n, "Mean", {"dim": dim, "keepdim": bool(keepdim)}, [x])
        if (isinstance(dim, (tuple, list)) and rank is not None
                and all(isinstance(d, int) for d in dim)
                and sorted(d % rank for d in dim) == list(range(2, rank))):
            if not keepdim:
                return self.op(n, "GlobalAvgPool", {}, [x])
            # x.mean((2, 3), keepdim=True) (squeeze-and-excitation): the same
            # average, the sizes kept as 1
            pool = f"AdaptiveAvgPool{rank - 2}d"
            if blocks.get(pool) is not None:
                return self.op(n, pool, {"output_size": 1}, [x])
        what = "all dimensions (the batch too)" if dim is None else f"dims {tuple(dim)}"
        self.bad.append(f"function mean over {what}" + (" with keepdim=True" if keepdim else ""))

    def rank(self, nid: str) -> int | None:
        """The rank of a block's output in the graph built so far."""
        if self.an is None:
            self.an = Analyzer(self.g)
        tt = self.an.output_type(nid, import_states.port_of(nid) or "out")
        return tt.rank if tt is not None else None

    def op(self, n, kind, params, inputs, variadic=None) -> None:
        spec = blocks.get(kind)
        edges = []
        for a in inputs:
            t = self.tensor(a)
            if t is None:
                self.bad.append(f"{kind} of {_operand(a)} has no block")
                return
            edges.append((t, variadic or spec.inputs[0].name))
        self.val[n] = ("T", self.add(kind, _prune(spec, params), edges))

    def getitem(self, n, args) -> None:
        src, idx = args
        tag, nid = self.val.get(src, ("?", None))
        if tag == "T" and isinstance(idx, tuple) and len(idx) == 2 and idx[0] == slice(None) \
                and isinstance(idx[1], int):
            params = _prune(blocks.get("SelectTimestep"), {"index": idx[1]})
            self.val[n] = ("T", self.add("SelectTimestep", params, [(nid, "in")]))
        elif tag == "M":
            self.val[n] = ("M", None)
        else:
            self.bad.append(f"indexing [{_index_text(idx)}] has no block")


def _index_text(idx) -> str:
    """An index as written in Python: ``-1``, ``:, -1, :6``, ``..., 0``."""
    def one(i):
        if isinstance(i, slice):
            parts = ["" if v is None else str(v) for v in (i.start, i.stop, i.step)]
            return ":".join(parts[:2]) + (f":{parts[2]}" if parts[2] else "")
        return "..." if i is Ellipsis else str(i)

    return ", ".join(one(i) for i in idx) if isinstance(idx, tuple) else one(idx)


def _operand(a) -> str:
    """What an operand that is no block's tensor is, for a message."""
    if getattr(a, "op", None) == "get_attr":
        return (f"the model's own tensor self.{a.target} (an nn.Parameter or buffer, "
                "not a layer)")
    if hasattr(a, "op"):
        return str(a)
    return f"a constant ({a!r})"


def _prune(spec, params: dict) -> dict:
    """Keep valid values that differ from the defaults."""
    out = {}
    for k, v in params.items():
        p = spec.param_index.get(k)
        if p is None or k in spec.inferred:
            continue
        try:
            v = p.check(v)
        except ParamError:
            continue
        if k == "stride" and p.default is None and v == params.get("kernel_size"):
            continue  # PyTorch stores the default stride as the kernel size
        if v != p.default and not (isinstance(v, tuple) and list(v) == p.default):
            out[k] = list(v) if isinstance(v, tuple) else v
    return out


def _parametrization(spec, mod) -> dict:
    """``weight_norm=True`` for a weight-normalised layer; any other
    parametrization has no block parameter and is refused."""
    import torch

    if not torch.nn.utils.parametrize.is_parametrized(mod):
        return {}
    found = {name: [type(p).__name__ for p in plist]
             for name, plist in mod.parametrizations.items()}
    plain_weight_norm = (found == {"weight": ["_WeightNorm"]}
                         and mod.parametrizations.weight[0].dim == 0)
    if not plain_weight_norm or "weight_norm" not in spec.param_index:
        what = ", ".join(f"{k}={'+'.join(v)}" for k, v in found.items())
        raise ImportRefused("parametrizations", what, "is not supported (only weight_norm "
                            "of the weight over dim 0 is)")
    return {"weight_norm": True}
