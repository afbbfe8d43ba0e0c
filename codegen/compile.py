"""Source → ``nn.Module``: the one path from a graph to a runnable model.

The in-app model is made by executing exactly the generated source in a fresh
namespace, so what is trained is what is exported.  The source comes from
:mod:`codegen.source`, where project text only ever appears as sanitised
identifiers or ``repr`` literals.
"""

from __future__ import annotations

import itertools
import linecache

from graph import Graph

from .errors import CodegenError
from .source import GeneratedCode, generate

_serial = itertools.count(1)


def module_class(code: GeneratedCode) -> type:
    """Execute generated source and return the model class it defines."""
    filename = f"<netcanvas:{code.class_name}:{next(_serial)}>"
    linecache.cache[filename] = (len(code.source), None, code.source.splitlines(True), filename)
    namespace: dict = {"__name__": "netcanvas_generated"}
    exec(compile(code.source, filename, "exec"), namespace)  # our own generated source
    cls = namespace.get(code.class_name)
    if cls is None:
        raise CodegenError(f"internal error: generated code does not define {code.class_name}")
    return cls


def build_model(graph: Graph, project_name: str = "Network", training: dict | None = None):
    """Generate, compile and instantiate the model of a graph.

    Returns:
        ``(module, code)``: the ``nn.Module`` instance and its :class:`GeneratedCode`.
    """
    code = generate(graph, project_name, training)
    return module_class(code)(), code
