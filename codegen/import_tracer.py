"""The fx tracer of an import: catalogue modules (and NetCanvas's helper
classes and functions) stay one call each, every node records its grad mode
and the user's stack trace (refusals name the user's source line)."""

from __future__ import annotations

import inspect

from graph import blocks

from . import import_modes
from .import_checks import module_spec


def helper_functions(module) -> tuple:
    """Helper functions of generated code (``causal_mask``): kept as one call."""
    names = getattr(type(module).forward, "__globals__", {})
    return tuple(v for k, v in names.items() if k in blocks.HELPERS and inspect.isfunction(v))


class Tracer:
    """fx tracer keeping catalogue modules (and helper classes) as leaves."""

    def __new__(cls, functions: tuple = (), unit=lambda m: False):
        import torch.fx

        class Tracer(torch.fx.Tracer):
            def create_node(self, *args, **kwargs):
                node = super().create_node(*args, **kwargs)
                import_modes.record_grad_mode(node)  # torch.no_grad() in forward
                return node

            def is_leaf_module(self, m, qualname):
                if module_spec(m) is not None or unit(m):  # a unit: import_units
                    return True
                return super().is_leaf_module(m, qualname)

        tracer = Tracer(autowrap_functions=functions)
        tracer.record_stack_traces = True  # refusals name the user's source line
        return tracer
