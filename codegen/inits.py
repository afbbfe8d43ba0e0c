"""Weight initialisation in generated code: one helper, one line per layer.

A layer whose ``init`` is fixed gets the call of its method written out
(``init_weights_(self.conv, nn.init.orthogonal_)``).  Inside a unit, ``init``
or ``init_scale`` may be a unit parameter (``"$init"``): then each instance
chooses, so the unit's class cannot write one method down; it calls
``init_layer_(self.conv, init)``, which looks the method up by its name when
the instance is built, with exactly the table the fixed calls come from.
"""

from __future__ import annotations

from typing import Any, Mapping

from graph.blocks.base import lit
from graph.unit_values import Sym

INIT_HELPER = '''def init_weights_(layer, init_fn, **kwargs):
    """Apply init_fn to every weight matrix of layer and zero its biases.

    A weight-normalised weight (g * v / |v|) is set as a whole: the effective
    weight follows init_fn, and g and v are worked out from it.
    """
    with torch.no_grad():
        for name, param in layer.named_parameters():
            if ".original" in name:
                continue  # the parts of a weight-normalised weight, done below
            if param.dim() > 1:
                init_fn(param, **kwargs)
            elif name.rsplit(".", 1)[-1].startswith("bias"):
                nn.init.zeros_(param)
        for module in layer.modules():
            for name in getattr(module, "parametrizations", {}):
                weight = torch.empty_like(getattr(module, name))
                setattr(module, name, init_fn(weight, **kwargs))
        if getattr(layer, "padding_idx", None) is not None:
            layer.weight[layer.padding_idx].zero_()
'''

DELTA_ORTHOGONAL_HELPER = '''def delta_orthogonal_(weight, gain=1.0):
    """Delta-orthogonal init (Xiao et al., 2018): an orthogonal matrix at the
    kernel centre, zeros elsewhere, so a deep CNN starts as an isometry."""
    with torch.no_grad():
        matrix = torch.empty(weight.shape[0], weight.shape[1])
        nn.init.orthogonal_(matrix, gain=gain)
        weight.zero_()
        centre = tuple(k // 2 for k in weight.shape[2:])
        weight[(slice(None), slice(None)) + centre] = matrix
    return weight
'''

#: method → (init function source, keyword for the scale, default scale or None, fixed kwargs)
_METHODS = {
    "xavier_uniform": ("nn.init.xavier_uniform_", "gain", None, {}),
    "xavier_normal": ("nn.init.xavier_normal_", "gain", None, {}),
    "kaiming_uniform": ("nn.init.kaiming_uniform_", None, None, {"nonlinearity": "relu"}),
    "kaiming_normal": ("nn.init.kaiming_normal_", None, None, {"nonlinearity": "relu"}),
    "orthogonal": ("nn.init.orthogonal_", "gain", None, {}),
    "delta_orthogonal": ("delta_orthogonal_", "gain", None, {}),
    "normal": ("nn.init.normal_", "std", 0.02, {}),
    "uniform": ("nn.init.uniform_", None, None, {}),
    "zeros": ("nn.init.zeros_", None, None, {}),
    "constant": ("nn.init.constant_", "val", 0.0, {}),
}


def _tables_source() -> str:
    """The method tables of ``init_layer_``, written from :data:`_METHODS`."""
    rows = ["    # method: (init function, keyword of the scale, default scale)",
            "    methods = {"]
    fixed = []
    for method, (fn, key, default, kwargs) in _METHODS.items():
        if method == "uniform":
            continue  # a bound gives two arguments, a and b: done in the helper's code
        rows.append(f"        {lit(method)}: ({fn}, {lit(key)}, {lit(default)}),")
        if kwargs:
            fixed.append(f"        {lit(method)}: {{"
                         + ", ".join(f"{lit(k)}: {lit(v)}" for k, v in kwargs.items()) + "},")
    rows += ["    }", "    fixed = {"] + fixed + ["    }"]
    return "\n".join(rows)


INIT_BY_NAME_HELPER = '''def init_layer_(layer, method, scale=None):
    """Initialise layer's weights by the method's name (a unit's init parameter).

    "default" keeps PyTorch's own; scale is the gain, std, bound or value of
    the method, None for the usual one.
    """
    if method == "default":
        return
    if method == "uniform":
        bound = 0.05 if scale is None else scale
        init_weights_(layer, nn.init.uniform_, a=-bound, b=bound)
        return
%s
    if method not in methods:
        raise ValueError(
            f"unknown init {method!r}: one of default, uniform, {', '.join(methods)}"
        )
    init_fn, key, default = methods[method]
    kwargs = dict(fixed.get(method, {}))
    value = default if scale is None else scale
    if key is not None and value is not None:
        kwargs[key] = value
    init_weights_(layer, init_fn, **kwargs)
''' % _tables_source()

#: the names the helpers define, kept free in generated code
HELPER_NAMES = ("init_weights_", "delta_orthogonal_", "init_layer_")


def init_statement(layer: str, p: Mapping[str, Any]) -> str | None:
    """The weight-initialisation line for one layer, or None (PyTorch's own).

    Args:
        layer: the layer's expression (``self.conv``).
        p: its resolved parameters; inside a unit's class, ``init`` and
            ``init_scale`` may be named values (:class:`graph.unit_values.Sym`)
            that stand for the class's constructor arguments.
    """
    method, scale = p.get("init", "default"), p.get("init_scale")
    if isinstance(method, Sym) or (isinstance(scale, Sym) and method != "default"):
        # chosen per instance: looked up by name when the instance is built
        args = f", scale={lit(scale)}" if scale is not None else ""
        return f"init_layer_({layer}, {lit(method)}{args})"
    if method == "default":
        return None
    return init_call(layer, method, scale)


def init_helpers(lines: list[str]) -> list[tuple[str, str]]:
    """The helpers (name, source) that these initialisation lines call."""
    if not lines:
        return []
    by_name = any(line.startswith("init_layer_(") for line in lines)
    out = [("init_weights_", INIT_HELPER)]
    if by_name or any("delta_orthogonal_" in line for line in lines):
        out.append(("delta_orthogonal_", DELTA_ORTHOGONAL_HELPER))
    if by_name:
        out.append(("init_layer_", INIT_BY_NAME_HELPER))
    return out


def init_call(layer: str, method: str, scale: float | None) -> str:
    """The ``init_weights_(...)`` line for one layer."""
    fn, key, default, fixed = _METHODS[method]
    kwargs = dict(fixed)
    if method == "uniform":
        bound = 0.05 if scale is None else scale
        kwargs.update({"a": -bound, "b": bound})
    elif key is not None:
        value = default if scale is None else scale
        if value is not None:
            kwargs[key] = value
    args = "".join(f", {k}={lit(v)}" for k, v in kwargs.items())
    return f"init_weights_({layer}, {fn}{args})"
