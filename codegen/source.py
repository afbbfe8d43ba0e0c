"""Graph → readable PyTorch source.

The generated file defines one ``nn.Module`` subclass named after the project.
``__init__`` creates one attribute per layer whose name is exactly the node's
name (the editor accepts only names that work there; a file written by hand
with an unusable one gets a derived identifier, and validation warns:
:func:`graph.names.code_names`).  ``forward`` takes one argument per
``Input`` node, in node order, is a chain of assignments in topological
order, and returns the ``Output`` nodes' tensors in node order.

Variable naming, so that ``forward`` reads like hand-written code: a value used
by exactly one later layer flows on in ``x`` (``x = self.conv1(x)``); a value
used several times (a residual branch point) gets the layer's own name and
lives until its last use.  Blocks PyTorch lacks come as small helper classes,
only those the graph uses.  User text reaches the source only as sanitised
identifiers or ``repr`` literals (never in comments or docstrings): nothing
from a project is evaluated.

Each unit the project uses is one more ``nn.Module`` subclass, defined before
its first use, built by the same :func:`module_parts` from the unit's inner
graph (:mod:`codegen.units_code`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from graph import Graph, analyze, blocks
from graph.blocks.base import Ctx, lit
from graph.blocks.registry import HELPERS
from graph.names import Namespace, class_name, code_names, derived_identifier

from .errors import CodegenError
from .inits import DELTA_ORTHOGONAL_HELPER, INIT_HELPER, init_call
from .layout import wrap


@dataclass
class GeneratedCode:
    """Source of a model plus how it maps back to the graph.

    Attributes:
        source: the whole Python file.
        class_name: the ``nn.Module`` subclass it defines.
        attrs: node id → layer attribute name (``self.<attr>``), for nodes
            that have one.
        inputs: node ids of the Input nodes, in argument order.
        outputs: node ids of the Output nodes, in return order.
        arg_names: forward's argument names, in order.
        params: the model's parameter count (what building it will allocate).
    """

    source: str
    class_name: str
    attrs: dict[str, str] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    arg_names: list[str] = field(default_factory=list)
    params: int = 0


def generate(graph: Graph, project_name: str = "Network", training: dict | None = None) -> GeneratedCode:
    """Source code for a valid graph.

    Raises:
        CodegenError: the graph has errors (the message lists the first ones).
    """
    an = analyze(graph, training)
    try:
        errors = an.model_errors()  # a mistake in the training settings is not the model's
        if errors:
            lines = "\n".join(f"- {p.message}" for p in errors[:5])
            raise CodegenError(f"the network has {len(errors)} error(s); fix them first:\n{lines}")
        code = _Writer(graph, an, project_name).write()
        code.params = an.totals()["params"]
        return code
    finally:
        an.close()


@dataclass
class ModuleParts:
    """The pieces of one ``nn.Module`` class: the project's model or a unit's.

    Attributes:
        attrs: node id → layer attribute.
        ctxs: node id → the :class:`Ctx` its code was made from.
        init_lines: ``self.<attr> = ...`` statements of ``__init__``.
        init_calls: weight-initialisation statements (``_init_weights``).
        body: ``forward``'s lines, the ``return`` last.
        inputs, outputs: the Input and Output node ids, in node order.
        arg_names: ``forward``'s arguments (without ``self``).
    """

    attrs: dict = field(default_factory=dict)
    ctxs: dict = field(default_factory=dict)
    init_lines: list = field(default_factory=list)
    init_calls: list = field(default_factory=list)
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
            if parts.ctxs[nid].spec.weights and p.get("init", "default") != "default":
                parts.init_calls.append(init_call(f"self.{parts.attrs[nid]}", p["init"],
                                                  p.get("init_scale")))
    if parts.init_calls:
        _add_helper_source("init_weights_", INIT_HELPER, helpers)
        if any("delta_orthogonal_" in c for c in parts.init_calls):
            _add_helper_source("delta_orthogonal_", DELTA_ORTHOGONAL_HELPER, helpers)

    # forward
    taken = {"self", "x"} | set(helpers) | {"init_weights_", "delta_orthogonal_"} | set(taken)
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
        outs = []
        for port in spec.outputs:
            n_uses = uses.get((nid, port.name), 0)
            if n_uses <= 1 and "x" not in live and len(spec.outputs) == 1:
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
            outs.append(out)
        body.extend(_forward_lines(emits[nid], parts.attrs.get(nid), in_vars, ", ".join(outs)))
    rets = [var_of[(g.in_edges(o)[0].source, g.in_edges(o)[0].source_port)]
            for o in parts.outputs]
    body.append("return " + (", ".join(rets) if rets else "None"))
    return parts


def _forward_lines(em: blocks.Emit, attr: str | None, in_vars: dict, out: str) -> list[str]:
    if em.forward is None:
        args = []
        for v in in_vars.values():
            args.extend(v if isinstance(v, list) else [v])
        return [f"{out} = self.{attr}({', '.join(args)})"]
    mapping = {"out": out, "self": f"self.{attr}" if attr else ""}
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
        out.append("        self._init_weights()")
        out.append("")
        out.append("    def _init_weights(self):")
        for line in parts.init_calls:
            out.extend(wrap(line, 8))
    out.append("")
    args = ", ".join(["self"] + parts.arg_names)
    out.extend(wrap(f"def forward({args}):", 4))
    for line in parts.body:
        out.extend(wrap(line, 8))
    return out


class _Writer:
    def __init__(self, graph: Graph, an, project_name: str):
        self.g = graph
        self.an = an
        self.project_name = project_name
        self.cls = class_name(project_name)

    def write(self) -> GeneratedCode:
        g, an = self.g, self.an
        from .units_code import UnitClasses  # it builds on module_parts below

        helpers: list[str] = []
        units = UnitClasses(g, an, helpers) if g.units else None
        taken: set[str] = set()
        if units is not None:
            taken = set(units.class_names.values())
            if self.cls in taken:
                self.cls = Namespace(taken).add(self.cls)
        parts = module_parts(g, an.order(), an.results, helpers,
                             units.emit if units is not None else None, taken=taken)
        code = GeneratedCode(source="", class_name=self.cls, attrs=parts.attrs,
                             inputs=parts.inputs, outputs=parts.outputs,
                             arg_names=parts.arg_names)
        code.source = self._file(parts, helpers, units)
        ast.parse(code.source)  # a generator bug must never produce a broken file
        return code

    def _file(self, parts: ModuleParts, helpers, units) -> str:
        out: list[str] = []
        # Docstrings hold no project text (quality.md R6: user text reaches code
        # only through repr): the class name is a sanitised identifier.
        out.append(f'"""{self.cls}: a PyTorch model generated by NetCanvas."""')
        out.append("")
        unit_lines = units.source_lines() if units is not None else []
        lines = parts.init_lines + parts.init_calls + parts.body
        needs_math = any("math." in HELPERS.get(h, ("",))[0] for h in helpers) or \
            any("math." in line for line in lines + unit_lines)
        if needs_math:
            out.append("import math")
            out.append("")
        out.append("import torch")
        out.append("from torch import nn")
        out.append("")
        out.append(f"__all__ = [{lit(self.cls)}]")
        for h in helpers:
            src = HELPERS[h][0] if h in HELPERS else _EXTRA[h]
            out.append("")
            out.append("")
            out.extend(src.rstrip("\n").split("\n"))
        if unit_lines:
            out.append("")
            out.append("")
            out.extend(unit_lines)
        out.append("")
        out.append("")
        doc = ['    """The network designed in NetCanvas, as a PyTorch module.', ""]
        for nid, arg in zip(parts.inputs, parts.arg_names):
            tt = parts.ctxs[nid].out
            doc.append(f"    Input {arg}: {tt} ({tt.dtype})")
        for k, nid in enumerate(parts.outputs):
            tt = parts.ctxs[nid].out
            doc.append(f"    Output{'' if len(parts.outputs) == 1 else ' ' + str(k + 1)}: {tt}")
        doc.append('    """')
        out.extend(class_lines(self.cls, doc, "", parts))
        return "\n".join(out) + "\n"


_EXTRA: dict[str, str] = {}


def _add_helper(name: str, acc: list[str]) -> None:
    if name in acc:
        return
    if name not in HELPERS:
        raise CodegenError(f"internal error: unknown helper {name!r}")
    for dep in HELPERS[name][1]:
        _add_helper(dep, acc)
    acc.append(name)


def _add_helper_source(name: str, source: str, acc: list[str]) -> None:
    _EXTRA[name] = source
    if name not in acc:
        acc.append(name)
