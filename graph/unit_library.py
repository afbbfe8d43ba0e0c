"""The built-in library of units: classic building blocks, ready to drop in.

Each entry is a unit definition written exactly as in a project file's
``units`` section (``docs/project-format.md``, "Units (version 2)") plus one
line of description for the palette, so a library unit is read by the same
loader, with the same checks, as a unit in a user's file.  The palette lists
:func:`library_names`; dropping one calls :func:`add_library_unit`, which
copies the definition into the project (a copy: editing it there never
changes the library).

A unit's structure is fixed (the format has no conditional nodes), so a block
whose shortcut depends on its stride or channels comes in two variants:
``BasicBlock`` (identity shortcut: the input already has ``channels``
channels) and ``BasicBlockDown`` (a 1×1 convolution + batch norm projects the
shortcut when the stride or the channel count changes); likewise
``Bottleneck``/``BottleneckDown`` and ``InvertedResidual``/``InvertedResidualDown``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .problems import GraphEditError
from .units import UnitDef


def _unit(params: dict, layers: list, edges: list, inputs=("x",), outputs=("y",)) -> dict:
    """A definition in file form: ``layers`` are ``(id, type, name, params)``,
    ``edges`` are ``"a>b"`` strings (default ports)."""
    nodes = [{"id": i, "type": "Input"} for i in inputs]
    nodes += [{"id": nid, "type": t, "name": name, "params": p} for nid, t, name, p in layers]
    nodes += [{"id": o, "type": "Output"} for o in outputs]
    pairs = [e.split(">") for e in edges]
    return {"params": params, "nodes": nodes,
            "edges": [{"source": a, "target": b} for a, b in pairs]}


def _shortcut(down: bool, layers: list, edges: list) -> None:
    """The residual path into ``add``: the input itself, or (``down``) a
    strided 1×1 convolution and batch norm that match the new size."""
    if down:
        layers += [("sc", "Conv2d", "shortcut_conv", _conv(1, "$channels", "$stride")),
                   ("sb", "BatchNorm2d", "shortcut_bn", {})]
        edges += ["x>sc", "sc>sb", "sb>add"]
    else:
        edges += ["x>add"]


def _conv(k: int, out: Any, stride: Any = 1, groups: Any = 1, bias: bool = False) -> dict:
    p = {"out_channels": out, "kernel_size": k, "padding": k // 2, "bias": bias}
    if stride != 1:
        p["stride"] = stride
    if groups != 1:
        p["groups"] = groups
    return p


def _basic(down: bool) -> dict:
    stride = "$stride" if down else 1
    layers = [("c1", "Conv2d", "conv1", _conv(3, "$channels", stride)),
              ("b1", "BatchNorm2d", "bn1", {}),
              ("r1", "ReLU", "relu1", {}),
              ("c2", "Conv2d", "conv2", _conv(3, "$channels")),
              ("b2", "BatchNorm2d", "bn2", {}),
              ("add", "Add", "add", {}),
              ("r2", "ReLU", "relu2", {})]
    edges = ["x>c1", "c1>b1", "b1>r1", "r1>c2", "c2>b2", "b2>add", "add>r2", "r2>y"]
    _shortcut(down, layers, edges)
    params = {"channels": 128, "stride": 2} if down else {"channels": 64}
    return _unit(params, layers, edges)


def _bottleneck(down: bool) -> dict:
    stride = "$stride" if down else 1
    layers = [("c1", "Conv2d", "conv1", _conv(1, "$width")),
              ("b1", "BatchNorm2d", "bn1", {}),
              ("r1", "ReLU", "relu1", {}),
              ("c2", "Conv2d", "conv2", _conv(3, "$width", stride)),
              ("b2", "BatchNorm2d", "bn2", {}),
              ("r2", "ReLU", "relu2", {}),
              ("c3", "Conv2d", "conv3", _conv(1, "$channels")),
              ("b3", "BatchNorm2d", "bn3", {}),
              ("add", "Add", "add", {}),
              ("r3", "ReLU", "relu3", {})]
    edges = ["x>c1", "c1>b1", "b1>r1", "r1>c2", "c2>b2", "b2>r2", "r2>c3", "c3>b3", "b3>add",
             "add>r3", "r3>y"]
    _shortcut(down, layers, edges)
    params = {"width": 64, "channels": 256}
    if down:
        params["stride"] = 2
    return _unit(params, layers, edges)


def _inverted(down: bool) -> dict:
    stride = "$stride" if down else 1
    layers = [("e", "Conv2d", "expand", _conv(1, "$hidden")),
              ("eb", "BatchNorm2d", "expand_bn", {}),
              ("er", "ReLU6", "expand_relu", {}),
              ("d", "Conv2d", "depthwise", _conv(3, "$hidden", stride, "$hidden")),
              ("db", "BatchNorm2d", "depthwise_bn", {}),
              ("dr", "ReLU6", "depthwise_relu", {}),
              ("p", "Conv2d", "project", _conv(1, "$channels")),
              ("pb", "BatchNorm2d", "project_bn", {})]
    edges = ["x>e", "e>eb", "eb>er", "er>d", "d>db", "db>dr", "dr>p", "p>pb"]
    if down:
        edges += ["pb>y"]
        params = {"hidden": 96, "channels": 24, "stride": 2}
    else:
        layers.append(("add", "Add", "add", {}))
        edges += ["pb>add", "x>add", "add>y"]
        params = {"hidden": 96, "channels": 16}
    return _unit(params, layers, edges)


def _vgg() -> dict:
    return _unit({"channels": 64},
                 [("c1", "Conv2d", "conv1", _conv(3, "$channels", bias=True)),
                  ("r1", "ReLU", "relu1", {}),
                  ("c2", "Conv2d", "conv2", _conv(3, "$channels", bias=True)),
                  ("r2", "ReLU", "relu2", {}),
                  ("pool", "MaxPool2d", "pool", {"kernel_size": 2})],
                 ["x>c1", "c1>r1", "r1>c2", "c2>r2", "r2>pool", "pool>y"])


def _se() -> dict:
    # The gate is N×C; reshaped to N×C×1×1 it broadcasts over the feature map.
    return _unit({"channels": 64, "reduced": 16},
                 [("gap", "GlobalAvgPool", "squeeze", {}),
                  ("fc1", "Linear", "fc1", {"out_features": "$reduced"}),
                  ("r", "ReLU", "relu", {}),
                  ("fc2", "Linear", "fc2", {"out_features": "$channels"}),
                  ("s", "Sigmoid", "gate", {}),
                  ("v", "Reshape", "as_map", {"shape": [-1, 1, 1]}),
                  ("mul", "Multiply", "scale", {})],
                 ["x>gap", "gap>fc1", "fc1>r", "r>fc2", "fc2>s", "s>v", "x>mul", "v>mul",
                  "mul>y"])


def _inception() -> dict:
    def cr(nid: str, k: int, out: str) -> list:
        return [(nid, "Conv2d", nid, _conv(k, out, bias=True)),
                (f"{nid}_relu", "ReLU", f"{nid}_relu", {})]

    layers = (cr("branch1", 1, "$ch1x1")
              + cr("branch3_reduce", 1, "$ch3x3red") + cr("branch3", 3, "$ch3x3")
              + cr("branch5_reduce", 1, "$ch5x5red") + cr("branch5", 5, "$ch5x5")
              + [("pool", "MaxPool2d", "pool", {"kernel_size": 3, "stride": 1, "padding": 1})]
              + cr("pool_proj", 1, "$pool_proj")
              + [("cat", "Concat", "concat", {"dim": 1})])
    edges = ["x>branch1", "branch1>branch1_relu",
             "x>branch3_reduce", "branch3_reduce>branch3_reduce_relu",
             "branch3_reduce_relu>branch3", "branch3>branch3_relu",
             "x>branch5_reduce", "branch5_reduce>branch5_reduce_relu",
             "branch5_reduce_relu>branch5", "branch5>branch5_relu",
             "x>pool", "pool>pool_proj", "pool_proj>pool_proj_relu",
             "branch1_relu>cat", "branch3_relu>cat", "branch5_relu>cat", "pool_proj_relu>cat",
             "cat>y"]
    return _unit({"ch1x1": 64, "ch3x3red": 96, "ch3x3": 128, "ch5x5red": 16, "ch5x5": 32,
                  "pool_proj": 32}, layers, edges)


def _transformer(causal: bool) -> dict:
    attn = {"num_heads": "$heads", "dropout": "$dropout"}
    if causal:
        attn["causal"] = True
    return _unit({"dim": 64, "heads": 4, "hidden": 256, "dropout": 0.0},
                 [("ln1", "LayerNorm", "ln1", {}),
                  ("attn", "MultiheadAttention", "attn", attn),
                  ("add1", "Add", "residual1", {}),
                  ("ln2", "LayerNorm", "ln2", {}),
                  ("up", "Linear", "mlp_up", {"out_features": "$hidden"}),
                  ("act", "GELU", "gelu", {}),
                  ("down", "Linear", "mlp_down", {"out_features": "$dim"}),
                  ("add2", "Add", "residual2", {})],
                 ["x>ln1", "ln1>attn", "x>add1", "attn>add1", "add1>ln2", "ln2>up", "up>act",
                  "act>down", "add1>add2", "down>add2", "add2>y"])


#: name → (description, definition in file form), in the palette's order.
LIBRARY: dict[str, tuple[str, dict]] = {
    "BasicBlock": ("ResNet basic block: two 3×3 conv + batch norm, identity shortcut "
                   "(the input must already have `channels` channels).", _basic(False)),
    "BasicBlockDown": ("ResNet basic block whose shortcut is a 1×1 conv + batch norm, "
                       "for a change of stride or channels.", _basic(True)),
    "Bottleneck": ("ResNet bottleneck: 1×1 reduce to `width`, 3×3, 1×1 expand to "
                   "`channels`, identity shortcut.", _bottleneck(False)),
    "BottleneckDown": ("ResNet bottleneck with a 1×1 conv + batch norm shortcut (stride or "
                       "channels change); the stride sits on the 3×3 conv.", _bottleneck(True)),
    "VGGBlock": ("VGG block: two 3×3 conv + ReLU, then 2×2 max pooling.", _vgg()),
    "InvertedResidual": ("MobileNetV2 block: 1×1 expand to `hidden`, 3×3 depthwise, 1×1 "
                         "project, residual Add (stride 1, same channels).", _inverted(False)),
    "InvertedResidualDown": ("MobileNetV2 block without the residual, for a change of stride "
                             "or channels.", _inverted(True)),
    "SqueezeExcite": ("Squeeze-and-excitation: global average → Linear → ReLU → Linear → "
                      "sigmoid, which scales each channel of the input.", _se()),
    "InceptionModule": ("Inception module: 1×1, 3×3, 5×5 and pooling branches joined along "
                        "the channels.", _inception()),
    "TransformerBlock": ("Pre-norm Transformer encoder block: LayerNorm → self-attention → "
                         "Add, LayerNorm → MLP → Add (`dim` = the input's features).",
                         _transformer(False)),
    "GPTBlock": ("GPT decoder block: pre-norm causal self-attention and an MLP, each with "
                 "a residual Add.", _transformer(True)),
}


_RESNET = ("residual", "skip", "shortcut", "resnet")
_ATTENTION = ("transformer", "attention", "self-attention", "residual", "skip")
#: other words people search a library unit by (the palette and Add Block
#: Here match them, as they match a block spec's ``keywords``)
LIBRARY_KEYWORDS: dict[str, tuple[str, ...]] = {
    "BasicBlock": _RESNET, "BasicBlockDown": _RESNET + ("downsample",),
    "Bottleneck": _RESNET, "BottleneckDown": _RESNET + ("downsample",),
    "VGGBlock": ("vgg", "cnn", "convolution"),
    "InvertedResidual": ("mobilenet", "residual", "skip", "depthwise"),
    "InvertedResidualDown": ("mobilenet", "depthwise", "downsample"),
    "SqueezeExcite": ("se", "channel attention", "attention", "gate"),
    "InceptionModule": ("googlenet", "branches", "concat"),
    "TransformerBlock": _ATTENTION + ("bert", "encoder"),
    "GPTBlock": _ATTENTION + ("gpt", "decoder", "causal"),
}


def library_keywords(name: str) -> tuple[str, ...]:
    """The search words of a library unit (empty for a name it lacks)."""
    return LIBRARY_KEYWORDS.get(name, ())


def library_names() -> list[str]:
    """The library's units, in the palette's order."""
    return list(LIBRARY)


def library_doc(name: str) -> str:
    """The one-line description of a library unit.

    Raises:
        KeyError: there is no library unit of that name.
    """
    return LIBRARY[name][0]


def library_definition(name: str) -> dict:
    """A library unit in file form (a fresh copy the caller may change).

    Raises:
        KeyError: there is no library unit of that name.
    """
    return copy.deepcopy(LIBRARY[name][1])


def library_unit(name: str, as_name: str | None = None) -> UnitDef:
    """A new :class:`UnitDef` of a library unit, read by the project loader
    (so it gets every check a unit in a file gets); not attached to any graph.

    Args:
        name: the library unit.
        as_name: the name the definition gets (default ``name``).

    Raises:
        KeyError: there is no library unit of that name.
    """
    from .project import project_from_dict

    as_name = as_name or name
    doc = {"format": "netcanvas", "version": 2, "name": "library",
           "units": {as_name: library_definition(name)}, "nodes": [], "edges": []}
    return project_from_dict(doc, f"<unit library: {name}>").graph.units[as_name].copy()


def definition_key(unit: UnitDef) -> str:
    """What makes two definitions the same unit: parameters, nodes (ids, types,
    names, parameters, repeats) and edges; positions on the canvas do not count."""
    nodes = [(n.id, n.type, n.name, n.params, n.repeat, n.frozen)
             for n in unit.graph.nodes.values()]
    edges = [(e.source, e.target, e.source_port, e.target_port) for e in unit.graph.edges]
    return json.dumps([unit.params, nodes, edges], sort_keys=True, default=repr)


def plan_library_unit(g, name: str) -> tuple[str, UnitDef | None]:
    """Where a library unit goes in a project: its name there, and the new
    definition to add (None when an identical one is already there).

    A project unit of the same name with the same definition is used as it
    is.  One with a different definition (the user's own ``BasicBlock``, or
    the library's after an edit) is never replaced nor merged: the library's
    copy is named ``BasicBlock_2`` (the first free, or identical, such name).
    An undoable edit adds the definition with :meth:`Graph.define_unit` and
    takes it back with :meth:`Graph.remove_unit`.

    Args:
        g: the project's :class:`~graph.graph.Graph`.
        name: the library unit.

    Raises:
        GraphEditError: there is no library unit of that name.
    """
    if name not in LIBRARY:
        raise GraphEditError(f"there is no unit {name!r} in the library (it has: "
                             f"{', '.join(LIBRARY)})")
    want = definition_key(library_unit(name))
    k = 1
    while True:
        candidate = name if k == 1 else f"{name}_{k}"
        have = g.units.get(candidate)
        if have is None and g.spec_of_type(candidate) is None:
            return candidate, library_unit(name, candidate)
        if have is not None and definition_key(have) == want:
            return candidate, None
        k += 1


def add_library_unit(g, name: str) -> str:
    """Copy a library unit into a project's graph (see :func:`plan_library_unit`).

    Returns:
        The unit's name in ``g``, the type its instances take.

    Raises:
        GraphEditError: there is no library unit of that name.
    """
    unit_name, unit = plan_library_unit(g, name)
    if unit is not None:
        g.define_unit(unit)
    return unit_name
