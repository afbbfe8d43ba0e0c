"""What the engine builds before the first step, and the checks that go with it.

:func:`build_setup` resolves the device, loads the dataset, checks that it
fits the graph's ``Input`` (naming both shapes) and that one training step
fits in the device's memory (:func:`runtime.memory.memory_refusal`, before
anything is allocated), builds the model from the
generated code, moves data and model to the device, and runs one small
forward pass to decide how outputs meet targets (:mod:`runtime.targets`).
Every refusal is a :class:`~runtime.errors.TrainingError` with a message for
a person, raised before any training starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .config import TrainConfig
from .errors import ConfigError, DataMismatchError, TooLargeError, TrainingError
from .faults import exception_fault
from .optim import default_loss
from .targets import TargetPlan, plan_targets


def resolve_device(name: str) -> torch.device:
    """``"auto"`` → cuda, else mps, else cpu; an unavailable device is a ConfigError."""
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if name == "cuda" and not cuda:
        raise ConfigError("CUDA was asked for but no CUDA GPU is available; use \"auto\" or "
                          "\"cpu\"", "device")
    if name == "mps" and not mps:
        raise ConfigError("MPS (Apple GPU) was asked for but is not available; use \"auto\" "
                          "or \"cpu\"", "device")
    return torch.device(name)


@dataclass
class Head:
    """One ``Output`` trained against its targets.

    Attributes:
        output_id: the ``Output`` node's id.
        index: its place in the model's tuple of outputs (None: the model
            returns one tensor).
        task: ``"classification"`` or ``"regression"``.
        plan: how its output meets its targets.
        loss_spec: its loss (``{"type": …, …}``).
        weight: its loss's weight in the sum (``loss_weights``).
        suffix: what its metric names end with: ``""`` in a network with one
            ``Output`` (``val_accuracy``), else ``"_<output id>"``.
        num_classes, class_names: of its targets (classification).
        Y, L, Yv, Lv: loss targets and class labels (None when ``Y`` holds the
            labels, or for regression), for training and validation.
    """

    output_id: str
    index: int | None
    task: str
    plan: TargetPlan
    loss_spec: dict
    weight: float
    suffix: str
    num_classes: int | None
    class_names: list | None
    Y: torch.Tensor
    L: torch.Tensor | None
    Yv: torch.Tensor
    Lv: torch.Tensor | None

    def output(self, out):
        """This head's tensor from the model's output(s)."""
        return out if self.index is None else out[self.index]


@dataclass
class Setup:
    """Model, data and target handling, ready on the training device.

    Attributes:
        labels: node id → ``Type "name"`` for messages.
        names: node id → node name.
        inputs: the ``Input`` ids, in the model's argument order.
        Xs, Xvs: training and validation inputs, one tensor per ``Input``.
        heads: the ``Output`` nodes with targets, in node order.
        X, Y, L: the first input, loss targets and class labels (None when
            ``Y`` itself holds the labels or for regression); ``Xv``, ``Yv``,
            ``Lv`` likewise for validation; ``task``, ``loss_spec`` and ``plan``
            are the first head's too (a network with one Input and one Output
            has only these).
    """

    device: torch.device
    dataset: object
    task: str
    loss_spec: dict
    model: nn.Module
    code: object
    plan: TargetPlan
    labels: dict
    names: dict
    X: torch.Tensor
    Y: torch.Tensor
    L: torch.Tensor | None
    Xv: torch.Tensor
    Yv: torch.Tensor
    Lv: torch.Tensor | None
    inputs: list[str]
    Xs: list[torch.Tensor]
    Xvs: list[torch.Tensor]
    heads: list[Head]

    @property
    def several(self) -> bool:
        """More than one input or trained output (the general step, not the
        one-tensor fast path)."""
        h = self.heads[0]
        return len(self.Xs) > 1 or len(self.heads) > 1 or h.index is not None or h.weight != 1.0


def _load_dataset(config: TrainConfig, base_dir, input_ids: list[str],
                  output_ids: list[str]):
    if config.dataset is None:
        raise ConfigError('no dataset is chosen; set e.g. {"name": "digits"}', "dataset")
    from .data import load_dataset

    base = Path(base_dir) if base_dir else None
    spec = config.dataset
    if "npz" in spec and isinstance(spec["npz"], str):
        from .data.node_arrays import holds_node_arrays, load_node_arrays

        path = Path(spec["npz"])
        path = base / path if base is not None and not path.is_absolute() else path
        if holds_node_arrays(path):
            return load_node_arrays(spec, base, config.seed, input_ids, output_ids,
                                    config.task)
    return load_dataset(spec, base, seed=config.seed)


def _arrays(ds, ins: list, outs: list) -> tuple[list, list]:
    """``[(Input node, train, val, shape, dtype)]`` and ``[(Output id, TargetArrays-like)]``
    of a dataset, checked against the network's Inputs and Outputs."""
    from .data.node_arrays import NodeDataset, TargetArrays

    if isinstance(ds, NodeDataset):
        missing = [n.id for n in ins if n.id not in ds.inputs]
        if missing:
            raise DataMismatchError(f"dataset {ds.name!r} has no array for the Input(s) "
                                    f"{', '.join(missing)} (it has X_ arrays for "
                                    f"{', '.join(ds.inputs) or 'none'})")
        xs = [(n, *ds.inputs[n.id], tuple(ds.inputs[n.id][0].shape[1:]),
               ds.input_dtype_of(n.id)) for n in ins]
        ys = [(o.id, ds.targets[o.id]) for o in outs if o.id in ds.targets]
        if not ys and len(outs) == 1 and len(ds.targets) == 1:
            # one target, one Output: it is that Output's, whatever its id
            # (as the dataset check in the editor reads it)
            ys = [(outs[0].id, next(iter(ds.targets.values())))]
        if not ys:
            raise DataMismatchError(f"dataset {ds.name!r} has targets for none of the "
                                    f"network's Outputs ({', '.join(o.id for o in outs)})")
        return xs, ys
    if len(ins) != 1 or len(outs) != 1:
        raise TrainingError(
            f"the network has {len(ins)} Input(s) and {len(outs)} Output(s), but dataset "
            f"{ds.name!r} gives one input array and one target array; train it on an .npz "
            "file with one array per Input and per Output (X_<input id>, y_<output id>)")
    xs = [(ins[0], ds.X_train, ds.X_val, tuple(ds.input_shape), ds.input_dtype)]
    return xs, [(outs[0].id, TargetArrays(ds.task, ds.y_train, ds.y_val, ds.num_classes,
                                          ds.class_names))]


def _check_memory(graph, training: dict | None, config: TrainConfig, device: torch.device,
                  n_train: int) -> None:
    """Refuse a model whose training step will not fit in the device's memory,
    before anything is allocated (an invalid graph is left to the code generator,
    which names its errors)."""
    from graph.analysis import Analyzer

    from .memory import device_memory, memory_refusal

    an = Analyzer(graph, training, memory=None).refresh()  # the device's memory is checked here
    try:
        if not an.valid():
            return
        amp = bool(config.amp) and device.type == "cuda"  # the engine's rule (engine._amp)
        found = memory_refusal(an, max(1, min(config.batch_size, n_train)), config.optimizer,
                               amp, device_memory(str(device)), str(device))
    finally:
        an.close()
    if found is not None:
        raise TooLargeError(*found)


def build_setup(graph, config: TrainConfig, name: str, training: dict | None,
                dataset=None, base_dir=None) -> Setup:
    """Check everything and build the model and device tensors.

    Args:
        graph: the network (:class:`graph.Graph`).
        config: parsed training settings.
        name: the project name (the model's class name comes from it).
        training: the raw training dict (for the code generator's checks).
        dataset: an already loaded dataset, or None to load ``config.dataset``.
        base_dir: folder for relative dataset paths (the project's).

    Raises:
        TrainingError: with the reason (a ConfigError, DataMismatchError,
            DatasetError, or an invalid graph).
    """
    from codegen import CodegenError, build_model
    from graph.dataset_info import input_fit

    device = resolve_device(config.device)
    ins = graph.ends("input")
    outs = graph.ends("output")
    if not ins or not outs:
        raise TrainingError(f"training needs at least one Input and one Output block; the "
                            f"network has {len(ins)} Input(s) and {len(outs)} Output(s)")
    ds = dataset if dataset is not None else _load_dataset(
        config, base_dir, [n.id for n in ins], [n.id for n in outs])
    xs, ys = _arrays(ds, ins, outs)
    for _oid, tg in ys:
        if config.task == "classification" and tg.task != "classification":
            raise DataMismatchError(f"the task is classification but dataset {ds.name!r} "
                                    "holds regression targets; set task to \"regression\"")
    for inp, _tr, _va, shape, dtype in xs:
        p = {**inp.spec.defaults(), **inp.params}
        problem = input_fit(shape, dtype, ds.name, p["shape"], p["dtype"])
        if problem:
            raise DataMismatchError(f'{inp.label()}: {problem}')
    _check_memory(graph, training, config, device, len(xs[0][1]))
    torch.manual_seed(config.seed)
    try:
        model, code = build_model(graph, name, training)
    except CodegenError as exc:
        raise TrainingError(str(exc)) from None
    model.to(device)
    labels = {nid: n.label() for nid, n in graph.nodes.items()}
    names = {nid: n.name for nid, n in graph.nodes.items()}

    def put(a, dt):
        return torch.as_tensor(a).to(device=device, dtype=dt)

    Xs, Xvs = [], []
    for inp, tr, va, _shape, _dtype in xs:
        x_dt = torch.long if ({**inp.spec.defaults(), **inp.params}["dtype"] == "int64") \
            else torch.float32
        Xs.append(put(tr, x_dt))
        Xvs.append(put(va, x_dt))
    if len(Xs[0]) == 0:
        raise DataMismatchError(f"dataset {ds.name!r} has no training samples")
    model.eval()
    try:
        with torch.no_grad():
            out = model(*[x[:2] for x in Xs])
    except Exception as exc:  # an error inside a layer, shown with its node
        raise TrainingError(exception_fault(exc, code.attrs, labels, "a first test pass").message
                            ) from None
    model.train()
    order = [o.id for o in outs]
    heads = []
    for oid, tg in ys:
        task = config.task or tg.task
        loss_spec = (config.losses or {}).get(oid) or config.loss or default_loss(task)
        index = None if len(outs) == 1 else order.index(oid)
        feeder = graph.in_edges(oid)
        out_label = labels[feeder[0].source] if feeder else f"Output {oid!r}"
        Yraw = torch.as_tensor(tg.train).to(device)
        Yvraw = torch.as_tensor(tg.val).to(device)
        plan = plan_targets(out if index is None else out[index], tuple(Yraw.shape[1:]),
                            loss_spec["type"], task, tg.num_classes, out_label)
        L = Lv = None
        if plan.classification and plan.kind != "index":
            L, Lv = Yraw.long(), Yvraw.long()
        heads.append(Head(oid, index, task, plan, loss_spec,
                          float((config.loss_weights or {}).get(oid, 1.0)),
                          "" if len(outs) == 1 else f"_{oid}", tg.num_classes, tg.class_names,
                          plan.loss_targets(Yraw), L, plan.loss_targets(Yvraw), Lv))
    h = heads[0]
    return Setup(device, ds, h.task, h.loss_spec, model, code, h.plan, labels, names,
                 Xs[0], h.Y, h.L, Xvs[0], h.Yv, h.Lv, [n.id for n, *_ in xs], Xs, Xvs, heads)
