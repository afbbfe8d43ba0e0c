"""Weight initialisation in generated code: one helper, one line per layer."""

from __future__ import annotations

from graph.blocks.base import lit

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
        centre = torch.empty(weight.shape[0], weight.shape[1])
        nn.init.orthogonal_(centre, gain=gain)
        weight.zero_()
        weight[(slice(None), slice(None)) + tuple(k // 2 for k in weight.shape[2:])] = centre
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
