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
its first use, built by the same :func:`~codegen.module_code.module_parts`
from the unit's inner graph (:mod:`codegen.units_code`).  The pieces of one
class (attributes, ``forward`` body, helpers) are made in
:mod:`codegen.module_code`, which both this module and the units' use.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from graph import Graph, analyze
from graph.analysis import Analyzer
from graph.blocks.base import lit
from graph.blocks.registry import HELPERS
from graph.names import Namespace, class_name

from .errors import CodegenError
from .module_code import EXTRA_SOURCES, ModuleParts, class_lines, module_parts
from .units_code import UnitClasses


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


def generate(graph: Graph, project_name: str = "Network", training: dict | None = None,
             analyzer: Analyzer | None = None) -> GeneratedCode:
    """Source code for a valid graph.

    Args:
        analyzer: an up-to-date analysis of ``graph`` with ``training`` to use
            (the editor's document keeps one, refreshed incrementally); by
            default the graph is analysed here.

    Raises:
        CodegenError: the graph has errors (the message lists the first ones).
    """
    an = analyzer if analyzer is not None else analyze(graph, training)
    try:
        errors = an.model_errors()  # a mistake in the training settings is not the model's
        if errors:
            lines = "\n".join(f"- {p.message}" for p in errors[:5])
            raise CodegenError(f"the network has {len(errors)} error(s); fix them first:\n{lines}")
        code = _Writer(graph, an, project_name).write()
        code.params = an.totals()["params"]
        return code
    finally:
        if analyzer is None:
            an.close()


class _Writer:
    def __init__(self, graph: Graph, an, project_name: str):
        self.g = graph
        self.an = an
        self.project_name = project_name
        self.cls = class_name(project_name)

    def write(self) -> GeneratedCode:
        g, an = self.g, self.an
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
            src = HELPERS[h][0] if h in HELPERS else EXTRA_SOURCES[h]
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
