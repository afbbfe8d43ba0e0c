"""The import's guarantees: identity, where each refusal comes from, exactness.

Three things live here, used by :mod:`codegen.fx_import`:

- :func:`module_spec` says which block a module is, by its class's identity
  (never its name).

- :class:`Problems` collects why a model cannot be imported, one entry per
  distinct cause, each tied to the line of the user's source that made it
  (fx records a stack trace on every traced node), and writes the message
  with the first cause first: ``model.py:42  x = F.gelu(x, approximate="tanh")
  — approximate='tanh' not supported``.
- :func:`verify` checks the finished graph against the original: the graph's
  code is compiled, the original's weights are loaded into it layer by layer,
  both run in eval mode on one seeded random input of the given shapes, and
  any output that differs beyond :data:`RTOL` (relative) refuses the import.
  The user never gets a model that silently computes something else.
"""

from __future__ import annotations

import linecache
import re
from pathlib import Path

from graph import blocks
from graph.blocks.module_import import MARKER

from .errors import CodegenError

#: The largest relative difference of an output that still counts as equal.
RTOL = 1e-5

def module_spec(mod):
    """The block spec of a module, matched by identity, or None.

    A module is a block when its class *is* the torch class of a catalogue
    block (``torch.nn.Conv2d``; a weight-normalised one is fx's
    ``ParametrizedConv2d`` subclass of it), or when its class itself carries
    the marker of NetCanvas's generated helper classes.  A user's class that
    merely shares a block's name is not a block.
    """
    import torch

    cls = type(mod)
    if torch.nn.utils.parametrize.is_parametrized(mod):
        cls = cls.__bases__[0]  # fx's Parametrized<Class> wraps the original class
    marker = cls.__dict__.get(MARKER)
    if isinstance(marker, str):
        spec = blocks.get(marker)
    else:
        spec = blocks.get(cls.__name__)
        if spec is not None and getattr(torch.nn, cls.__name__, None) is not cls:
            spec = None
    return spec if spec is not None and spec.role == "layer" else None


class ModelImportError(CodegenError, ImportError):
    """The model cannot be brought onto the canvas exactly; the message says why."""


_FRAME = re.compile(r'File "([^"]+)", line (\d+), in ')


def source_line(node) -> str:
    """``model.py:42  x = F.gelu(x)`` for an fx node, or "" when it has no trace.

    The innermost frame outside torch itself is the user's line (fx's own
    frames come after it in the recorded trace).
    """
    import torch

    trace = getattr(node, "stack_trace", None) or ""
    # torch's frames and the importer's own (its tracer's hooks) are no user's line
    ours = (str(Path(torch.__file__).parent), str(Path(__file__).parent))
    frames = [(f, int(n)) for f, n in _FRAME.findall(trace) if not f.startswith(ours)]
    if not frames:
        return ""
    file, line = frames[-1]
    code = linecache.getline(file, line).strip()
    where = f"{Path(file).name}:{line}"
    return f"{where}  {code}" if code else where


def return_line(module) -> str:
    """``model.py:42  return out, h`` for the last ``return`` of a module's
    ``forward``, or "" when its source cannot be read.

    fx records no stack trace for the output node (the tracer makes it after
    ``forward`` has returned), so a refusal of a returned value names the
    return statement itself.
    """
    import ast
    import inspect
    import textwrap

    forward = getattr(type(module), "forward", None)
    try:
        file = inspect.getsourcefile(forward)
        lines, start = inspect.getsourcelines(forward)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        return ""
    func = tree.body[0] if tree.body else None
    found = [n for n in ast.walk(func) if isinstance(n, ast.Return)] if func else []
    # a return inside a nested function is that function's, not forward's
    nested = {id(r) for f in ast.walk(func) if f is not func and isinstance(
        f, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) for r in ast.walk(f)} \
        if func else set()
    found = [r for r in found if id(r) not in nested]
    if not file or not found:
        return ""
    line = start + max(r.lineno for r in found) - 1
    code = linecache.getline(file, line).strip()
    where = f"{Path(file).name}:{line}"
    return f"{where}  {code}" if code else where


#: What fx's refusals of Python control flow on a traced value mean, said plainly.
_TRACE_HINTS = {
    "Proxy object cannot be iterated": "a loop over a tensor or its size (x.size()[1:]) "
    "cannot be traced; write the sizes as numbers, or use torch.flatten(x, 1)",
    "symbolically traced variables cannot be used as inputs to control flow":
        "an if or while on a tensor's value (or on its size) cannot be traced: the "
        "network must be the same for every input",
}


def trace_failure(exc: BaseException) -> str:
    """Why tracing failed: the user's line that made it, and the cause in one line.

    Args:
        exc: what the tracer (or the user's forward while traced) raised.

    Returns:
        ``model.py:42  for s in size:  — a loop over a tensor ...``, or the
        exception's first sentence when no frame of the user's code is in it.
    """
    import traceback

    import torch

    ours = (str(Path(torch.__file__).parent), str(Path(__file__).parent))
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(ours)]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    cause = next((hint for key, hint in _TRACE_HINTS.items() if text.startswith(key)), None)
    if cause is None:
        cause = f"{type(exc).__name__}: {text.split('. ')[0]}" if text else type(exc).__name__
    if not frames:
        return cause
    last = frames[-1]
    code = (last.line or linecache.getline(last.filename, last.lineno)).strip()
    return f"{Path(last.filename).name}:{last.lineno}  {code}  — {cause}"


class Problems(list):
    """The reasons an import fails, in the order met (the first cause first).

    Code that maps one fx node calls ``append(reason)``; the builder sets
    :attr:`node` to the node being mapped, so each reason is kept with that
    node's source line.  The same reason at the same line is kept once.
    """

    def __init__(self):
        super().__init__()
        self.node = None
        self.lines: list[str] = []

    def append(self, reason: str, where: str | None = None) -> None:
        """Add a reason, kept with ``where`` (a source line), or else with the
        source line of :attr:`node`."""
        if where is None:
            where = source_line(self.node) if self.node is not None else ""
        line = f"{where}  — {reason}" if where else reason
        if line not in self.lines:
            self.lines.append(line)
        super().append(reason)

    def message(self, class_name: str) -> str:
        count = len(self.lines)
        head = (f"{class_name} cannot be imported exactly ({count} unsupported "
                f"operation{'s' if count != 1 else ''}, the first cause first):")
        return head + "".join(f"\n  {line}" for line in self.lines)


def _flat(value) -> list:
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in _flat(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _flat(v)]
    return [value]


def _inputs(graph, code, batch: int = 2) -> tuple:
    """One seeded random tensor per Input node (token ids below every vocabulary)."""
    import torch

    from graph import analyze, dims

    vocab = min((n.params.get("num_embeddings", 100) for n in graph.nodes.values()
                 if n.type == "Embedding"), default=2)
    an = analyze(graph)
    try:
        out = []
        for nid in code.inputs:
            tt = an.output_type(nid)
            shape = [batch] + [dims.nominal(d) for d in tt.shape[1:]]
            out.append(torch.randint(0, vocab, shape) if tt.dtype == "int64"
                       else torch.randn(shape))
        return tuple(out)
    finally:
        an.close()


def verify(original, graph, origin: dict[str, str], states=None) -> None:
    """Refuse the import unless the graph computes what ``original`` computes.

    Args:
        original: the user's ``nn.Module``.
        graph: the imported graph.
        origin: node id → the dotted path of the original submodule whose
            weights (state dict) the node's layer takes.
        states: a :class:`codegen.import_states.States`: the forward arguments
            and returned values that the original has in PyTorch's recurrent
            state layout (batch in dim 1), which the graph has batch first.

    Raises:
        ModelImportError: the graph is not valid, the weights do not fit, the
            original fails on the input, or an output differs (with how much).
    """
    import torch

    from .compile import instantiate
    from .import_units import matching_state
    from .source import generate

    name = type(original).__name__
    try:
        code = generate(graph, name)
        model = instantiate(code)
    except CodegenError as exc:
        raise ModelImportError(f"{name}: the imported network is not valid: {exc}") from None
    for nid, path in origin.items():
        attr = code.attrs.get(nid)
        if attr is None:
            continue  # a block written as a line of forward (Flatten): no weights
        try:
            layer = getattr(model, attr)
            layer.load_state_dict(matching_state(layer, original.get_submodule(path)))
        except (AttributeError, KeyError, RuntimeError, TypeError) as exc:
            # a size the graph inferred from the input differs from the layer's own
            hint = ("; is the input shape the one the model was built for?"
                    if "size mismatch" in str(exc) else "")
            raise ModelImportError(f"{name}: the weights of {path} do not fit its block "
                                   f"{graph.nodes[nid].type}: {exc}{hint}") from None
    modes = [(m, m.training) for m in original.modules()]  # may differ per layer
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            args = _inputs(graph, code)
        original.eval(), model.eval()
        with torch.no_grad():
            try:
                # copies: an in-place layer (ReLU(inplace=True)) overwrites its input
                want = _flat(original(*_layouts(args, states.args if states else ())))
            except Exception as exc:  # the user's forward may raise anything
                shapes = ", ".join("×".join(map(str, a.shape)) for a in args)
                raise ModelImportError(f"{name} fails on a random input of the given shape "
                                       f"({shapes}): {type(exc).__name__}: {exc}") from None
            try:
                got = _flat(model(*(a.clone() for a in args)))
            except Exception as exc:  # noqa: BLE001  (a refusal, never a traceback)
                raise ModelImportError(f"{name}: the imported network fails where the "
                                       f"original runs: {type(exc).__name__}: {exc}; "
                                       "not imported") from None
    finally:
        for m, mode in modes:
            m.training = mode
    if states is not None:
        want = [w.transpose(0, 1) if i in states.outputs else w for i, w in enumerate(want)]
    _compare(name, want, got)


def _layouts(args, batch_second) -> list:
    """Copies of the inputs (an in-place layer, ReLU(inplace=True), overwrites
    its input), those the original takes batch second transposed."""
    return [a.transpose(0, 1).contiguous() if k in batch_second else a.clone()
            for k, a in enumerate(args)]


def _compare(name: str, want: list, got: list) -> None:
    import torch


    if len(want) != len(got):
        raise ModelImportError(f"{name} returns {len(want)} value(s) but the imported network "
                               f"{len(got)}; not imported")
    for i, (w, g) in enumerate(zip(want, got)):
        which = f"output {i + 1}" if len(want) > 1 else "the output"
        if not isinstance(w, torch.Tensor):
            raise ModelImportError(f"{name}: {which} is not a tensor ({type(w).__name__}); "
                                   "not imported")
        if tuple(w.shape) != tuple(g.shape):
            raise ModelImportError(
                f"{name}: {which} is {'×'.join(map(str, w.shape))} in the original but "
                f"{'×'.join(map(str, g.shape))} imported; not imported")
        if w.numel() == 0:
            continue
        w64, g64 = w.double(), g.double()
        diff = (w64 - g64).abs().max().item()
        scale = w64.abs().max().item()
        if diff != diff or diff > RTOL * max(scale, 1e-12):
            raise ModelImportError(
                f"{name}: the imported network computes something else: {which} differs "
                f"by {diff:.3g} (largest value {scale:.3g}, relative {diff / max(scale, 1e-12):.2g}"
                f" > {RTOL:g}) on the same weights and input; not imported")
