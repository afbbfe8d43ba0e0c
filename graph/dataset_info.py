"""What a dataset gives, as plain data, and the rules that say whether it fits
the network (no torch, no numpy: the analysis runs them on every edit).

:class:`DatasetInfo` is what validation knows of the chosen dataset: per
``Input`` the sample shape and dtype, per ``Output`` the target shape, the
task and the number of classes.  ``graph/`` cannot read datasets itself
(no runtime here): the caller reads the header (:mod:`runtime.data.header`)
and hands the answer to :class:`~graph.analysis.Analyzer`.

The two rules are the ones the training engine applies before it trains
(:mod:`runtime.setup`, :mod:`runtime.targets`), so the editor shows, on every
edit, the very message Start would refuse with:

* :func:`check_fits`: the dataset's samples against an ``Input``'s ``shape``
  and ``dtype``.  A graph's shape may hold symbolic sizes (``"T"``): a plain
  name matches any size, but the same name must match the same size each
  time it appears; any other expression (``"T-2"``) is accepted as is.
* :func:`target_fit`: a model output against the targets, for the loss and
  the task (one score per class, a class count the last layer can hold,
  float outputs, as many regression values as targets).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .training_names import INDEX_LOSSES

#: The batch dimension's name in an ``Input`` shape written with it.
BATCH = "N"
CLASSIFICATION, REGRESSION = "classification", "regression"


class DataMismatch(ValueError):
    """A model's output cannot be trained on the dataset's targets; the message
    names both shapes and what to change.

    Attributes:
        about: ``"loss"`` when the loss is what to change, else ``"output"``.
    """

    def __init__(self, message: str, about: str = "output"):
        super().__init__(message)
        self.about = about


@dataclass(frozen=True)
class ArrayInfo:
    """One input array's sample: ``shape`` without the batch dimension, and
    ``dtype`` (``"float32"``, or ``"int64"`` for token ids)."""

    shape: tuple
    dtype: str = "float32"


@dataclass(frozen=True)
class TargetInfo:
    """One target array's sample: ``shape`` per sample (``()`` for a class
    label, ``(k,)`` for k regression values, ``(T,)`` for a label per step),
    the ``task`` it implies and its number of classes (None: regression, or
    not known before loading).

    ``fixed`` is False for a file's array, read from its header: its task is
    only a guess from the dtype (the project's ``task`` decides, as the loader
    does), and a 1-D array is ``(n,)`` labels or ``(n, 1)`` values by that task.
    """

    shape: tuple = ()
    task: str = CLASSIFICATION
    num_classes: int | None = None
    fixed: bool = True

    def sample_shape(self, task: str) -> tuple:
        """The targets' shape per sample as the engine sees them for ``task``."""
        if not self.fixed and task == REGRESSION and self.shape == ():
            return (1,)  # the loader makes 1-D regression targets a column
        return tuple(self.shape)


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset gives, read without loading it.

    Attributes:
        name: how messages name it (``digits``, ``pairs.npz``).
        inputs: ``(input id, ArrayInfo)`` pairs; the id is None for a
            dataset's one array ``X`` (it feeds the network's only ``Input``).
        targets: ``(output id, TargetInfo)`` pairs, None for the one array
            ``y``; empty when the targets are not known before loading.
        error: the dataset cannot be read (a missing file, a bad header);
            the message says why, and nothing else is known.
    """

    name: str
    inputs: tuple = ()
    targets: tuple = ()
    error: str | None = None

    @classmethod
    def single(cls, name: str, input_shape, input_dtype: str = "float32", target_shape=(),
               task: str = CLASSIFICATION, num_classes: int | None = None) -> "DatasetInfo":
        """A dataset of one input array ``X`` and one target array ``y`` (both
        unnamed: they go with the network's only Input and Output)."""
        return cls(name, ((None, ArrayInfo(tuple(input_shape), input_dtype)),),
                   ((None, TargetInfo(tuple(target_shape), task, num_classes)),))

    def input_for(self, input_id: str, n_inputs: int) -> ArrayInfo | None:
        """The array that feeds ``input_id`` (of ``n_inputs`` Inputs), or None."""
        return _pick(self.inputs, input_id, n_inputs)

    def target_for(self, output_id: str, n_outputs: int) -> TargetInfo | None:
        """The target array of ``output_id`` (of ``n_outputs`` Outputs), or None."""
        return _pick(self.targets, output_id, n_outputs)


def _pick(pairs: tuple, node_id: str, n_nodes: int):
    for key, value in pairs:
        if key == node_id:
            return value
    # one unnamed array goes with the network's only Input (Output), as X and y do
    if n_nodes == 1 and len(pairs) == 1:
        return pairs[0][1]
    return None


# ---------------------------------------------------------------------- inputs
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
        dataset_or_info: anything with ``input_shape``, ``input_dtype`` and
            optionally ``name`` (a loaded dataset, a catalogue entry), or an
            :class:`ArrayInfo` (named "the dataset").
        input_shape_from_graph: the Input's sample shape (its ``shape``
            parameter, without the batch dimension; a leading ``"N"`` is
            tolerated and skipped).
        input_dtype: the Input's dtype, ``"float32"`` or ``"int64"``.

    Returns:
        A message naming both shapes (and dtypes) and what to change, or None.
    """
    if isinstance(dataset_or_info, ArrayInfo):
        data_shape, data_dtype, name = dataset_or_info.shape, dataset_or_info.dtype, ""
    else:
        data_shape = dataset_or_info.input_shape
        data_dtype = dataset_or_info.input_dtype
        name = getattr(dataset_or_info, "name", "") or ""
    return input_fit(data_shape, data_dtype, name, input_shape_from_graph, input_dtype)


def input_fit(data_shape, data_dtype: str, name: str, graph_shape, graph_dtype: str) -> str | None:
    """:func:`check_fits` on plain values (``name`` "" names it "the dataset")."""
    data = [int(d) for d in data_shape]
    graph = _as_list(graph_shape)
    if graph and graph[0] == BATCH and len(graph) == len(data) + 1:
        graph = graph[1:]
    who = f'dataset "{name}"' if name and name != "the dataset" else "the dataset"
    shape_ok = len(data) == len(graph) and _dims_match(data, graph)
    dtype_ok = data_dtype == graph_dtype
    if shape_ok and dtype_ok:
        return None
    msg = (f"{who} gives samples of shape {_fmt(data)} ({data_dtype}) but the Input expects "
           f"{_fmt(graph)} ({graph_dtype})")
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


# ---------------------------------------------------------------------- targets
def _fmt_n(shape) -> str:
    return "×".join(["N"] + [str(d) for d in shape])


def _same(out: tuple, y: tuple) -> bool:
    """Output dims equal target dims; a symbolic output size matches any size."""
    return len(out) == len(y) and all(isinstance(o, str) or o == d for o, d in zip(out, y))


def target_fit(out_shape: tuple, out_float: bool, y_shape: tuple, loss_type: str, task: str,
               num_classes: int | None, output_label: str = "the output") -> str:
    """Check that a model output fits the targets; say how the loss is fed.

    Args:
        out_shape: the output's shape per sample (without the batch
            dimension; symbolic sizes such as ``"T"`` match any size).
        out_float: whether the output is a float tensor.
        y_shape: the targets' shape per sample (``()`` for a class label,
            ``(k,)`` for k regression values, ``(T,)`` for a label per step).
        loss_type: the loss class name.
        task: ``"classification"`` or ``"regression"``.
        num_classes: the dataset's number of classes (classification; None or
            0: not known, so the class count is not checked).
        output_label: how to name the layer that makes the output.

    Returns:
        ``"index"`` (class index per prediction), ``"binary"`` (one logit,
        float 0/1 target), ``"onehot"`` (one-hot float target) or ``"value"``
        (regression).

    Raises:
        DataMismatch: the output cannot be compared with the targets.
    """
    if not out_float:
        raise DataMismatch(f"{output_label} must be a float tensor to train on, got integers "
                           "(int64); put a layer that computes scores before the Output")
    o, y = tuple(out_shape), tuple(y_shape)
    if task == CLASSIFICATION:
        c = num_classes or 0
        if loss_type in INDEX_LOSSES:
            kind = "index"
        elif loss_type == "BCEWithLogitsLoss" and (o in ((), (1,)) or _same(o, y)):
            kind = "binary"
        else:
            kind = "onehot"
        if kind == "binary":
            if c > 2:
                raise DataMismatch(
                    f"BCEWithLogitsLoss with one output per sample needs 2 classes, but the "
                    f"dataset has {c}; use CrossEntropyLoss, or make {output_label} give {c} "
                    "outputs", about="loss")
            return kind
        if len(o) < 1 or not _same(o[:-1], y):
            of = f" of {c} classes" if c else ""  # a file's class count is known once read
            raise DataMismatch(
                f"{output_label} gives {_fmt_n(o)} but the targets are {_fmt_n(y)} class labels"
                f"{of}; the output should be {_fmt_n(y + (c or 'C',))} (one score per class)")
        if isinstance(o[-1], int) and o[-1] < c:
            raise DataMismatch(
                f"{output_label} gives {o[-1]} scores per prediction ({_fmt_n(o)}) but the "
                f"dataset has {c} classes; set its size to {c}")
        return kind
    if loss_type in INDEX_LOSSES:
        raise DataMismatch(f"{loss_type} is a classification loss but the task is "
                           "regression; use MSELoss, L1Loss, SmoothL1Loss or HuberLoss",
                           about="loss")
    if all(isinstance(d, int) for d in o):
        n_out = n_y = 1
        for d in o:
            n_out *= d
        for d in y:
            n_y *= d
        if n_out != n_y:
            raise DataMismatch(
                f"{output_label} gives {_fmt_n(o)} but the regression targets are {_fmt_n(y)}; "
                f"make it give {n_y} value(s) per sample")
    return "value"


def task_fit(task: str | None, data_task: str, name: str) -> str | None:
    """Why the chosen ``task`` cannot train on the dataset's targets, or None."""
    if task == CLASSIFICATION and data_task != CLASSIFICATION:
        return (f"the task is classification but dataset {name!r} holds regression targets; "
                'set task to "regression"')
    return None


def default_loss(task: str) -> str:
    """The loss a task trains with when the settings name none."""
    return "CrossEntropyLoss" if task == CLASSIFICATION else "MSELoss"
