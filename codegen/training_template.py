"""The text of the standalone training script, with ``__PLACEHOLDERS__``.

:func:`codegen.training_script.render` fills the placeholders (one pass, with
``repr`` literals for every value) and inserts NetCanvas's own dataset code
where ``__DATA_CODE__`` stands.  The script needs torch and numpy; scikit-learn
only for its bundled datasets (and, when installed, for the same stratified
split as the app); Pillow only for an image folder.
"""

TEMPLATE = r'''"""Train __CLASS__ (written by NetCanvas; needs torch and numpy).

    python __SCRIPT__ --epochs 10 --device auto --out runs
    torchrun --nproc_per_node 4 __SCRIPT__        # several GPUs (DDP)

The dataset code below is NetCanvas's own, so the same seed gives the same
samples and the same training/validation split as in the app (the split is
stratified when scikit-learn is installed, as in the app).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import json
import math
import os
import sys
import types
import warnings
import zipfile
import zlib
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
#: The dataset file or folder (relative paths resolved against the project's folder).
DATA_PATH = __DATA_PATH__
CONFIG = __CONFIG__
#: Losses whose target is a class index per prediction.
INDEX_LOSSES = ("CrossEntropyLoss", "NLLLoss", "MultiMarginLoss")


def load_model_class():
    spec = importlib.util.spec_from_file_location("exported_model", MODEL_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, MODEL_CLASS)


# ------------------------------------------------------------------ datasets
class DatasetError(Exception):
    """A dataset cannot be loaded; the message says why."""


class Dataset:
    """The split arrays (X_train, y_train, X_val, y_val, task, num_classes, ...)."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


def _plain_split(idx, test_size, random_state, shuffle=True, stratify=None):
    """scikit-learn's unstratified train_test_split, for when it is not installed."""
    perm = np.random.RandomState(random_state).permutation(len(idx))
    return idx[perm[test_size:]], idx[perm[:test_size]]


try:
    import sklearn.model_selection  # noqa: F401  (finish() splits with it, as the app does)
except ImportError:
    sys.modules["sklearn"] = types.ModuleType("sklearn")
    sys.modules["sklearn.model_selection"] = types.SimpleNamespace(train_test_split=_plain_split)


# ------------------------------------------- NetCanvas's dataset code, unchanged
__DATA_CODE__


__LOAD_DATA__


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
        self.per_step = kind in ("OneCycleLR", "CyclicLR")

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


def as_tensors(X, y, task):
    if INPUT_DTYPE == "int64":
        X = torch.as_tensor(X, dtype=torch.int64)
    else:
        X = torch.as_tensor(np.asarray(X, dtype=np.float32))
        if all(isinstance(d, int) for d in INPUT_SHAPE) and X[0].numel() == math.prod(INPUT_SHAPE):
            X = X.reshape(len(X), *INPUT_SHAPE)
    y = torch.as_tensor(y, dtype=torch.int64 if task == "classification" else torch.float32)
    return X, y


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
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)

    try:
        data = load_data(args.data, args.seed)
    except DatasetError as exc:
        raise SystemExit(f"error: {exc}") from None
    task = CONFIG.get("task") or data.task
    X_train, y_train = as_tensors(data.X_train, data.y_train, task)
    X_val, y_val = as_tensors(data.X_val, data.y_val, task)

    model = load_model_class()().to(device)
    loss_cfg = dict(CONFIG.get("loss") or {"type": "CrossEntropyLoss" if task == "classification" else "MSELoss"})
    loss_name = loss_cfg["type"]
    loss_fn = make_loss(loss_cfg, device)
    with torch.no_grad():
        model.eval()
        targets = Targets(loss_name, task, model(X_train[:2].to(device)), y_train)
    y_train, y_val = targets.convert(y_train), targets.convert(y_val)
    train_set = TensorDataset(X_train, y_train)
    val_set = TensorDataset(X_val, y_val)
    sampler = DistributedSampler(train_set, seed=args.seed) if distributed else None
    # a last batch of one sample is dropped (BatchNorm cannot train on it)
    per_rank = len(sampler) if sampler is not None else len(train_set)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=sampler is None,
                              sampler=sampler, generator=torch.Generator().manual_seed(args.seed),
                              drop_last=per_rank % args.batch_size == 1)
    val_loader = DataLoader(val_set, batch_size=args.batch_size)

    net = nn.parallel.DistributedDataParallel(model) if distributed else model
    opt_cfg = dict(CONFIG.get("optimizer") or {"type": "Adam", "lr": 1e-3})
    if args.lr is not None:
        opt_cfg["lr"] = args.lr
    opt_cfg = {k: (tuple(v) if isinstance(v, list) else v) for k, v in opt_cfg.items()}
    optimizer = build(opt_cfg.pop("type"), opt_cfg, torch.optim, model.parameters())
    accum = CONFIG.get("grad_accum_steps", 1)
    schedule = Schedule(optimizer, CONFIG.get("scheduler"), args.epochs,
                        math.ceil(len(train_loader) / accum))
    clip = CONFIG.get("grad_clip_norm")
    l1 = CONFIG.get("l1", 0.0)

    best = math.inf
    log = open(out_dir / "metrics.csv", "w", newline="") if rank == 0 else None
    writer = csv.writer(log) if log else None
    if writer:
        writer.writerow(["epoch", "train_loss", "val_loss", "val_metric", "lr"])
    for epoch in range(1, args.epochs + 1):
        if sampler is not None:
            sampler.set_epoch(epoch)
        net.train()
        seen = torch.zeros(2, dtype=torch.float64, device=device)  # loss sum, samples
        for step, (xb, yb) in enumerate(train_loader):
            xb, yb = xb.to(device), yb.to(device)
            out, yv = targets.view(net(xb), yb)
            loss = loss_fn(out, yv)
            seen += torch.stack([loss.detach().double() * len(xb),
                                 torch.tensor(float(len(xb)), device=device)])
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
        val_loss, metric, n, preds = 0.0, 0.0, 0, 0
        with torch.no_grad():
            for xb, yb in val_loader:
                xb, yb = xb.to(device), yb.to(device)
                out = model(xb)
                val_loss += loss_fn(*targets.view(out, yb)).item() * len(xb)
                if targets.classification:
                    right, count = targets.correct(out, yb)
                    metric, preds = metric + right, preds + count
                else:
                    metric += (out - yb.view_as(out)).abs().mean().item() * len(xb)
                n += len(xb)
        val_loss = val_loss / max(n, 1)
        metric = metric / max(preds if targets.classification else n, 1)
        schedule.step_epoch(val_loss)
        if rank == 0:
            lr = optimizer.param_groups[0]["lr"]
            writer.writerow([epoch, train_loss, val_loss, metric, lr])
            log.flush()
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                     "epoch": epoch}
            save(state, out_dir / "last.pt")
            if val_loss < best:
                best = val_loss
                save(state, out_dir / "best.pt")
            name = "val_accuracy" if targets.classification else "val_mae"
            print(json.dumps({"epochs": epoch, "train_loss": train_loss,
                              "val_loss": val_loss, name: metric}), flush=True)
    if log:
        log.close()
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
'''

#: ``load_data`` for a built-in set: mirrors runtime/data/loader.py.
LOAD_BUILTIN = r'''#: The built-in sets: default size, task, classes and options (runtime/data/catalog.py).
BUILTIN = __BUILTIN__
REAL = __REAL__


def load_builtin(ds, seed, vf):
    """A built-in set, generated (or read from scikit-learn) and split as in the app."""
    name = ds["name"]
    info = BUILTIN[name]
    if ds.get("target") == "input":  # an autoencoder: the input is the target
        inner = load_builtin({k: v for k, v in ds.items() if k != "target"}, seed, vf)
        X = np.concatenate([inner.X_train, inner.X_val])
        return finish(name, "regression", X, X.copy(), seed=seed, val_fraction=vf,
                      description=name)
    rng = np.random.default_rng(seed)
    n = ds.get("n", info["n"])
    opts = {k: ds.get(k, d) for k, d in info["options"].items()}
    if name in REAL:
        X, y, names = real(name, rng, n if "n" in ds else None)
        return finish(name, info["task"], X, y, seed=seed, val_fraction=vf, description=name,
                      num_classes=len(names), class_names=names, standardise=name != "digits")
    X, y = GENERATORS[name](rng, n, **opts)
    k = opts.get("vocab", opts.get("classes", info["num_classes"]))
    classification = info["task"] == "classification"
    return finish(name, info["task"], X, y, seed=seed, val_fraction=vf, description=name,
                  num_classes=k if classification else None)


def load_data(path, seed):
    """The configured dataset, split into training and validation parts."""
    ds = CONFIG.get("dataset") or {"name": "digits"}
    return load_builtin(ds, seed, ds.get("val_fraction", 0.2))'''

#: ``load_data`` for a CSV file, an ``.npz`` file or an image folder.
LOAD_FILE = r'''def load_data(path, seed):
    """The configured dataset file, read and split as in the app."""
    ds = CONFIG["dataset"]
    vf, task = ds.get("val_fraction", 0.2), ds.get("task")
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path} does not exist; give its place with --data PATH")
    kind = __KIND__
    if kind == "csv":
        X, y, task, names, desc = read_csv(path, ds.get("target"), task)
        return finish(path.name, task, X, y, seed=seed, val_fraction=vf, description=desc,
                      num_classes=len(names) if names else None, class_names=names,
                      standardise=True)
    if kind == "npz":
        X, y, task, k, names, desc = read_npz(path, task)
        return finish(path.name, task, X, y, seed=seed, val_fraction=vf, description=desc,
                      num_classes=k, class_names=names)
    size = ds.get("size")
    X, y, names, desc = read_image_folder(path, tuple(size) if size else None)
    return finish(path.name, "classification", X, y, seed=seed, val_fraction=vf,
                  description=desc, num_classes=len(names), class_names=names)'''
