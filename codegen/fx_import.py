"""Import a PyTorch model onto the canvas: ``nn.Module`` → :class:`~graph.Graph`.

Algorithm: the model is traced with ``torch.fx`` (a tracer that keeps every
module of the block catalogue as one call, helper classes included); each fx
node is then mapped to a block.  Values are tagged while walking: a block's
tensor, a module's tuple result (``x, _ = self.lstm(x)``), an RNN's final
hidden state, or *meta* values (sizes, devices, masks: anything computed
without a tensor input), which are folded into the parameters of the block
that uses them.  Module parameters are read back from the instance
by the block spec's ``from_module`` hook
(:mod:`graph.blocks.module_import`): every constructor argument is
represented by a parameter or refused by name.  A module is matched by
identity only: a torch class of the catalogue, or one of the helper classes
NetCanvas's generated code defines (marked ``__netcanvas_block__``), never
by its name.  Whatever has no block is collected and reported, one line per
distinct cause with its source line (never the knock-on failures of what
consumes it), in a :class:`ModelImportError`.  Last, the finished graph is
compiled, given the original's weights and run against the original
(:func:`codegen.import_checks.verify`): an import is exact or it is refused.

This module holds the entry points; the steps live beside it: the model file
and its input shapes (:mod:`codegen.import_files`), the tracer
(:mod:`codegen.import_tracer`), and the builder that maps fx nodes onto
blocks (:mod:`codegen.import_builder`).

Importing from a file executes that file: an explicit user action, never
done when a project is opened.
"""

from __future__ import annotations

from pathlib import Path

from graph import Graph

from . import import_modes, import_training, import_units
from .import_builder import Builder
from .import_checks import ModelImportError, module_spec, trace_failure, verify
from .import_files import doc_inputs, load_module, parse_shape
from .import_tracer import Tracer, helper_functions

#: the builder under its former name (code that patches it, tests among them)
_Builder = Builder

__all__ = ["ModelImportError", "doc_inputs", "import_model", "import_project",
           "load_module", "parse_shape"]


def import_model(module_or_path, class_name: str | None = None, input_shapes=None,
                 input_dtypes=None, *, _verify: bool = True) -> Graph:
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
        units = import_units.Plan(module, list(input_shapes), input_dtypes, _unit_importer,
                                  is_block=lambda m: module_spec(m) is not None)
        helpers = helper_functions(module)
        # grad mode on, whatever the caller's: torch.no_grad() in forward is then seen
        with torch.enable_grad():
            traced = Tracer(helpers, units.is_leaf).trace(module)
            modes = [(m, m.training) for m in module.modules()]  # may differ per layer
            try:  # the other mode's trace shows a forward that reads self.training
                module.train(not module.training)
                other = Tracer(helpers, units.is_leaf).trace(module)
            finally:
                for m, mode in modes:
                    m.training = mode
    except Exception as exc:  # fx raises many types for untraceable code
        raise ModelImportError(f"cannot trace {type(module).__name__}: "
                               f"{trace_failure(exc)}") from None
    builder = Builder(module, traced, list(input_shapes), input_dtypes)
    builder.units = units
    builder.forms = import_training.TrainingForms(traced, other, module.training)
    builder.mode_difference = import_modes.mode_difference(traced, module, other,
                                                           skip=builder.forms.skip)
    graph = builder.build()
    if _verify:  # a submodule imported as a unit is verified within its model
        verify(module, graph, builder.origin, states=builder.states)
    return graph


def _unit_importer(module, shapes, dtypes) -> Graph:
    """A submodule's own import, for :class:`import_units.Plan` (verified as
    part of the model it is in)."""
    return import_model(module, input_shapes=shapes, input_dtypes=dtypes, _verify=False)


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
