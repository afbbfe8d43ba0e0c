"""Does a dataset fit the network's ``Input``? One message in words, or None.

A graph's ``Input`` shape may hold symbolic sizes (``"T"``): a plain name
matches any size, but the same name must match the same size each time it
appears; any other expression (``"T-2"``) is accepted as is.  Standard library
only, so the editor can check a built-in set before numpy or torch are loaded.
"""

from __future__ import annotations

from typing import Any

BATCH = "N"


def _fmt(shape) -> str:
    parts = [str(d) for d in shape]
    return "×".join(parts) if parts else "a scalar"


def _as_list(shape) -> list:
    return [shape] if isinstance(shape, (int, str)) else list(shape)


def _dims_match(data: list, graph: list) -> bool:
    bound: dict[str, int] = {}
    for d, g in zip(data, graph):
        if isinstance(g, str):
            if g.isidentifier():
                if bound.setdefault(g, d) != d:
                    return False
            continue
        if g != d:
            return False
    return True


def _shape_hint(data: list, graph: list) -> str:
    data_n = 1
    for d in data:
        data_n *= d
    graph_n = 1
    concrete = all(isinstance(g, int) for g in graph)
    for g in graph:
        graph_n *= g if isinstance(g, int) else 1
    want = "[" + ", ".join(str(d) for d in data) + "]"
    if concrete and len(data) != len(graph) and data_n == graph_n:
        return (f"set the Input shape to {want}, or keep it and add a Reshape/Flatten "
                f"after the Input")
    return f"set the Input shape to {want}"


def check_fits(dataset_or_info: Any, input_shape_from_graph, input_dtype: str) -> str | None:
    """Say why a dataset's samples do not fit an ``Input``, or None when they do.

    Args:
        dataset_or_info: a :class:`~runtime.data.Dataset` or a
            :class:`~runtime.data.BuiltinInfo` (anything with ``input_shape``,
            ``input_dtype`` and optionally ``name``).
        input_shape_from_graph: the Input's sample shape (its ``shape``
            parameter, without the batch dimension; a leading ``"N"`` is
            tolerated and skipped).
        input_dtype: the Input's dtype, ``"float32"`` or ``"int64"``.

    Returns:
        A message naming both shapes (and dtypes) and what to change, or None.
    """
    data = [int(d) for d in dataset_or_info.input_shape]
    graph = _as_list(input_shape_from_graph)
    if graph and graph[0] == BATCH and len(graph) == len(data) + 1:
        graph = graph[1:]
    data_dtype = dataset_or_info.input_dtype
    name = getattr(dataset_or_info, "name", "") or "the dataset"
    who = f'dataset "{name}"' if name != "the dataset" else name
    shape_ok = len(data) == len(graph) and _dims_match(data, graph)
    dtype_ok = data_dtype == input_dtype
    if shape_ok and dtype_ok:
        return None
    msg = (f"{who} gives samples of shape {_fmt(data)} ({data_dtype}) but the Input expects "
           f"{_fmt(graph)} ({input_dtype})")
    hints = []
    if not shape_ok:
        hints.append(_shape_hint(data, graph))
    if not dtype_ok:
        if data_dtype == "int64":
            hints.append('set the Input dtype to "int64": the samples are token ids, '
                         "to be fed to an Embedding")
        else:
            hints.append(f'set the Input dtype to "{data_dtype}"')
    return msg + "; " + " and ".join(hints)
