"""Source → ``nn.Module``: the one path from a graph to a runnable model.

The in-app model is made by executing exactly the generated source in a fresh
namespace, so what is trained is what is exported.  The source comes from
:mod:`codegen.source`, where project text only ever appears as sanitised
identifiers or ``repr`` literals.

Building a model allocates its weights: :func:`instantiate` refuses, with
the size named, a model whose float32 weights alone exceed this machine's
memory, instead of letting the allocator die halfway through.
"""

from __future__ import annotations

import itertools
import linecache

from graph import Graph, humanize
from graph.checks import BYTES_PER_PARAM, machine_memory, weights_too_large

from .errors import CodegenError
from .source import GeneratedCode, generate

_serial = itertools.count(1)


class ModelTooLargeError(CodegenError):
    """The model's weights would not fit in this machine's memory."""


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


def check_size(code: GeneratedCode, memory: int | None = None) -> None:
    """Refuse to build a model whose weights alone exceed the machine's memory.

    Args:
        code: the generated code (its parameter count).
        memory: bytes available (default: :func:`graph.checks.machine_memory`).

    Raises:
        ModelTooLargeError: naming the parameter count and the bytes needed.
    """
    memory = machine_memory() if memory is None else memory
    if weights_too_large(code.params, memory):
        raise ModelTooLargeError(
            f"the model cannot be built here: its {humanize.count(code.params)} parameters "
            f"need {humanize.size(BYTES_PER_PARAM * code.params)} for the weights alone, more "
            f"than this machine's memory ({humanize.size(memory)}); make it smaller "
            "(`check` names the largest layer)")


def instantiate(code: GeneratedCode):
    """Build the model of generated code (after :func:`check_size`).

    Raises:
        ModelTooLargeError: its weights would not fit in memory.
    """
    check_size(code)
    return module_class(code)()


def build_model(graph: Graph, project_name: str = "Network", training: dict | None = None):
    """Generate, compile and instantiate the model of a graph.

    Returns:
        ``(module, code)``: the ``nn.Module`` instance and its :class:`GeneratedCode`.

    Raises:
        CodegenError: the graph has errors, or its weights would not fit in
            memory (:class:`ModelTooLargeError`).
    """
    code = generate(graph, project_name, training)
    return instantiate(code), code
