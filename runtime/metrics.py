"""Metrics measured while training, kept on the training device until read.

- :class:`TrainMeter` keeps the epoch's running training accuracy or MAE on
  the device, scored a few times per second from the outputs the steps kept;
- :class:`ValMeter` accumulates validation loss, accuracy, confusion counts
  (classification) or absolute/squared errors (regression) as device tensors;
  :meth:`ValMeter.read` is the one host read-back per validation.
- :class:`GradNorms` maps parameters to graph nodes and measures each node's
  gradient norm (one ``_foreach_norm`` and one read-back per epoch).
- :class:`DeadUnitProbe` hooks the layers whose block spec says their units
  can die (``dead_units``: ReLU, ReLU6) during validation and counts the
  units (output elements) that are never positive on any sample.
- :func:`write_csv` writes the per-epoch history as ``metrics.csv``.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

import torch
from torch import nn

from graph.blocks import registry

from .targets import TargetPlan


def can_die(layer: nn.Module) -> bool:
    """Whether ``layer``'s block spec says its units can die (``dead_units``).

    The generated code builds each block's layer from the class named after
    the block type (``nn.ReLU``, or a helper class such as ``BipolarReLU``),
    so the class name finds the spec; a unit's class is named after the unit,
    which never shadows a block type.
    """
    spec = registry.get(type(layer).__name__)
    return spec is not None and spec.dead_units


class ValMeter:
    """Validation sums on the device, read once at the end."""

    def __init__(self, plan: TargetPlan, device: torch.device):
        self.plan = plan
        z = lambda dt=torch.float64: torch.zeros((), dtype=dt, device=device)  # noqa: E731
        self.loss_sum, self.samples = z(), 0
        if plan.classification:
            self.correct, self.preds = z(torch.long), 0
            self.k = max(plan.num_classes, plan.out_sample_shape[-1] if plan.out_sample_shape else 2)
            self.conf = torch.zeros(plan.num_classes * self.k, dtype=torch.long, device=device)
        else:
            self.abs_sum, self.sq_sum, self.values = z(), z(), 0

    def add(self, out: torch.Tensor, loss: torch.Tensor, target: torch.Tensor,
            labels: torch.Tensor | None) -> None:
        n = out.shape[0]
        self.loss_sum += loss.detach().double() * n
        self.samples += n
        if self.plan.classification:
            pred = self.plan.predict(out)
            lab = labels.reshape(-1).long()
            # a negative label is the loss's ignore_index (a masked-token task scores
            # only the masked positions): not scored, and without a host sync
            keep = lab >= 0
            self.correct += ((pred == lab) & keep).sum()
            self.preds += keep.sum()
            self.conf.index_add_(0, torch.where(keep, lab * self.k + pred, 0), keep.long())
        else:
            diff = out.detach().double().reshape(n, -1) - target.double().reshape(n, -1)
            self.abs_sum += diff.abs().sum()
            self.sq_sum += diff.square().sum()
            self.values += diff.numel()

    def read(self) -> dict:
        """``{"val_loss", "val_accuracy", "confusion"}`` or ``{"val_loss", "val_mae", "val_rmse"}``."""
        if not self.samples:
            return {}
        out = {"val_loss": self.loss_sum.item() / self.samples}
        if self.plan.classification:
            out["val_accuracy"] = self.correct.item() / max(1, int(self.preds))
            c = self.plan.num_classes
            out["confusion"] = self.conf.reshape(c, self.k)[:, :c].tolist()
        else:
            out["val_mae"] = self.abs_sum.item() / max(1, self.values)
            out["val_rmse"] = math.sqrt(self.sq_sum.item() / max(1, self.values))
        return out


class TrainMeter:
    """The epoch's running training accuracy (classification) or MAE, at almost no
    per-step cost: the step only keeps its (detached) output in :attr:`outs`;
    :meth:`flush` scores the kept outputs in one go on the device, against the
    targets of the same stretch of the epoch's permutation.

    Args:
        targets: class labels (classification) or the loss targets (regression).
        offset: samples of the epoch already scored (a resumed epoch).
        pending: the stopped epoch's saved counts, or None.
    """

    #: Output values kept before a flush (bounds the memory held between reports).
    KEEP = 4_000_000

    def __init__(self, plan, targets: torch.Tensor, perm: torch.Tensor, device, offset: int,
                 pending: dict | None, batch_size: int):
        self.plan, self.targets, self.perm = plan, targets, perm
        self.cls = plan.classification
        self.key = "train_accuracy" if self.cls else "train_mae"
        self.outs: list[torch.Tensor] = []
        per = 1
        for d in plan.out_sample_shape:
            per *= int(d) if isinstance(d, int) else 1
        self.cap = max(1, self.KEEP // max(1, per * batch_size))
        self.done = offset
        dt = torch.long if self.cls else torch.float64
        self.total = torch.zeros((), dtype=dt, device=device)
        self.count = 0
        # negative labels are ignore_index (masked-token targets): read once, here
        self.ignored = self.cls and targets.numel() > 0 and bool((targets < 0).any())
        if pending is not None:
            self.total += torch.as_tensor(pending["meter_total"]).to(device=device, dtype=dt)
            self.count = int(pending["meter_count"])

    def flush(self) -> None:
        if not self.outs:
            return
        out = torch.cat(self.outs) if len(self.outs) > 1 else self.outs[0]
        self.outs.clear()
        tgt = self.targets[self.perm[self.done:self.done + len(out)]]
        self.done += len(out)
        if self.cls:
            lab = tgt.reshape(-1)
            if self.ignored:
                keep = lab >= 0
                self.count += int(keep.sum())
                self.total += ((self.plan.predict(out) == lab) & keep).sum()
            else:
                self.count += lab.numel()
                self.total += (self.plan.predict(out) == lab).sum()
        else:
            k = len(out)
            diff = out.double().reshape(k, -1) - tgt.double().reshape(k, -1)
            self.count += diff.numel()
            self.total += diff.abs().sum()

    def read(self) -> float | None:
        """The running value (one host read)."""
        self.flush()
        return self.total.item() / self.count if self.count else None

    def state(self) -> dict:
        """The counts so far, for a partial checkpoint (tensors stay on the device)."""
        return {"meter_total": self.total, "meter_count": self.count}


def per_class_accuracy(confusion: list[list[int]]) -> list[float | None]:
    """Recall per class from a confusion matrix (rows: true class)."""
    return [row[i] / sum(row) if sum(row) else None for i, row in enumerate(confusion)]


def _is_unit(mod: nn.Module) -> bool:
    """Whether ``mod`` is a unit instance: a class of the generated source that
    is neither torch's nor a block's helper class (a unit's class is named after
    the unit, which never shadows a block type) and holds layers, or a repeat's
    ``nn.Sequential`` of such."""
    if type(mod) is nn.Sequential:
        return any(_is_unit(c) for c in mod.children())
    return (not type(mod).__module__.startswith("torch")
            and registry.get(type(mod).__name__) is None
            and any(True for _ in mod.children()))


def _layers(nid: str, mod: nn.Module) -> list[tuple[str, nn.Module, bool]]:
    """The layers to measure one by one under a node, as (key, module, whether
    its submodules' parameters count too): the node itself, or for a unit
    instance each inner module that owns parameters (``body.3.conv``), so a
    deep stack of repeated units shows where along its depth gradients fade."""
    if not _is_unit(mod):
        return [(nid, mod, True)]
    return [(f"{nid}.{path}", sub, False) for path, sub in mod.named_modules()
            if path and any(True for _ in sub.parameters(recurse=False))]


class GradNorms:
    """Gradient L2 norm per graph node; a unit instance is measured per inner
    layer (keys ``<node id>.<module path>``, in forward order).

    Attributes:
        nodes: the keys, in forward order.
        inner: key → ``{"name", "label"}`` of each inner layer of a unit
            instance: its name is its state-dict prefix (``body.3.conv``: the
            instance's name, as on the canvas and in the code, then the module
            path), its label for messages the same.  The engine sends them
            with the nodes' own names, so every view of the norms (plots, run
            files, metrics.csv, diagnosis) shows that name.

    Args:
        model: the model (not a compiled wrapper).
        attrs: node id → attribute name of the node's layer.
    """

    def __init__(self, model: nn.Module, attrs: dict[str, str]):
        self.nodes: list[str] = []
        self.inner: dict[str, dict[str, str]] = {}
        self.params: list[nn.Parameter] = []
        self.owner: list[int] = []
        for nid, attr in attrs.items():
            mod = getattr(model, attr, None)
            if not isinstance(mod, nn.Module):
                continue
            for key, layer, deep in _layers(nid, mod):
                ps = [p for p in layer.parameters(recurse=deep) if p.requires_grad]
                if ps:
                    self.nodes.append(key)
                    if key != nid:
                        name = attr + key[len(nid):]
                        self.inner[key] = {"name": name, "label": name}
                    self.params.extend(ps)
                    self.owner.extend([len(self.nodes) - 1] * len(ps))
        self._index = None

    def measure(self) -> torch.Tensor | None:
        """Per-node norms as one device tensor (read it later, once)."""
        grads = [p.grad for p in self.params]
        if not grads or any(g is None for g in grads):
            keep = [(i, g) for i, g in zip(self.owner, grads) if g is not None]
            if not keep:
                return None
            owner, grads = [i for i, _ in keep], [g for _, g in keep]
        else:
            owner = self.owner
        sq = torch.stack(torch._foreach_norm(grads)).float().square()
        if self._index is None or self._index.numel() != len(owner) or self._index.device != sq.device:
            self._index = torch.tensor(owner, device=sq.device)
        total = torch.zeros(len(self.nodes), device=sq.device).index_add_(0, self._index, sq)
        return total.sqrt()

    def read(self, norms: torch.Tensor | None) -> dict[str, float]:
        if norms is None:
            return {}
        return dict(zip(self.nodes, norms.tolist()))


class DeadUnitProbe:
    """Counts the output units of ReLU-like layers (:func:`can_die`) never
    positive over a validation pass.

    Use as a context manager around validation; :meth:`read` gives the
    fraction of dead units per node and overall.

    Args:
        model: the generated model.
        attrs: node id → the node's layer attribute in ``model``.
    """

    def __init__(self, model: nn.Module, attrs: dict[str, str]):
        self.mods = {nid: getattr(model, a) for nid, a in attrs.items()
                     if can_die(getattr(model, a, None))}
        self.alive: dict[str, torch.Tensor] = {}
        self._handles = []

    def __enter__(self):
        self.alive = {}
        for nid, mod in self.mods.items():
            self._handles.append(mod.register_forward_hook(self._hook(nid)))
        return self

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        self._handles = []

    def _hook(self, nid: str):
        def hook(module, args, out):
            if isinstance(out, torch.Tensor) and out.dim() >= 1:
                seen = (out.detach() > 0).any(dim=0)
                prev = self.alive.get(nid)
                self.alive[nid] = seen if prev is None or prev.shape != seen.shape else prev | seen
        return hook

    def read(self) -> tuple[float | None, dict[str, float]]:
        """(overall dead fraction or None without such layers, per-node dead fraction)."""
        if not self.alive:
            return None, {}
        counts = torch.stack([torch.stack([(~a).sum(), torch.tensor(a.numel(), device=a.device)])
                              for a in self.alive.values()]).tolist()
        per = {nid: dead / total for nid, (dead, total) in zip(self.alive, counts)}
        dead = sum(d for d, _ in counts)
        total = sum(t for _, t in counts)
        return dead / total, per


CSV_FIELDS = ("epoch", "train_loss", "train_accuracy", "train_mae", "val_loss", "val_accuracy", "val_mae",
              "val_rmse", "lr", "seconds", "samples_per_s", "dead_fraction")


def write_csv(path: str | os.PathLike, history: list[dict], node_names: dict[str, str]) -> None:
    """Write the per-epoch history (one row per epoch) atomically.

    Columns: the scalar metrics present, then ``grad_norm:<node name>`` per node.
    """
    fields = [f for f in CSV_FIELDS if any(row.get(f) is not None for row in history)]
    # each trained output's own metrics in a network with several Outputs (val_loss_<id>,
    # val_accuracy_<id>, ...), after the common ones
    for row in history:
        for k, v in row.items():
            if k not in fields and isinstance(v, (int, float)) and not isinstance(v, bool) \
                    and any(k.startswith(f + "_") for f in CSV_FIELDS):
                fields.append(k)
    nodes = []
    for row in history:
        for nid in row.get("grad_norms", {}):
            if nid not in nodes:
                nodes.append(nid)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(fields + [f"grad_norm:{node_names.get(n, n)}" for n in nodes])
    for row in history:
        w.writerow([_cell(row.get(f)) for f in fields]
                   + [_cell(row.get("grad_norms", {}).get(n)) for n in nodes])
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    os.replace(tmp, path)


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)
