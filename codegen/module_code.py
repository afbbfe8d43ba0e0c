"""The pieces of one generated ``nn.Module`` class: the project's model or a unit's.

:func:`module_parts` walks a graph in analysis order and collects each
layer's attribute and constructor call, the ``forward`` body (one assignment
per block, values named as :mod:`codegen.source` describes) and the helper
classes used; :func:`class_lines` writes the class from them.  Both the
project's class (:mod:`codegen.source`) and each unit's class
(:mod:`codegen.units_code`) are built here, so the two read the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graph import Graph, blocks
from graph.blocks.base import Ctx
from graph.blocks.registry import HELPERS
from graph.names import Namespace, code_names, derived_identifier

from .errors import CodegenError
from .inits import HELPER_NAMES as INIT_HELPER_NAMES
from .inits import init_helpers, init_statement
from .layout import wrap


@dataclass
class ModuleParts:
    """The pieces of one ``nn.Module`` class: the project's model or a unit's.

    Attributes:
        attrs: node id → layer attribute.
        ctxs: node id → the :class:`Ctx` its code was made from.
        init_lines: ``self.<attr> = ...`` statements of ``__init__``.
        init_calls: weight-initialisation statements (``_init_weights``).
        init_args: constructor arguments the init statements use (a unit's
            ``init`` parameter), passed on to ``_init_weights``.
        frozen: attributes of the layers marked frozen that have parameters.
        still: ``(attribute, inside)`` of the frozen layers with running
            statistics (BatchNorm's mean and variance), kept in evaluation mode
            while training; ``inside``: they are blocks inside a unit instance.
        body: ``forward``'s lines, the ``return`` last.
        inputs, outputs: the Input and Output node ids, in node order.
        arg_names: ``forward``'s arguments (without ``self``).
    """

    attrs: dict = field(default_factory=dict)
    ctxs: dict = field(default_factory=dict)
    init_lines: list = field(default_factory=list)
    init_calls: list = field(default_factory=list)
    init_args: list = field(default_factory=list)
    frozen: list = field(default_factory=list)
    still: list = field(default_factory=list)
    body: list = field(default_factory=list)
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    arg_names: list = field(default_factory=list)


def module_parts(g: Graph, order: list[str], results, helpers: list[str],
                 emit_of=None, arg_names=None, taken=()) -> ModuleParts:
    """``__init__`` and ``forward`` of the module of a graph (see the module
    docstring for how variables are named).

    Args:
        g: the graph (the project's, or a unit's inner graph).
        order: its node ids in topological order.
        results: node id → analysis result (valid).
        helpers: helper names used so far; the ones this module needs are added.
        emit_of: ``(node, ctx, result) -> Emit`` for each layer (default: its
            spec's ``emit``; a unit instance's comes from :mod:`codegen.units_code`).
        arg_names: ``Input node -> wanted argument name`` (default: its code name).
        taken: names the module's variables must not use (helper classes, units).
    """
    names = code_names(g.nodes.values())
    parts = ModuleParts()
    parts.inputs = [n.id for n in g.ends("input")]
    parts.outputs = [n.id for n in g.ends("output")]
    emits: dict[str, blocks.Emit] = {}
    for nid in order:
        node = g.nodes[nid]
        spec = node.spec
        r = results[nid]
        ctx = Ctx(spec, r.params, r.ins, node.label())
        ctx.inferred = dict(r.inferred)
        ctx.outs = dict(r.outs)
        parts.ctxs[nid] = ctx
        if spec.role == "layer":
            em = emit_of(node, ctx, r) if emit_of is not None else spec.emit(ctx)
            emits[nid] = em
            for h in em.helpers:
                _add_helper(h, helpers)
            if em.init is not None:
                parts.attrs[nid] = names[nid]

    # __init__
    for nid in order:
        if nid in parts.attrs:
            parts.init_lines.append(f"self.{parts.attrs[nid]} = {emits[nid].init}")
            p = parts.ctxs[nid].p
            # Only blocks with weights have the init choice (PReLU's "init" is a slope).
            line = init_statement(f"self.{parts.attrs[nid]}", p) \
                if parts.ctxs[nid].spec.weights else None
            if line is not None:
                parts.init_calls.append(line)
            if g.nodes[nid].frozen:
                if results[nid].n_params:
                    parts.frozen.append(parts.attrs[nid])
                where = _running_statistics(results[nid])
                if where is not None:
                    parts.still.append((parts.attrs[nid], where == "inside"))
    for name, source in init_helpers(parts.init_calls):
        _add_helper_source(name, source, helpers)

    # forward
    taken = {"self", "x"} | set(helpers) | set(INIT_HELPER_NAMES) | set(taken)
    arg_ns = Namespace(taken - {"x"})
    var_of: dict[tuple[str, str], str] = {}
    for nid in parts.inputs:
        wanted = arg_names(g.nodes[nid]) if arg_names else names[nid]
        name = arg_ns.add(derived_identifier(wanted, "x"))
        parts.arg_names.append(name)
        var_of[(nid, "out")] = name
    uses: dict[tuple[str, str], int] = {}
    for e in g.edges:
        key = (e.source, e.source_port)
        uses[key] = uses.get(key, 0) + 1
    live: dict[str, int] = {v: uses.get(key, 0) for key, v in var_of.items()}
    body = parts.body
    for nid in order:
        node = g.nodes[nid]
        spec = node.spec
        if spec.role != "layer":
            continue
        in_vars: dict[str, object] = {}
        for port in spec.inputs:
            vs = [var_of[(e.source, e.source_port)] for e in g.in_edges(nid, port.name)]
            in_vars[port.name] = vs if port.variadic else (vs[0] if vs else "None")
        for e in g.in_edges(nid):
            v = var_of[(e.source, e.source_port)]
            live[v] -= 1
            if live[v] <= 0:
                del live[v]
        outs: dict[str, str | None] = {}
        for k_port, port in enumerate(spec.outputs):
            n_uses = uses.get((nid, port.name), 0)
            if n_uses == 0 and len(spec.outputs) > 1:
                outs[port.name] = None  # an output of several that nothing reads: "_"
                continue
            if n_uses <= 1 and "x" not in live and k_port == 0:  # the main path
                out = "x"
            else:
                base = derived_identifier(names[nid], spec.name_prefix)
                if len(spec.outputs) > 1:
                    base = derived_identifier(f"{base}_{port.name}", spec.name_prefix)
                out, k = base, 2
                while out in live or out in taken:
                    out, k = f"{base}_{k}", k + 1
            live[out] = n_uses
            var_of[(nid, port.name)] = out
            outs[port.name] = out
        body.extend(_forward_lines(emits[nid], parts.attrs.get(nid), in_vars, outs))
    rets = [var_of[(g.in_edges(o)[0].source, g.in_edges(o)[0].source_port)]
            for o in parts.outputs]
    body.append("return " + (", ".join(rets) if rets else "None"))
    return parts


def _forward_lines(em: blocks.Emit, attr: str | None, in_vars: dict,
                   outs: dict[str, str | None]) -> list[str]:
    """The lines of one block in ``forward``.

    Args:
        outs: output port → its variable, None for an output of several
            that nothing reads; a template sees them all as ``out``
            (``a, _``) and, for a block with several outputs, each as
            ``out:<port>``.
    """
    out = ", ".join(v or "_" for v in outs.values())
    if em.forward is None:
        args = []
        for v in in_vars.values():
            args.extend(v if isinstance(v, list) else [v])
        return [f"{out} = self.{attr}({', '.join(args)})"]
    mapping = {"out": out, "self": f"self.{attr}" if attr else ""}
    if len(outs) > 1:
        mapping.update({f"out:{port}": v for port, v in outs.items()})
    if callable(em.forward):
        mapping.update(in_vars)
        text = em.forward(mapping)
    else:
        mapping.update({k: ", ".join(v) if isinstance(v, list) else v for k, v in in_vars.items()})
        text = em.forward.format(**mapping)
    return text.split("\n")


def class_lines(name: str, doc: list[str], init_args: str, parts: ModuleParts) -> list[str]:
    """The source lines of one ``nn.Module`` subclass."""
    out = [f"class {name}(nn.Module):"]
    out.extend(doc)
    out.append("")
    out.extend(wrap(f"def __init__(self{init_args}):", 4))
    out.append("        super().__init__()")
    for line in parts.init_lines:
        out.extend(wrap(line, 8))
    if parts.init_calls:
        out.append(f"        self._init_weights({', '.join(parts.init_args)})")
    if parts.frozen:
        out.append("        # Frozen in NetCanvas (fine-tuning): these layers are not trained;")
        out.append("        # build the optimizer from the parameters with requires_grad only.")
        for attr in parts.frozen:
            out.append(f"        self.{attr}.requires_grad_(False)")
    if parts.init_calls:
        out.append("")
        out.append(f"    def _init_weights({', '.join(['self'] + parts.init_args)}):")
        for line in parts.init_calls:
            out.extend(wrap(line, 8))
    if parts.still:
        out.extend(_train_lines(parts.still))
    out.append("")
    args = ", ".join(["self"] + parts.arg_names)
    out.extend(wrap(f"def forward({args}):", 4))
    for line in parts.body:
        out.extend(wrap(line, 8))
    return out


def _running_statistics(res) -> str | None:
    """Where a layer keeps running statistics: ``"self"`` (a BatchNorm with
    ``track_running_stats``), ``"inside"`` (blocks of a unit instance, any
    depth), or None."""
    if res.inner:
        return "inside" if any(_tracks(r) for r in res.inner.values()) else None
    return "self" if _tracks(res) else None


def _tracks(res) -> bool:
    return bool((res.params or {}).get("track_running_stats"))


def _train_lines(still: list) -> list[str]:
    """A ``train`` override that leaves the frozen layers' statistics alone."""
    out = ["", "    def train(self, mode=True):",
           "        # Frozen in NetCanvas: a frozen normalisation layer keeps its running",
           "        # statistics too (it normalises as in evaluation, as Keras does for",
           "        # BatchNorm with trainable=False), or training would change it.",
           "        super().train(mode)"]
    for attr, inside in still:
        if inside:
            out += [f"        for m in self.{attr}.modules():",
                    '            if getattr(m, "track_running_stats", False):',
                    "                m.eval()"]
        else:
            out.append(f"        self.{attr}.eval()")
    out.append("        return self")
    return out


#: Helper sources added by name (not block helpers of the registry): the weight
#: initialisation helpers; read when the file is written.
EXTRA_SOURCES: dict[str, str] = {}


def _add_helper(name: str, acc: list[str]) -> None:
    if name in acc:
        return
    if name not in HELPERS:
        raise CodegenError(f"internal error: unknown helper {name!r}")
    for dep in HELPERS[name][1]:
        _add_helper(dep, acc)
    acc.append(name)


def _add_helper_source(name: str, source: str, acc: list[str]) -> None:
    EXTRA_SOURCES[name] = source
    if name not in acc:
        acc.append(name)
