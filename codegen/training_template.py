"""The text of the standalone training script, with ``__PLACEHOLDERS__``.

:func:`codegen.training_script.render` fills the placeholders (one pass, with
``repr`` literals for every value) and inserts NetCanvas's own dataset code
where ``__DATA_CODE__`` stands: the public reader of :mod:`runtime.data` for
the project's source, copied with what it uses.  ``__NEEDS__`` and
``__PIP__`` name the packages the script imports: torch and numpy; also
scikit-learn for the sets read from its bundled files, Pillow for an image
folder.  ``__AUGMENT_CODE__`` is NetCanvas's augmentation
(:func:`runtime.augment.augment_batch` and its generator, copied verbatim)
when the settings ask for it, else nothing.  ``__INPUTS__`` and ``__OUTPUTS__``
are the network's Inputs (id, shape, dtype) and Output ids in the model's order.  ``__INDEX_LOSSES__`` and ``__PER_STEP__`` come from the one registry
of training names, :mod:`graph.training_names`.
"""

TEMPLATE = r'''"""Train __CLASS__ (written by NetCanvas; needs __NEEDS__).

    pip install __PIP__
    python __SCRIPT__ --epochs 10 --device auto --out runs
    torchrun --nproc_per_node 4 __SCRIPT__        # several GPUs (DDP)

The dataset code below is NetCanvas's own (its public dataset reader, copied
with what it uses), so the same seed gives the same samples and the same
training/validation split as in the app.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import math
import os
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

HERE = Path(__file__).resolve().parent
MODEL_FILE = HERE / __MODEL_FILE__
MODEL_CLASS = __CLASS_REPR__
INPUT_SHAPE = __INPUT_SHAPE__
INPUT_DTYPE = __INPUT_DTYPE__
#: The network's Inputs (id, sample shape, dtype), in the order the model takes them.
INPUTS = __INPUTS__
#: The network's Output ids, in the order the model returns them.
OUTPUTS = __OUTPUTS__
#: The dataset file or folder (relative paths resolved against the project's folder).
DATA_PATH = __DATA_PATH__
CONFIG = __CONFIG__
#: Losses whose target is a class index per prediction.
INDEX_LOSSES = __INDEX_LOSSES__
#: Schedules that advance once per optimizer step rather than per epoch.
PER_STEP = __PER_STEP__


def load_model_class():
    spec = importlib.util.spec_from_file_location("exported_model", MODEL_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, MODEL_CLASS)


# ------------------------------------------------------------------ datasets
class DatasetError(Exception):
    """A dataset cannot be loaded; the message says why."""


class Dataset:
    """The split arrays and what they are: the fields of NetCanvas's
    ``runtime.data.Dataset`` (X_train, y_train, X_val, y_val, task, num_classes, ...)."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


class NodeDataset(Dataset):
    """A dataset with arrays by node id, as NetCanvas's ``NodeDataset``: ``inputs``
    (Input id -> (train, val) arrays) and ``targets`` (Output id -> TargetArrays)."""

    def input_dtype_of(self, input_id):
        return "int64" if self.inputs[input_id][0].dtype == np.int64 else "float32"


class TargetArrays:
    """One Output's split targets, as NetCanvas's ``TargetArrays``."""

    def __init__(self, task, train, val, num_classes=None, class_names=None):
        self.task, self.train, self.val = task, train, val
        self.num_classes, self.class_names = num_classes, class_names

    @property
    def shape(self):
        return tuple(self.train.shape[1:])


# ------------------------------- NetCanvas's dataset code (runtime/data), copied verbatim
__DATA_CODE__


__LOAD_DATA__
__AUGMENT_CODE__

# ------------------------------------------------------------------ training
def build(name, kwargs, namespace, *args):
    return getattr(namespace, name)(*args, **kwargs)


def make_loss(cfg, device):
    kwargs = {k: v for k, v in cfg.items() if k != "type"}
    for k in ("weight", "pos_weight"):
        if isinstance(kwargs.get(k), list):
            kwargs[k] = torch.tensor(kwargs[k], dtype=torch.float32, device=device)
    if cfg["type"] == "KLDivLoss":
        kwargs.setdefault("reduction", "batchmean")
    return build(cfg["type"], kwargs, nn)


class Schedule:
    """The learning-rate schedule, ticked after each optimizer step and each epoch."""

    def __init__(self, opt, cfg, epochs, steps):
        self.scheduler, self.per_step, self.warmup, self.warm_steps = None, False, None, 0
        self.steps = 0
        if not cfg:
            return
        kind = cfg["type"]
        kw = {k: (tuple(v) if isinstance(v, list) and k != "milestones" else v)
              for k, v in cfg.items() if k not in ("type", "then")}
        if kind == "LinearWarmup":
            inner = Schedule(opt, cfg.get("then"), epochs, steps)
            self.scheduler, self.per_step = inner.scheduler, inner.per_step
            self.warm_steps = max(1, kw.get("warmup_steps", 100))
            self.warmup = torch.optim.lr_scheduler.LambdaLR(
                opt, lambda s: min(1.0, (s + 1) / self.warm_steps))
            return
        if kind == "InverseTimeDecay":
            decay = kw.get("decay", 1.0)
            self.scheduler = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1 / (1 + decay * e))
            return
        if kind == "CosineAnnealingLR":
            kw.setdefault("T_max", epochs)
        elif kind == "OneCycleLR":
            kw.setdefault("max_lr", opt.param_groups[0]["lr"])
            if "epochs" not in kw and "steps_per_epoch" not in kw:
                kw.setdefault("total_steps", max(1, epochs * steps))
        elif kind == "ReduceLROnPlateau":
            kw.setdefault("factor", 0.5)
        self.scheduler = build(kind, kw, torch.optim.lr_scheduler, opt)
        self.per_step = kind in PER_STEP

    def step_batch(self):
        if self.warmup is not None and self.steps < self.warm_steps:
            self.steps += 1
            if self.steps < self.warm_steps:
                self.warmup.step()
        elif self.scheduler is not None and self.per_step:
            self.scheduler.step()

    def step_epoch(self, val_loss):
        if self.scheduler is None or self.per_step or self.steps < self.warm_steps:
            return
        if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            self.scheduler.step(val_loss)
        else:
            self.scheduler.step()


class Targets:
    """How targets meet the model's output and the loss (as in NetCanvas's engine)."""

    def __init__(self, loss_name, task, out, y):
        o, ys = tuple(out.shape[1:]), tuple(y.shape[1:])
        self.classification = task == "classification"
        if not self.classification:
            self.kind = "value"
        elif loss_name in INDEX_LOSSES:
            self.kind = "index"
        elif loss_name == "BCEWithLogitsLoss" and (o in ((), (1,)) or o == ys):
            self.kind = "binary"
        else:
            self.kind = "onehot"
        self.flatten = self.classification and self.kind != "binary" and len(o) > 1
        self.out_shape = o

    def convert(self, y):
        """The whole target tensor as the loss takes it (done once)."""
        if self.kind == "index":
            return y.long()
        if self.kind == "onehot":
            return nn.functional.one_hot(y.long(), self.out_shape[-1]).float()
        return y.float().reshape((y.shape[0],) + self.out_shape)

    def view(self, out, y):
        if self.flatten:
            y = y.reshape(-1) if self.kind == "index" else y.reshape(-1, y.shape[-1])
            return out.reshape(-1, out.shape[-1]), y
        return out, y

    def correct(self, out, y):
        """(right predictions, predictions) of a batch; y as given by convert()."""
        if self.kind == "binary":
            pred, want = (out > 0).long().reshape(-1), y.long().reshape(-1)
        else:
            pred = out.argmax(-1).reshape(-1)
            want = y.reshape(-1) if self.kind == "index" else y.argmax(-1).reshape(-1)
        return (pred == want).sum().item(), pred.numel()


def as_input(X, shape=INPUT_SHAPE, dtype=INPUT_DTYPE):
    """One Input's samples as the model takes them."""
    if dtype == "int64":
        return torch.as_tensor(X, dtype=torch.int64)
    X = torch.as_tensor(np.asarray(X, dtype=np.float32))
    if all(isinstance(d, int) for d in shape) and X[0].numel() == math.prod(shape):
        X = X.reshape(len(X), *shape)
    return X


def as_target(y, task):
    """One Output's targets: class indices or values."""
    return torch.as_tensor(y, dtype=torch.int64 if task == "classification" else torch.float32)


def as_tensors(X, y, task):
    return as_input(X), as_target(y, task)


def loss_config(output_id, task):
    """The loss of one Output: its own (a loss per Output id), the one loss, or the
    task's default (as in NetCanvas's engine)."""
    loss = CONFIG.get("loss") or {}
    if "type" not in loss:  # {OUTPUT_ID: loss}
        loss = loss.get(output_id) or {}
    return dict(loss or {"type": "CrossEntropyLoss" if task == "classification" else "MSELoss"})


def node_arrays(data):
    """``[(train, val)]`` per Input and ``[(Output id, TargetArrays)]`` of a dataset, as
    the engine pairs them with the network's Inputs and Outputs."""
    if getattr(data, "inputs", None):  # one array per Input and per Output
        missing = [i for i, _s, _d in INPUTS if i not in data.inputs]
        if missing:
            raise DatasetError(f"dataset {data.name!r} has no array for the Input(s) "
                               f"{', '.join(missing)} (it has X_ arrays for "
                               f"{', '.join(data.inputs) or 'none'})")
        ys = [(o, data.targets[o]) for o in OUTPUTS if o in data.targets]
        if not ys:
            raise DatasetError(f"dataset {data.name!r} has targets for none of the "
                               f"network's Outputs ({', '.join(OUTPUTS)})")
        return [data.inputs[i] for i, _s, _d in INPUTS], ys
    if len(INPUTS) != 1 or len(OUTPUTS) != 1:
        raise DatasetError(
            f"the network has {len(INPUTS)} Input(s) and {len(OUTPUTS)} Output(s), but dataset "
            f"{data.name!r} gives one input array and one target array; train it on an .npz "
            "file with one array per Input and per Output (X_<input id>, y_<output id>)")
    return [(data.X_train, data.X_val)], [(OUTPUTS[0], TargetArrays(
        data.task, data.y_train, data.y_val, data.num_classes, data.class_names))]


class EpochOrder(torch.utils.data.Sampler):
    """Each epoch's order of the training samples as NetCanvas draws it: one
    ``torch.randperm`` from a generator on the device, seeded once with the seed
    (so one process trains on the app's batches)."""

    def __init__(self, n, seed, device):
        self.n = n
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(seed)

    def __len__(self):
        return self.n

    def __iter__(self):
        perm = torch.randperm(self.n, generator=self.generator, device=self.generator.device)
        return iter(perm.tolist())


class Head:
    """One trained Output: where it is in the model's result, how its targets meet
    its loss, its loss and weight, and its metrics' suffix."""

    def __init__(self, output_id, index, targets, loss_fn, weight, suffix):
        self.id, self.index, self.targets = output_id, index, targets
        self.loss_fn, self.weight, self.suffix = loss_fn, weight, suffix

    def output(self, res):
        return res if self.index is None else res[self.index]


def heads_loss(heads, res, ys):
    """The weighted sum of the heads' losses (as in NetCanvas's engine)."""
    total = None
    for h, y in zip(heads, ys):
        loss = h.loss_fn(*h.targets.view(h.output(res), y))
        if h.weight != 1.0:
            loss = loss * h.weight
        total = loss if total is None else total + loss
    return total


def save(obj, path):
    tmp = Path(str(path) + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)  # a crash never leaves a half-written checkpoint


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=CONFIG.get("epochs", 10))
    parser.add_argument("--lr", type=float, default=None, help="override the learning rate")
    parser.add_argument("--batch-size", type=int, default=CONFIG.get("batch_size", 64))
    parser.add_argument("--device", default=CONFIG.get("device", "auto"))
    parser.add_argument("--out", default="runs", help="folder for metrics and checkpoints")
    parser.add_argument("--seed", type=int, default=CONFIG.get("seed", 0))
    parser.add_argument("--data", default=DATA_PATH, help="the dataset file or folder "
                        f"(default: {DATA_PATH})" if DATA_PATH else argparse.SUPPRESS)
    args = parser.parse_args()

    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank = int(os.environ.get("RANK", "0"))
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if distributed:
        dist.init_process_group("nccl" if args.device == "cuda" else "gloo")
        if args.device == "cuda":
            local = int(os.environ.get("LOCAL_RANK", "0"))
            torch.cuda.set_device(local)
            args.device = f"cuda:{local}"
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    # training.augment: training batches only, drawn from their own seeded generator
    augment = CONFIG.get("augment") or None
    augment_gen = augment_generator(args.seed, device) if augment else None
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)

    try:
        data = load_data(args.data, args.seed)
        xs, ys = node_arrays(data)
    except DatasetError as exc:
        raise SystemExit(f"error: {exc}") from None
    X_train = [as_input(tr, shape, dt) for (tr, _va), (_i, shape, dt) in zip(xs, INPUTS)]
    X_val = [as_input(va, shape, dt) for (_tr, va), (_i, shape, dt) in zip(xs, INPUTS)]

    model = load_model_class()().to(device)
    with torch.no_grad():
        model.eval()
        res = model(*[x[:2].to(device) for x in X_train])
    # one head per Output with targets; with several Outputs the model returns a
    # tuple in OUTPUTS' order, and each head's metrics carry its id
    heads, Y_train, Y_val = [], [], []
    weights = CONFIG.get("loss_weights") or {}
    for oid, tg in ys:
        task = CONFIG.get("task") or tg.task
        loss_cfg = loss_config(oid, task)
        index = OUTPUTS.index(oid) if len(OUTPUTS) > 1 else None
        y_tr, y_va = as_target(tg.train, task), as_target(tg.val, task)
        targets = Targets(loss_cfg["type"], task, res if index is None else res[index], y_tr)
        heads.append(Head(oid, index, targets, make_loss(loss_cfg, device),
                          float(weights.get(oid, 1.0)), f"_{oid}" if len(OUTPUTS) > 1 else ""))
        Y_train.append(targets.convert(y_tr))
        Y_val.append(targets.convert(y_va))
    n_in = len(X_train)
    train_set = TensorDataset(*X_train, *Y_train)
    val_set = TensorDataset(*X_val, *Y_val)
    sampler = DistributedSampler(train_set, seed=args.seed) if distributed else None
    # a last batch of one sample is dropped (BatchNorm cannot train on it)
    per_rank = len(sampler) if sampler is not None else len(train_set)
    order = sampler or EpochOrder(len(train_set), args.seed, device)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, sampler=order,
                              generator=torch.Generator().manual_seed(args.seed),
                              drop_last=per_rank % args.batch_size == 1)
    val_loader = DataLoader(val_set, batch_size=args.batch_size)

    net = nn.parallel.DistributedDataParallel(model) if distributed else model
    opt_cfg = dict(CONFIG.get("optimizer") or {"type": "Adam", "lr": 1e-3})
    if args.lr is not None:
        opt_cfg["lr"] = args.lr
    opt_cfg = {k: (tuple(v) if isinstance(v, list) else v) for k, v in opt_cfg.items()}
    # Blocks frozen in NetCanvas have requires_grad False (set in the model's
    # __init__): they stay out of the optimizer, so weight decay cannot move them.
    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = build(opt_cfg.pop("type"), opt_cfg, torch.optim, trained)
    accum = CONFIG.get("grad_accum_steps", 1)
    schedule = Schedule(optimizer, CONFIG.get("scheduler"), args.epochs,
                        math.ceil(len(train_loader) / accum))
    clip = CONFIG.get("grad_clip_norm")
    l1 = CONFIG.get("l1", 0.0)

    best = math.inf
    log = open(out_dir / "metrics.csv", "w", newline="") if rank == 0 else None
    writer = csv.writer(log) if log else None
    names = [("val_accuracy" if h.targets.classification else "val_mae") + h.suffix
             for h in heads]
    if writer:
        metric_columns = ["val_metric"] if len(heads) == 1 and not heads[0].suffix else names
        writer.writerow(["epoch", "train_loss", "val_loss", *metric_columns, "lr"])
    for epoch in range(1, args.epochs + 1):
        if sampler is not None:
            sampler.set_epoch(epoch)
        net.train()
        seen = torch.zeros(2, dtype=torch.float64, device=device)  # loss sum, samples
        for step, batch in enumerate(train_loader):
            batch = [t.to(device) for t in batch]
            xb, yb = batch[:n_in], batch[n_in:]
            if augment:
                xb = [augment_batch(x, augment, augment_gen) for x in xb]
            loss = heads_loss(heads, net(*xb), yb)
            size = len(xb[0])
            seen += torch.stack([loss.detach().double() * size,
                                 torch.tensor(float(size), device=device)])
            if l1:
                loss = loss + l1 * sum(p.abs().sum() for p in model.parameters())
            (loss / accum).backward()
            if (step + 1) % accum == 0 or step + 1 == len(train_loader):
                if clip:
                    nn.utils.clip_grad_norm_(model.parameters(), clip)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                schedule.step_batch()
        if distributed:
            dist.all_reduce(seen)  # the mean training loss over every rank's samples
        train_loss = (seen[0] / seen[1].clamp(min=1)).item()
        net.eval()
        # per head: loss sum, metric sum, predictions counted
        sums = [[0.0, 0.0, 0] for _h in heads]
        n = 0
        with torch.no_grad():
            for batch in val_loader:
                batch = [t.to(device) for t in batch]
                xb, yb = batch[:n_in], batch[n_in:]
                res = model(*xb)
                size = len(xb[0])
                for h, y, acc in zip(heads, yb, sums):
                    out = h.output(res)
                    acc[0] += h.loss_fn(*h.targets.view(out, y)).item() * size
                    if h.targets.classification:
                        right, count = h.targets.correct(out, y)
                        acc[1], acc[2] = acc[1] + right, acc[2] + count
                    else:
                        acc[1] += (out - y.view_as(out)).abs().mean().item() * size
                n += size
        head_losses = [acc[0] / max(n, 1) for acc in sums]
        # the weighted sum of the heads' losses, as the training loss
        val_loss = sum(h.weight * v for h, v in zip(heads, head_losses))
        metrics = [acc[1] / max(acc[2] if h.targets.classification else n, 1)
                   for h, acc in zip(heads, sums)]
        schedule.step_epoch(val_loss)
        if rank == 0:
            lr = optimizer.param_groups[0]["lr"]
            writer.writerow([epoch, train_loss, val_loss, *metrics, lr])
            log.flush()
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                     "epoch": epoch}
            save(state, out_dir / "last.pt")
            if val_loss < best:
                best = val_loss
                save(state, out_dir / "best.pt")
            line = {"epochs": epoch, "train_loss": train_loss, "val_loss": val_loss}
            line.update(zip(names, metrics))
            print(json.dumps(line), flush=True)
    if log:
        log.close()
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
'''

#: ``load_data`` for a built-in set: its settings are :func:`builtin`'s arguments.
LOAD_BUILTIN = r'''def load_data(path, seed):
    """The configured built-in dataset, made and split as in the app."""
    ds = dict(CONFIG.get("dataset") or {"name": "digits"})
    ds.pop("task", None)  # a built-in set has its own (the settings check said so)
    vf = ds.pop("val_fraction", 0.2)
    return builtin(ds.pop("name"), seed=seed, val_fraction=vf, **ds)'''

#: ``load_data`` for a CSV file, an ``.npz`` file or an image folder: the
#: reader's own arguments (``__OPTIONS__``) come from the settings.
LOAD_NPZ = r'''def load_data(path, seed):
    """The configured .npz file, read and split as in the app: with arrays named by
    node (X_<input id>, y_<output id>) one per Input and per Output, else X and y."""
    ds = CONFIG["dataset"]
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path} does not exist; give its place with --data PATH")
    if holds_node_arrays(path):
        return load_node_arrays({**ds, "npz": str(path)}, None, seed,
                                [i for i, _s, _d in INPUTS], list(OUTPUTS), CONFIG.get("task"))
    options = {k: ds[k] for k in __OPTIONS__ if k in ds}
    return __READER__(path, seed=seed, val_fraction=ds.get("val_fraction", 0.2), **options)'''

LOAD_FILE = r'''def load_data(path, seed):
    """The configured dataset file, read and split as in the app."""
    ds = CONFIG["dataset"]
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path} does not exist; give its place with --data PATH")
    options = {k: ds[k] for k in __OPTIONS__ if k in ds}
    return __READER__(path, seed=seed, val_fraction=ds.get("val_fraction", 0.2), **options)'''
