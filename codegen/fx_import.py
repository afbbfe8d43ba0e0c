"""Import a PyTorch model onto the canvas: ``nn.Module`` → :class:`~graph.Graph`.

Algorithm: the model is traced with ``torch.fx`` (a tracer that keeps every
module of the block catalogue as one call, helper classes included); each fx
node is then mapped to a block.  Values are tagged while walking: a block's
tensor, a module's tuple result (``x, _ = self.lstm(x)``), an RNN's final
hidden state, or *meta* values (sizes, devices, masks: anything computed
without a tensor input), which are folded into the parameters of the block
that uses them.  Module parameters are read back from the instance
(``Conv2d.out_channels``, ``kernel_size``, ...).  Whatever has no block is
collected and reported, all at once, in a :class:`ModelImportError`.

Importing from a file executes that file: an explicit user action, never
done when a project is opened.
"""

from __future__ import annotations

import importlib.util
import inspect
import operator
import re
from pathlib import Path

from graph import Analyzer, Graph, blocks, dims
from graph.problems import ParamError

from .errors import CodegenError


class ModelImportError(CodegenError, ImportError):
    """The model cannot be brought onto the canvas; the message lists every reason."""


_DOC_INPUT = re.compile(r"^\s*Input (\w+): ([^(]+?) \((float32|int64)\)\s*$", re.M)
_MISSING = object()


def parse_shape(text: str) -> list:
    """``"1,8,8"`` or ``"1x8x8"`` (a name such as ``T`` for a variable size) → ``[1, 8, 8]``.

    Raises:
        ValueError: an empty entry, with an example of what is expected.
    """
    parts = [p.strip() for p in text.replace("×", ",").split(",")]
    if len(parts) == 1 and _NUMBERS_BY_X.match(parts[0]):  # "1x8x8": x only between numbers
        parts = [p.strip() for p in parts[0].split("x")]
    if not all(parts):
        raise ValueError(f"{text!r}: write sizes separated by commas, e.g. 1,8,8")
    bad = [p for p in parts if not p.isdigit() and not dims.is_valid_name(p)]
    if bad:
        raise ValueError(f"{text!r}: {bad[0]!r} is neither a size nor a name such as T; "
                         "write sizes separated by commas, e.g. 1,8,8 or T,16")
    return [int(p) if p.isdigit() else p for p in parts]


_NUMBERS_BY_X = re.compile(r"^\d+(\s*x\s*\d+)+$")


def load_module(path: str | Path, class_name: str | None = None):
    """Execute a Python file and instantiate its model class (no arguments)."""
    import torch

    path = Path(path)
    spec = importlib.util.spec_from_file_location(f"netcanvas_import_{abs(hash(path))}", path)
    if spec is None or spec.loader is None:
        raise ModelImportError(f"{path} is not a Python file")
    mod = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(mod)
    except Exception as exc:  # the user's code may raise anything
        raise ModelImportError(f"running {path.name} failed: {type(exc).__name__}: {exc}") from None
    classes = [v for k, v in vars(mod).items() if isinstance(v, type)
               and issubclass(v, torch.nn.Module) and v.__module__ == mod.__name__]
    if class_name is None:
        listed = [c for c in classes if c.__name__ in getattr(mod, "__all__", ())]
        pick = listed or classes
        if len(pick) != 1:
            names = ", ".join(c.__name__ for c in pick) or "none"
            raise ModelImportError(f"{path.name}: name the model class to import (found: {names})")
        cls = pick[0]
    else:
        cls = getattr(mod, class_name, None)
        if cls not in classes:
            raise ModelImportError(f"{path.name} defines no nn.Module class {class_name!r}")
    try:
        return cls()
    except Exception as exc:
        raise ModelImportError(f"{cls.__name__}() failed (it must be buildable without "
                               f"arguments): {type(exc).__name__}: {exc}") from None


def doc_inputs(cls) -> list[tuple[tuple, str]] | None:
    """Input shapes from a generated class docstring (``Input x: N×4 (float32)``)."""
    found = _DOC_INPUT.findall(cls.__doc__ or "")
    if not found:
        return None
    out = []
    for _, shape, dtype in found:
        parts = [p.strip() for p in shape.split("×")][1:]
        out.append((tuple(int(p) if p.isdigit() else p for p in parts), dtype))
    return out


def import_model(module_or_path, class_name: str | None = None, input_shapes=None,
                 input_dtypes=None) -> Graph:
    """Trace a model and return the equivalent graph.

    Args:
        module_or_path: an ``nn.Module`` or the path of a Python file defining one.
        class_name: which class of the file (default: the one in ``__all__``).
        input_shapes: sample shapes (without the batch), one per forward
            argument; read from the class docstring of generated code if omitted.
        input_dtypes: ``"float32"``/``"int64"`` per argument (default float32).

    Raises:
        ModelImportError: tracing failed, or modules/functions have no block
            (all of them named in the message).
    """
    import torch.fx

    module = module_or_path
    if not isinstance(module, torch.nn.Module):
        module = load_module(module_or_path, class_name)
    if input_shapes is None:
        got = doc_inputs(type(module))
        if got is None:
            raise ModelImportError("give input_shapes: one sample shape per forward() argument")
        input_shapes = [s for s, _ in got]
        input_dtypes = input_dtypes or [d for _, d in got]
    input_dtypes = list(input_dtypes or ["float32"] * len(input_shapes))
    try:
        # the traced graph with the module itself (a GraphModule would clash
        # with layers named like its own attributes, e.g. "code" or "graph")
        traced = _Tracer(_helper_functions(module)).trace(module)
    except Exception as exc:  # fx raises many types for untraceable code
        raise ModelImportError(f"cannot trace {type(module).__name__}: {type(exc).__name__}: "
                               f"{exc}") from None
    return _Builder(module, traced, list(input_shapes), input_dtypes).build()


def import_project(path: str | Path, class_name: str | None = None, input_shapes=None,
                   input_dtypes=None):
    """Import the model class of a Python file as a new project (File → Import).

    Args:
        path: the Python file; it is executed (an explicit user action).
        class_name: the class to import; may be left out when the file lists
            exactly one model class in ``__all__`` (as exported files do) or
            defines only one.
        input_shapes, input_dtypes: as for :func:`import_model` (not needed
            for generated code, whose docstring states them).

    Returns:
        A :class:`graph.project.Project` named after the class, with no
        training settings and no file path (it has not been saved yet).

    Raises:
        ModelImportError: the file cannot be run, the class is not found or
            not buildable, or modules/functions have no block (all named).
    """
    from graph.project import Project

    module = load_module(path, class_name)
    graph = import_model(module, input_shapes=input_shapes, input_dtypes=input_dtypes)
    return Project(name=type(module).__name__, graph=graph, training={}, extra={})


def _helper_functions(module) -> tuple:
    """Helper functions of generated code (``causal_mask``): kept as one call."""
    names = getattr(type(module).forward, "__globals__", {})
    return tuple(v for k, v in names.items() if k in blocks.HELPERS and inspect.isfunction(v))


class _Tracer:
    """fx tracer keeping catalogue modules (and helper classes) as leaves."""

    def __new__(cls, functions: tuple = ()):
        import torch.fx

        class Tracer(torch.fx.Tracer):
            def is_leaf_module(self, m, qualname):
                name = type(m).__name__
                if blocks.get(name) is not None or blocks.get(name.replace("Parametrized", "")):
                    return True
                return super().is_leaf_module(m, qualname)

        return Tracer(autowrap_functions=functions)


_FUNCS = {"add": "Add", "mul": "Multiply", "relu": "ReLU", "tanh": "Tanh",
          "sigmoid": "Sigmoid", "gelu": "GELU", "silu": "SiLU", "elu": "ELU",
          "softmax": "Softmax", "log_softmax": "LogSoftmax", "cat": "Concat",
          "flatten": "Flatten", "reshape": "Reshape", "view": "Reshape",
          "permute": "Permute", "mean": "Mean"}


class _Builder:
    def __init__(self, module, fx_graph, shapes, dtypes):
        self.root, self.fx_graph, self.shapes, self.dtypes = module, fx_graph, shapes, dtypes
        self.g = Graph()
        self.val: dict = {}
        self.bad: list[str] = []
        self.depth: dict[str, int] = {}
        self.an: Analyzer | None = None  # made on first use, follows the graph

    def add(self, type_name: str, params: dict, inputs: list[tuple[str, str]], name=None) -> str:
        if name is not None and self.g.name_problem(name) is not None:
            name = None  # taken, or unusable as an attribute: a derived one instead
        node = self.g.add_node(type_name, params, name=name)
        for src, port in inputs:
            self.g.connect(src, node.id, target_port=port)
        self.depth[node.id] = 1 + max((self.depth[s] for s, _ in inputs), default=-1)
        return node.id

    def tensor(self, a):
        v = self.val.get(a) if hasattr(a, "op") else None
        return v[1] if v and v[0] == "T" else None

    def is_meta(self, a) -> bool:
        if hasattr(a, "op"):
            return self.val.get(a, ("?",))[0] == "M"
        if isinstance(a, (list, tuple)):
            return all(self.is_meta(x) for x in a)
        if isinstance(a, dict):
            return all(self.is_meta(x) for x in a.values())
        return True

    def build(self) -> Graph:
        k = 0
        for n in self.fx_graph.nodes:
            if n.op == "placeholder":
                if k >= len(self.shapes):
                    raise ModelImportError(f"forward() has more arguments than input_shapes ({len(self.shapes)})")
                nid = self.add("Input", {"shape": list(self.shapes[k]), "dtype": self.dtypes[k]}, [],
                               name=n.name)
                self.val[n] = ("T", nid)
                k += 1
            elif n.op == "output":
                outs = n.args[0] if isinstance(n.args[0], (tuple, list)) else (n.args[0],)
                for o in outs:
                    t = self.tensor(o)
                    if t is None:
                        self.bad.append(f"output {o}")
                        continue
                    self.add("Output", {}, [(t, "in")])
            elif self.is_meta(list(n.args) + list(n.kwargs.values())) and n.op != "call_module":
                self.val[n] = ("M", None)
            elif n.op == "call_module":
                self.module(n)
            else:
                self.function(n)
        if self.an is not None:
            self.an.close()
        if self.bad:
            raise ModelImportError("no block for: " + ", ".join(dict.fromkeys(self.bad)))
        for nid, node in self.g.nodes.items():
            rows = [m for m in self.g.nodes if self.depth[m] == self.depth[nid]]
            self.g.move(nid, (220.0 * self.depth[nid], 120.0 * rows.index(nid)))
        return self.g

    # ----------------------------------------------------------------- modules
    def module(self, n) -> None:
        mod = self.root.get_submodule(n.target)
        tname = type(mod).__name__
        spec = blocks.get(tname) or blocks.get(tname.replace("Parametrized", ""))
        if spec is None or spec.role != "layer":
            self.bad.append(f"module {n.target} ({tname})")
            return
        params = _module_params(spec, mod)
        if tname.startswith("Parametrized"):
            params["weight_norm"] = True
        ins = [a for a in n.args if not self.is_meta(a)]
        ports = list(spec.inputs)
        if spec.type == "MultiheadAttention":
            params["causal"] = bool(n.kwargs.get("is_causal") or "attn_mask" in n.kwargs)
            ins = list(dict.fromkeys(ins)) if len(set(ins)) == 1 else ins
        if spec.type == "TransformerDecoderLayer":
            params["causal"] = "tgt_mask" in n.kwargs
        edges = []
        for port, a in zip(ports, ins):
            t = self.tensor(a)
            if t is None:
                self.bad.append(f"input {a} of {n.target}")
                return
            edges.append((t, port.name))
        nid = self.add(spec.type, _prune(spec, params), edges, name=n.target.replace(".", "_"))
        multi = spec.type in ("RNN", "LSTM", "GRU", "MultiheadAttention")
        self.val[n] = ("TUP", nid) if multi else ("T", nid)

    # --------------------------------------------------------------- functions
    def function(self, n) -> None:
        t = n.target
        name = t if isinstance(t, str) else getattr(t, "__name__", str(t))
        args = list(n.args)
        if t is operator.getitem:
            return self.getitem(n, args)
        if name == "getattr" and args[1] not in ("shape", "device", "dtype", "ndim"):
            self.bad.append(f"attribute .{args[1]}")
            return
        if name in ("getattr", "size", "dim"):
            self.val[n] = ("M", None)
            return
        kind = _FUNCS.get({"iadd": "add", "imul": "mul"}.get(name, name))
        if kind is None:
            self.bad.append(f"function {name}")
            return
        if kind == "Concat":
            items = args[0]
            if items and all(self.val.get(a, ("?",))[0] == "H" for a in items):
                return self.rnn_last(n, items)
            dim = n.kwargs.get("dim", args[1] if len(args) > 1 else 0)
            return self.op(n, kind, {"dim": dim}, list(items), variadic="in")
        x, rest = args[0], args[1:]
        p: dict = {}
        if kind in ("Add", "Multiply"):
            return self.op(n, kind, {}, args, variadic="in")
        if kind == "Flatten":
            p = {"start_dim": n.kwargs.get("start_dim", rest[0] if rest else 0),
                 "end_dim": n.kwargs.get("end_dim", rest[1] if len(rest) > 1 else -1)}
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
        if (isinstance(dim, (tuple, list)) and rank is not None and not keepdim
                and all(isinstance(d, int) for d in dim)
                and sorted(d % rank for d in dim) == list(range(2, rank))):
            return self.op(n, "GlobalAvgPool", {}, [x])
        what = "all dimensions (the batch too)" if dim is None else f"dims {tuple(dim)}"
        self.bad.append(f"function mean over {what}")

    def rank(self, nid: str) -> int | None:
        """The rank of a block's output in the graph built so far."""
        if self.an is None:
            self.an = Analyzer(self.g)
        tt = self.an.output_type(nid)
        return tt.rank if tt is not None else None

    def op(self, n, kind, params, inputs, variadic=None) -> None:
        spec = blocks.get(kind)
        edges = []
        for a in inputs:
            t = self.tensor(a)
            if t is None:
                self.bad.append(f"{kind} of {a}")
                return
            edges.append((t, variadic or spec.inputs[0].name))
        self.val[n] = ("T", self.add(kind, _prune(spec, params), edges))

    def getitem(self, n, args) -> None:
        src, idx = args
        tag, nid = self.val.get(src, ("?", None))
        g = self.g
        if tag == "TUP" and idx == 0:
            self.val[n] = ("T", nid)
        elif tag == "TUP" and idx == 1 and g.nodes[nid].type in ("RNN", "LSTM", "GRU"):
            self.val[n] = ("HC" if g.nodes[nid].type == "LSTM" else "HN", nid)
        elif tag == "HC" and idx == 0:
            self.val[n] = ("HN", nid)
        elif tag == "HN" and isinstance(idx, int):
            self.val[n] = ("H", nid)
            if idx == -1 and not g.nodes[nid].params.get("bidirectional"):
                g.set_param(nid, "return_sequences", False)
                self.val[n] = ("T", nid)
        elif tag == "T" and isinstance(idx, tuple) and len(idx) == 2 and idx[0] == slice(None) \
                and isinstance(idx[1], int):
            params = _prune(blocks.get("SelectTimestep"), {"index": idx[1]})
            self.val[n] = ("T", self.add("SelectTimestep", params, [(nid, "in")]))
        elif tag in ("M", "TUP", "HC"):
            self.val[n] = ("M", None) if tag == "M" else ("?", None)
        else:
            self.bad.append(f"indexing {src}[{idx!r}]")

    def rnn_last(self, n, items) -> None:
        nid = self.val[items[0]][1]
        self.g.set_param(nid, "return_sequences", False)
        self.val[n] = ("T", nid)


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


def _plain(v):
    import torch

    if isinstance(v, torch.nn.Dropout):
        return v.p
    if isinstance(v, (tuple, list)):
        v = [_plain(x) for x in v]
        return v[0] if v and all(x == v[0] for x in v) else v
    if isinstance(v, torch.Tensor) or v is None:
        return _MISSING
    if isinstance(v, torch.nn.Module):
        return _MISSING
    return v


def _module_params(spec, mod) -> dict:
    """Parameter values read back from a module instance."""
    out = {}
    layer = mod.layers[0] if spec.type == "TransformerEncoder" else mod
    if spec.type == "DepthwiseSeparableConv2d":
        layer = mod.depthwise  # holds the geometry; the pointwise half the out_channels
    for p in spec.params:
        if p.name in ("init", "init_scale", "weight_norm") or p.name in spec.inferred:
            continue
        v = getattr(layer, p.name, _MISSING)
        if p.name == "bias" and not isinstance(v, bool):
            v = any(k.endswith("bias") for k, _ in layer.named_parameters())
        elif p.name == "normalized_dims":
            v = len(getattr(mod, "normalized_shape", ()) or ()) or _MISSING
        else:
            v = _plain(v)
        if v is not _MISSING:
            out[p.name] = v
    if spec.type in ("TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder"):
        out.update(nhead=layer.self_attn.num_heads, dim_feedforward=layer.linear1.out_features,
                   dropout=layer.dropout.p, layer_norm_eps=layer.norm1.eps)
        act = getattr(layer.activation, "__name__", type(layer.activation).__name__).lower()
        out["activation"] = "gelu" if "gelu" in act else "relu"
        if spec.type == "TransformerEncoder":
            out["num_layers"] = len(mod.layers)
    if spec.type == "DepthwiseSeparableConv2d":
        out["out_channels"] = mod.pointwise.out_channels
    if spec.type == "PositionalEncoding":
        import torch

        out["kind"] = "learned" if isinstance(mod.pe, torch.nn.Parameter) else "sinusoidal"
        out["max_len"] = int(mod.pe.shape[1])
    return out

