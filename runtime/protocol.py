"""The training event protocol: what a training process tells the window, defined once.

A run's events are ``(kind, payload)`` pairs.  :class:`Kind` names them and
each kind has one payload type here (a dataclass); the child process
(:mod:`runtime.remote_child`), the parent's reader (:mod:`runtime.remote`),
the GUI's worker thread and the training view's dispatch table all use these
names and types, and nothing else:

========================  ===============  ============================================
kind                      payload          when
========================  ===============  ============================================
``Kind.RUN_START``        :class:`RunStart`   once, before the first step
``Kind.POINTS``           :class:`Points`     2-D classification data (decision map)
``Kind.STEPS``            :class:`Steps`      about every :data:`EMIT_EVERY` seconds
``Kind.EPOCH``            :class:`Epoch`      after each epoch's validation
``Kind.GRID``             :class:`Grid`       once per epoch (decision map)
``Kind.HISTOGRAM``        :class:`Histogram`  the watched node, a few times a second
``Kind.PAUSED``           :class:`Paused`     the child applied a pause or resume
``Kind.RUN_END``          :class:`RunResult`  last: how the run ended
``Kind.REFUSED``          :class:`Refused`    last: the run could not start
========================  ===============  ============================================

Across the process boundary a payload travels as *plain data*
(:func:`encode` / :func:`decode`): a flat dict of numbers, strings, lists and
numpy arrays, picklable, and JSON data but for the arrays.  A payload keeps
the metrics it does not declare in ``extra``, so the engine can measure more
than the window draws and nothing is lost on the way (the run's history rows
hold everything).  Adding a live metric is one field here, which the child
fills from the engine's metric of the same name, and one plot call where the
window handles the event.

No Qt and no torch at import: the window imports this module on its own
thread (torch loads in the background); :class:`RunResult` (and the torch
it brings in) is loaded on first use.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .result import RunResult

#: Seconds between two batches of step losses sent by the child.
EMIT_EVERY = 0.05


class Kind(StrEnum):
    """The kinds of training event (equal to their plain string names)."""

    RUN_START = "run_start"
    POINTS = "points"
    STEPS = "steps"
    EPOCH = "epoch"
    GRID = "grid"
    HISTOGRAM = "histogram"
    PAUSED = "paused"
    RUN_END = "run_end"
    REFUSED = "refused"


#: The kinds after which a run sends nothing more.
FINAL = frozenset({Kind.RUN_END, Kind.REFUSED})


class ProtocolError(ValueError):
    """An event that is not part of the protocol (unknown kind or bad payload)."""


class _Payload:
    """Conversion of a payload dataclass to and from a flat plain dict.

    Keys the class does not declare go to its ``extra`` dict when it has one
    (and are dropped otherwise); :meth:`to_plain` flattens ``extra`` back.
    """

    @classmethod
    def from_plain(cls, data: dict):
        if not isinstance(data, dict):
            raise ProtocolError(f"a {cls.__name__} payload is a dict, got {type(data).__name__}")
        names = {f.name for f in fields(cls)}
        known = {k: v for k, v in data.items() if k in names and k != "extra"}
        if "extra" in names:
            known["extra"] = {k: v for k, v in data.items() if k not in names}
        try:
            return cls(**known)
        except TypeError as exc:  # a required field is missing
            raise ProtocolError(f"bad {cls.__name__} payload: {exc}") from None

    def to_plain(self) -> dict:
        # a field left None is left out: a history row says only what was measured
        # (a classification run's rows have no ``val_mae`` key)
        out = {f.name: v for f in fields(self)
               if f.name != "extra" and (v := getattr(self, f.name)) is not None}
        out.update(getattr(self, "extra", None) or {})
        return out


@dataclass
class RunStart(_Payload):
    """A run is about to train.

    Attributes:
        task: ``"classification"`` or ``"regression"``.
        device: where it trains (``"cpu"``, ``"cuda:0"`` ...).
        epochs: the epoch it ends after (a resumed run counts its old epochs).
        start_epoch: epochs already done (a resumed run), else 0.
        steps_per_epoch: optimizer batches per epoch.
        batch_size: samples per batch.
        nodes: node id → ``{"name", "label"}`` of every node with a layer module,
            and of each inner layer of a unit instance whose gradient norm is
            measured on its own (key ``<node id>.<module path>``, name
            ``<instance name>.<module path>`` as in the state dict).
        notes: remarks for the user (weights loaded, settings adjusted).
        monitor: the metric early stopping and ``best.pt`` watch.
        history: the epochs a resumed run already has (history rows).
        class_names: names of the classes, where the data has them.
        outputs: the trained ``Output`` nodes, one dict each: ``id``, ``name``,
            ``task``, ``suffix`` (what its metric names end with: ``""`` in a
            network with one Output, else ``"_<id>"``), ``weight``, ``loss``,
            ``num_classes``, ``class_names``.
        extra: the other facts the engine sends (sizes, dataset, parameters).
    """

    task: str = "classification"
    device: str = ""
    epochs: int = 1
    start_epoch: int = 0
    steps_per_epoch: int = 1
    batch_size: int = 1
    nodes: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    monitor: str | None = None
    history: list = field(default_factory=list)
    class_names: list | None = None
    outputs: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def per_output(self) -> list[dict]:
        """The outputs whose metrics carry a suffix (none in a network with one Output)."""
        return [o for o in self.outputs if isinstance(o, dict) and o.get("suffix")]

    def name_of(self, node_id: str | None) -> str | None:
        """The layer name of a node id (the id itself when it has no layer)."""
        if node_id is None:
            return None
        return self.nodes.get(node_id, {}).get("name", node_id)


@dataclass
class Steps(_Payload):
    """The training steps done since the last batch.

    Attributes:
        steps: global step numbers, in order, none twice.
        losses: each step's training loss.
        epoch: the epoch being trained (1-based).
        step: the last global step done.
        lr: the learning rate when the batch was sent.
        lrs: the learning rate of each step, where the engine sends them.
        samples_per_s: training throughput over the epoch so far.
        train_accuracy: the epoch's running accuracy (classification).
        train_mae: the epoch's running mean absolute error (regression).
        extra: the other step metrics the engine sends.
    """

    steps: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    epoch: int = 1
    step: int = 0
    lr: float | None = None
    lrs: list | None = None
    samples_per_s: float | None = None
    train_accuracy: float | None = None
    train_mae: float | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class Epoch(_Payload):
    """An epoch's metrics, after validation.

    Attributes:
        epoch: the epoch number (1-based).
        step: its last global step (where validation is drawn on the loss plot).
        train_loss: the epoch's mean training loss (beside ``val_loss``: the gap).
        val_loss: validation loss.
        train_accuracy, val_accuracy: fractions in [0, 1] (classification).
        train_mae, val_mae: mean absolute errors (regression).
        lr: the learning rate at the epoch's end.
        grad_norms: gradient norm per layer, keyed by the layer's *name*.
        best: the best monitored value so far (``{"epoch", "value", ...}``).
        diagnosis: the findings so far (dicts: ``kind``, ``message``,
            ``suggestion``, maybe ``node``), as in the run's end.
        confusion: the validation confusion matrix (classification).
        outputs: per-output metrics of a network with several trained
            Outputs: output id → its metrics by their plain names
            (``{"cls": {"val_loss": …, "val_accuracy": …}}``); in a history
            row they are flat, with the output's suffix (``val_accuracy_cls``).
        samples: a teacher-forced sequence-to-sequence run's greedy decodes of
            a few fixed validation samples (``[{"input", "target",
            "prediction": [token ids], "correct": bool}]``); None for others.
        extra: the other metrics of the epoch.
    """

    epoch: int = 0
    step: int | None = None
    train_loss: float | None = None
    val_loss: float | None = None
    train_accuracy: float | None = None
    val_accuracy: float | None = None
    train_mae: float | None = None
    val_mae: float | None = None
    lr: float | None = None
    grad_norms: dict | None = None
    best: dict | None = None
    diagnosis: list = field(default_factory=list)
    confusion: list | None = None
    outputs: dict | None = None
    samples: list | None = None
    extra: dict = field(default_factory=dict)

    def row(self) -> dict:
        """The epoch as a history row: its metrics, without the findings and matrix,
        each output's metrics flat under their suffixed names (as the engine's rows)."""
        row = {k: v for k, v in self.to_plain().items()
               if k not in ("diagnosis", "confusion", "outputs", "samples")}
        for oid, metrics in (self.outputs or {}).items():
            row.update({output_key(k, oid): v for k, v in metrics.items()})
        return row

    @classmethod
    def from_row(cls, row: dict, output_ids=()) -> Epoch:
        """An epoch from a history row (the engine's, or a run folder's), its
        suffixed metrics of ``output_ids`` gathered into :attr:`outputs`.

        Raises:
            ProtocolError: not a row (not a dict).
        """
        if not isinstance(row, dict):
            raise ProtocolError(f"an Epoch payload is a dict, got {type(row).__name__}")
        flat, outputs = split_outputs(row, output_ids)
        e = cls.from_plain(flat)
        if outputs:
            e.outputs = outputs
        return e


#: How per-output metric names begin (``val_accuracy_<id>``): a suffixed key
#: of another kind (``dead_by_node``) is never taken for an output's metric.
_PER_OUTPUT_PREFIXES = ("train_", "val_")


def output_key(metric: str, output_id: str) -> str:
    """The name of an output's metric in history rows, the CLI and the CSV export
    (``val_accuracy`` of ``cls`` → ``val_accuracy_cls``)."""
    return f"{metric}_{output_id}"


def split_outputs(row: dict, output_ids) -> tuple[dict, dict]:
    """``row`` without the metrics of ``output_ids``, and those metrics by output.

    The longest id is tried first, so ``val_loss_a_b`` belongs to ``a_b``, not ``b``.

    Returns:
        ``(rest, {output id: {plain metric name: value}})``.
    """
    ids = sorted({str(i) for i in output_ids}, key=len, reverse=True)
    rest, outputs = {}, {}
    for key, value in row.items():
        for oid in ids:
            tail = f"_{oid}"
            base = key[:-len(tail)] if key.endswith(tail) else ""
            if base.startswith(_PER_OUTPUT_PREFIXES) and base not in _PER_OUTPUT_PREFIXES:
                outputs.setdefault(oid, {})[base] = value
                break
        else:
            rest[key] = value
    return rest, outputs


@dataclass
class Points(_Payload):
    """The data points of a 2-D classification run (numpy arrays)."""

    x: Any = None
    y: Any = None
    labels: Any = None
    num_classes: int | None = None


@dataclass
class Grid(_Payload):
    """Class probabilities over a square grid of the data's extent (decision map).

    Attributes:
        probabilities: ``(G, G, C)`` softmax or ``(G, G)`` sigmoid; row 0 is y min.
        extent: ``(x_min, x_max, y_min, y_max)``.
    """

    probabilities: Any = None
    extent: tuple = ()


@dataclass
class Histogram(_Payload):
    """A histogram of the watched node's output.

    Attributes:
        node: the node id.
        quantity: ``"activations"`` or ``"gradients"``.
        edges: bin edges (one more than ``counts``).
        counts: values per bin.
    """

    node: str = ""
    quantity: str = "activations"
    edges: Any = None
    counts: Any = None


@dataclass
class Paused(_Payload):
    """The child has applied a pause (True) or a resume (False)."""

    paused: bool = False


@dataclass
class Refused(_Payload):
    """The run could not start; ``message`` says why, naming the block where one is at fault."""

    message: str = ""


def result_to_plain(result: RunResult) -> dict:
    """A :class:`RunResult` as plain data (its fault as a dict)."""
    return asdict(result)


def result_from_plain(data: dict) -> RunResult:
    """The :class:`RunResult` that :func:`result_to_plain` gave.

    Raises:
        ProtocolError: not the plain form of a result.
    """
    from .faults import Fault
    from .result import RunResult

    if not isinstance(data, dict):
        raise ProtocolError(f"a RunResult payload is a dict, got {type(data).__name__}")
    d = dict(data)
    if d.get("fault") is not None:
        d["fault"] = Fault(**d["fault"])
    try:
        return RunResult(**d)
    except TypeError as exc:
        raise ProtocolError(f"bad RunResult payload: {exc}") from None


#: The payload type of each kind (RUN_END's, :class:`RunResult`, is converted
#: by :func:`result_to_plain` / :func:`result_from_plain`).
PAYLOADS: dict[Kind, type] = {
    Kind.RUN_START: RunStart, Kind.POINTS: Points, Kind.STEPS: Steps, Kind.EPOCH: Epoch,
    Kind.GRID: Grid, Kind.HISTOGRAM: Histogram, Kind.PAUSED: Paused, Kind.REFUSED: Refused,
}


def kind_of(name: str) -> Kind:
    """The :class:`Kind` named ``name``.

    Raises:
        ProtocolError: no event has that name.
    """
    try:
        return Kind(name)
    except ValueError:
        raise ProtocolError(f"unknown training event {name!r}; events are "
                            f"{', '.join(k.value for k in Kind)}") from None


def encode(kind: str, payload) -> tuple[str, dict]:
    """An event as plain data, to cross a process boundary (or be written as JSON).

    Raises:
        ProtocolError: unknown kind, or a payload of another kind's type.
    """
    kind = kind_of(kind)
    if kind is Kind.RUN_END:
        from .result import RunResult

        if not isinstance(payload, RunResult):
            raise ProtocolError(f"a run_end event carries a RunResult, got "
                                f"{type(payload).__name__}")
        return kind.value, result_to_plain(payload)
    want = PAYLOADS[kind]
    if not isinstance(payload, want):
        raise ProtocolError(f"a {kind.value} event carries a {want.__name__}, got "
                            f"{type(payload).__name__}")
    return kind.value, payload.to_plain()


def decode(kind: str, data) -> tuple[Kind, Any]:
    """The event that :func:`encode` gave: ``(Kind, payload object)``.

    Raises:
        ProtocolError: unknown kind or a payload that is not its kind's.
    """
    kind = kind_of(kind)
    if kind is Kind.RUN_END:
        return kind, result_from_plain(data)
    return kind, PAYLOADS[kind].from_plain(data)


def __getattr__(name: str):
    # RunResult lives with the engine's results (it imports torch through
    # Fault): loaded when first asked for, so the window can import the kinds
    if name == "RunResult":
        from .result import RunResult

        return RunResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
