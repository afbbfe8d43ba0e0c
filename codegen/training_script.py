"""The standalone training script written next to an exported model.

:func:`render` fills :data:`TEMPLATE` with the model file's name, the class
name, the input's sample shape and the project's ``training`` section (as a
Python literal made with ``pprint``, so user text appears only as ``repr``).
The script needs torch, numpy and (for digits/iris/wine/breast_cancer)
scikit-learn; it never imports NetCanvas.  Built-in synthetic datasets are
re-implemented here with numpy (the same kind of data as the app's, not the
same samples).  With ``torchrun`` (``WORLD_SIZE`` > 1) it trains with
``DistributedDataParallel`` and a ``DistributedSampler``.
"""

from __future__ import annotations

import math
import pprint
import re

from .errors import CodegenError

TEMPLATE = r'''"""Train __CLASS__ (written by NetCanvas; needs torch, numpy, scikit-learn).

    python __SCRIPT__ --epochs 10 --device auto --out runs
    torchrun --nproc_per_node 4 __SCRIPT__        # several GPUs (DDP)
"""

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
CONFIG = __CONFIG__

CLASSIFICATION = {"digits", "iris", "wine", "breast_cancer", "spirals", "moons",
                  "circles", "xor", "majority_token"}


def load_model_class():
    spec = importlib.util.spec_from_file_location("exported_model", MODEL_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, MODEL_CLASS)


# ----------------------------------------------------------------- datasets
def builtin(name, n, noise, rng, ds):
    if name in ("digits", "iris", "wine", "breast_cancer"):
        from sklearn import datasets

        bunch = getattr(datasets, "load_" + name)()
        X, y = bunch.data.astype(np.float32), bunch.target.astype(np.int64)
        if name == "digits":
            return X / 16.0, y
        return (X - X.mean(0)) / (X.std(0) + 1e-8), y
    if name == "spirals":
        k = rng.integers(0, 2, n)
        t = rng.uniform(0.25, 1.0, n) * 3 * math.pi
        X = np.stack([t * np.cos(t + k * math.pi), t * np.sin(t + k * math.pi)], 1) / 10
        return X + rng.normal(0, noise, X.shape), k
    if name == "moons":
        k = rng.integers(0, 2, n)
        t = rng.uniform(0, math.pi, n)
        X = np.stack([np.cos(t) + k * (1 - 2 * np.cos(t)) + k,
                      np.sin(t) * (1 - 2 * k) + k * 0.5 - 0.25], 1)
        return X + rng.normal(0, noise, X.shape), k
    if name == "circles":
        k = rng.integers(0, 2, n)
        t = rng.uniform(0, 2 * math.pi, n)
        r = np.where(k == 1, 0.5, 1.0)
        X = np.stack([r * np.cos(t), r * np.sin(t)], 1)
        return X + rng.normal(0, noise, X.shape), k
    if name == "xor":
        X = rng.uniform(-1, 1, (n, 2))
        return X + rng.normal(0, noise, X.shape), ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)
    if name == "sine":
        X = rng.uniform(-math.pi, math.pi, (n, 1))
        return X, np.sin(X) + rng.normal(0, noise, X.shape)
    if name == "adding":
        T = int(ds.get("length", 50))
        X = np.zeros((n, T, 2))
        X[:, :, 0] = rng.uniform(0, 1, (n, T))
        for i in range(n):
            X[i, rng.choice(T, 2, replace=False), 1] = 1
        return X, (X[:, :, 0] * X[:, :, 1]).sum(1, keepdims=True)
    if name == "majority_token":
        T, vocab = int(ds.get("length", 20)), int(ds.get("vocab", 10))
        X = rng.integers(0, vocab, (n, T))
        return X, np.array([np.bincount(row, minlength=vocab).argmax() for row in X])
    raise SystemExit(f"unknown built-in dataset {name!r}")


def read_csv(path, target):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or target not in rows[0]:
        raise SystemExit(f"{path}: no column {target!r}")
    labels = [r.pop(target) for r in rows]
    X = np.array([[float(v) for v in r.values()] for r in rows], dtype=np.float32)
    X = (X - X.mean(0)) / (X.std(0) + 1e-8)
    try:
        return X, np.array([float(v) for v in labels])
    except ValueError:
        names = sorted(set(labels))
        return X, np.array([names.index(v) for v in labels])


def read_images(folder, size):
    from PIL import Image  # only this kind of dataset needs Pillow

    classes = sorted(p.name for p in Path(folder).iterdir() if p.is_dir())
    X, y = [], []
    for k, c in enumerate(classes):
        for f in sorted((Path(folder) / c).iterdir()):
            img = Image.open(f).convert("RGB").resize(tuple(size[::-1]))
            X.append(np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0)
            y.append(k)
    return np.stack(X), np.array(y)


def load_data(ds, seed):
    """Arrays X, y and whether the task is classification."""
    rng = np.random.default_rng(seed)
    root = HERE
    if "csv" in ds:
        X, y = read_csv(root / ds["csv"], ds["target"])
    elif "npz" in ds:
        with np.load(root / ds["npz"], allow_pickle=False) as data:
            X, y = data["X"], data["y"]
    elif "image_folder" in ds:
        X, y = read_images(root / ds["image_folder"], ds.get("size", [32, 32]))
    else:
        name = ds.get("name", "digits")
        X, y = builtin(name, int(ds.get("n", 1000)), float(ds.get("noise", 0.1)), rng, ds)
    task = CONFIG.get("task") or ("classification" if np.issubdtype(np.asarray(y).dtype, np.integer) else "regression")
    if INPUT_DTYPE == "int64":
        X = torch.as_tensor(X, dtype=torch.int64)
    else:
        X = torch.as_tensor(np.asarray(X, dtype=np.float32))
        if all(isinstance(d, int) for d in INPUT_SHAPE) and X[0].numel() == math.prod(INPUT_SHAPE):
            X = X.reshape(len(X), *INPUT_SHAPE)
    y = torch.as_tensor(y, dtype=torch.int64 if task == "classification" else torch.float32)
    return X, y, task


# ------------------------------------------------------------------ training
def build(name, kwargs, namespace, *args):
    return getattr(namespace, name)(*args, **kwargs)


def make_scheduler(opt, cfg, epochs, steps):
    """The schedule and whether it steps per batch (else per epoch)."""
    if not cfg:
        return None, False
    kind = cfg["type"]
    kw = {k: v for k, v in cfg.items() if k not in ("type", "then")}
    if kind == "InverseTimeDecay":
        decay = kw.get("decay", 0.1)
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1 / (1 + decay * e)), False
    if kind == "LinearWarmup":
        warm = max(1, kw.get("warmup_steps", 100))
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm)), True
    if kind == "OneCycleLR":
        kw.setdefault("max_lr", opt.param_groups[0]["lr"])
        kw.setdefault("total_steps", epochs * steps)
        return torch.optim.lr_scheduler.OneCycleLR(opt, **kw), True
    if kind == "CosineAnnealingLR":
        kw.setdefault("T_max", epochs)
    if kind == "ReduceLROnPlateau":
        kw.setdefault("factor", 0.5)
    return build(kind, kw, torch.optim.lr_scheduler, opt), False


def targets_for(loss_name, y, out):
    if loss_name in ("CrossEntropyLoss", "NLLLoss", "MultiMarginLoss"):
        return y
    if y.dtype == torch.int64:  # class labels for a loss that wants one value per output
        if out.shape[-1] == 1:
            return y.float().view_as(out)
        return nn.functional.one_hot(y, out.shape[-1]).float()
    return y.view_as(out)


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

    ds = CONFIG.get("dataset") or {"name": "digits"}
    X, y, task = load_data(ds, args.seed)
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(args.seed))
    n_val = int(len(X) * ds.get("val_fraction", 0.2))
    train_set = TensorDataset(X[perm[n_val:]], y[perm[n_val:]])
    val_set = TensorDataset(X[perm[:n_val]], y[perm[:n_val]])
    sampler = DistributedSampler(train_set, seed=args.seed) if distributed else None
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=sampler is None,
                              sampler=sampler, generator=torch.Generator().manual_seed(args.seed))
    val_loader = DataLoader(val_set, batch_size=args.batch_size)

    model = load_model_class()().to(device)
    net = nn.parallel.DistributedDataParallel(model) if distributed else model
    loss_cfg = dict(CONFIG.get("loss") or {"type": "CrossEntropyLoss" if task == "classification" else "MSELoss"})
    loss_name = loss_cfg.pop("type")
    loss_fn = build(loss_name, loss_cfg, nn)
    opt_cfg = dict(CONFIG.get("optimizer") or {"type": "Adam", "lr": 1e-3})
    if args.lr is not None:
        opt_cfg["lr"] = args.lr
    optimizer = build(opt_cfg.pop("type"), opt_cfg, torch.optim, model.parameters())
    scheduler, per_step = make_scheduler(optimizer, CONFIG.get("scheduler"), args.epochs,
                                         len(train_loader))
    accum = CONFIG.get("grad_accum_steps", 1)
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
        total, count = 0.0, 0
        for step, (xb, yb) in enumerate(train_loader):
            xb, yb = xb.to(device), yb.to(device)
            out = net(xb)
            loss = loss_fn(out, targets_for(loss_name, yb, out))
            total += loss.item() * len(xb)
            count += len(xb)
            if l1:
                loss = loss + l1 * sum(p.abs().sum() for p in model.parameters())
            (loss / accum).backward()
            if (step + 1) % accum == 0 or step + 1 == len(train_loader):
                if clip:
                    nn.utils.clip_grad_norm_(model.parameters(), clip)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                if scheduler is not None and per_step:
                    scheduler.step()
        net.eval()
        val_loss, metric, n = 0.0, 0.0, 0
        with torch.no_grad():
            for xb, yb in val_loader:
                xb, yb = xb.to(device), yb.to(device)
                out = model(xb)
                val_loss += loss_fn(out, targets_for(loss_name, yb, out)).item() * len(xb)
                if task == "classification":
                    pred = out.argmax(-1) if out.shape[-1] > 1 else (out.view(-1) > 0).long()
                    metric += (pred == yb).sum().item()
                else:
                    metric += (out - yb.view_as(out)).abs().mean().item() * len(xb)
                n += len(xb)
        val_loss, metric = val_loss / max(n, 1), metric / max(n, 1)
        if scheduler is not None and not per_step:
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(val_loss)
            else:
                scheduler.step()
        if rank == 0:
            lr = optimizer.param_groups[0]["lr"]
            writer.writerow([epoch, total / max(count, 1), val_loss, metric, lr])
            log.flush()
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                     "epoch": epoch}
            save(state, out_dir / "last.pt")
            if val_loss < best:
                best = val_loss
                save(state, out_dir / "best.pt")
            name = "val_accuracy" if task == "classification" else "val_mae"
            print(json.dumps({"epochs": epoch, "train_loss": total / max(count, 1),
                              "val_loss": val_loss, name: metric}), flush=True)
    if log:
        log.close()
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
'''


def _literal(value, where: str = "training") -> str:
    """A Python literal for JSON data (refusing what has none, e.g. NaN)."""
    def check(v, at):
        if isinstance(v, float) and not math.isfinite(v):
            raise CodegenError(f"{at}: {v!r} cannot be written into the training script")
        if isinstance(v, dict):
            for k, x in v.items():
                if not isinstance(k, str):
                    raise CodegenError(f"{at}: key {k!r} is not a string")
                check(x, f"{at}.{k}")
        elif isinstance(v, (list, tuple)):
            for i, x in enumerate(v):
                check(x, f"{at}[{i}]")
        elif not isinstance(v, (str, int, float, bool, type(None))):
            raise CodegenError(f"{at}: a {type(v).__name__} cannot be written into the script")
    check(value, where)
    return pprint.pformat(value, width=88, sort_dicts=False)


def render(model_file: str, class_name: str, script_name: str, input_shape, input_dtype: str,
           training: dict | None) -> str:
    """The training script's source.

    Args:
        model_file: file name of the exported model, next to the script.
        class_name: the model class (a safe identifier).
        script_name: the script's own file name (for its usage text).
        input_shape: the first Input's sample shape (ints or size names).
        input_dtype: ``"float32"`` or ``"int64"``.
        training: the project's ``training`` section.

    Raises:
        CodegenError: the training section holds a value Python cannot write.
    """
    safe_doc = "".join(c for c in f"{script_name}" if c.isalnum() or c in "._-") or "train.py"
    fills = {
        "__MODEL_FILE__": repr(str(model_file)),
        "__CLASS_REPR__": repr(class_name),
        "__CLASS__": class_name,
        "__SCRIPT__": safe_doc,
        "__INPUT_SHAPE__": repr(tuple(input_shape)),
        "__INPUT_DTYPE__": repr(input_dtype),
        "__CONFIG__": _literal(dict(training or {})),
    }
    # one pass, so a filled-in value is never itself searched for placeholders
    src = re.sub("|".join(re.escape(k) for k in fills), lambda m: fills[m.group(0)], TEMPLATE)
    compile(src, script_name, "exec")  # a template bug must never ship a broken script
    return src
