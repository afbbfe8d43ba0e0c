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
class Setup:
    """Model, data and target handling, ready on the training device.

    Attributes:
        labels: node id → ``Type "name"`` for messages.
        names: node id → node name.
        X, Y, L: training inputs, loss targets, class labels (None when ``Y``
            itself holds the labels or for regression); ``Xv``, ``Yv``, ``Lv`` likewise
            for validation.
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


def _load_dataset(config: TrainConfig, base_dir):
    if config.dataset is None:
        raise ConfigError('no dataset is chosen; set e.g. {"name": "digits"}', "dataset")
    from .data import load_dataset

    return load_dataset(config.dataset, Path(base_dir) if base_dir else None, seed=config.seed)


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

    from .data import check_fits

    device = resolve_device(config.device)
    ds = dataset if dataset is not None else _load_dataset(config, base_dir)
    task = config.task or ds.task
    if task == "classification" and ds.task != "classification":
        raise DataMismatchError(f"the task is classification but dataset {ds.name!r} holds "
                                "regression targets; set task to \"regression\"")
    ins = [n for n in graph.nodes.values() if n.spec and n.spec.role == "input"]
    outs = [n for n in graph.nodes.values() if n.spec and n.spec.role == "output"]
    if len(ins) != 1 or len(outs) != 1:
        raise TrainingError(f"training needs exactly one Input and one Output block; the "
                            f"network has {len(ins)} Input(s) and {len(outs)} Output(s)")
    inp = ins[0]
    p = {**inp.spec.defaults(), **inp.params}
    shape, dtype = p["shape"], p["dtype"]
    problem = check_fits(ds, tuple(shape), dtype)
    if problem:
        raise DataMismatchError(f'{inp.label()}: {problem}')
    _check_memory(graph, training, config, device, len(ds.X_train))
    loss_spec = config.loss or default_loss(task)
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

    x_dt = torch.long if dtype == "int64" else torch.float32
    X, Xv = put(ds.X_train, x_dt), put(ds.X_val, x_dt)
    Yraw = torch.as_tensor(ds.y_train).to(device)
    Yvraw = torch.as_tensor(ds.y_val).to(device)
    if len(X) == 0:
        raise DataMismatchError(f"dataset {ds.name!r} has no training samples")
    model.eval()
    try:
        with torch.no_grad():
            out = model(X[:2])
    except Exception as exc:  # an error inside a layer, shown with its node
        raise TrainingError(exception_fault(exc, code.attrs, labels, "a first test pass").message
                            ) from None
    model.train()
    feeder = graph.in_edges(outs[0].id)
    out_label = labels[feeder[0].source] if feeder else "the output"
    plan = plan_targets(out, tuple(Yraw.shape[1:]), loss_spec["type"], task,
                        ds.num_classes, out_label)
    Y, Yv = plan.loss_targets(Yraw), plan.loss_targets(Yvraw)
    L = Lv = None
    if plan.classification and plan.kind != "index":
        L, Lv = Yraw.long(), Yvraw.long()
    return Setup(device, ds, task, loss_spec, model, code, plan, labels, names,
                 X, Y, L, Xv, Yv, Lv)
