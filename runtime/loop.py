"""The epoch and step loops of :class:`runtime.engine.Trainer`.

Kept apart from the trainer's set-up so the hot path reads top to bottom.
One training step: index a batch from the epoch's permutation, forward (under
autocast when AMP is on), loss (+ L1), backward (scaled for fp16), and every
``grad_accum_steps`` batches clip, step, zero the gradients and tick the
per-step schedule.  Per-node gradient norms are measured at the epoch's last
optimizer step only; dead ReLU units during validation only.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from .checkpoint import save_checkpoint
from .diagnose import diagnose
from .faults import Fault, exception_fault, is_oom, locate_nonfinite, oom_fault
from .metrics import DeadUnitProbe, GradNorms, ValMeter, per_class_accuracy

if TYPE_CHECKING:  # pragma: no cover
    from .engine import RunResult


class FaultStop(Exception):
    """Raised inside the loop to end the run with a fault."""

    def __init__(self, fault: Fault):
        super().__init__(fault.message)
        self.fault = fault


def _fault_of(t, exc: BaseException, where: str) -> Fault:
    if isinstance(exc, FaultStop):
        return exc.fault
    if is_oom(exc):
        return oom_fault(exc, t.config.batch_size, t.device)
    return exception_fault(exc, t.setup.code.attrs, t.setup.labels, where)


def run(t) -> RunResult:
    """Run a prepared :class:`~runtime.engine.Trainer` to its end; see its docs."""
    from .engine import RunResult

    s, c = t.setup, t.config
    t.grad_norms = GradNorms(t.model, s.code.attrs)
    info = {"device": str(t.device), "task": s.task, "epochs": c.epochs, "start_epoch": t.epoch,
            "steps_per_epoch": t.steps_per_epoch, "batch_size": c.batch_size,
            "train_samples": len(s.X), "val_samples": len(s.Xv), "dataset": s.dataset.name,
            "class_names": s.dataset.class_names, "num_classes": s.dataset.num_classes,
            "nodes": {nid: {"name": s.names[nid], "label": s.labels[nid]}
                      for nid in s.code.attrs},
            "monitor": t.monitor, "notes": list(t.notes), "history": list(t.history),
            "params": sum(p.numel() for p in t.model.parameters())}
    t.emit("on_run_start", info)
    stopped, fault, last_val, partial = "completed", None, {}, {}
    ckpts: dict = {}
    try:
        while t.epoch < c.epochs:
            if t.stopping:
                stopped = "stopped"
                break
            train = _train_epoch(t)
            if train.get("partial"):
                stopped, partial = "stopped", train
                break
            try:
                val = _validate(t)
            except Exception as exc:
                raise FaultStop(_fault_of(t, exc, "validation")) from exc
            if val is None:  # stopped during validation: the epoch is not counted
                stopped, partial = "stopped", train
                break
            t.epoch += 1
            t.schedule.step_epoch(val.get("val_loss"))
            row = {"epoch": t.epoch, **{k: v for k, v in train.items() if k != "partial"},
                   **{k: v for k, v in val.items() if k != "confusion"}}
            t.history.append(row)
            last_val = val
            if t.out_dir is not None:
                if t.improved(row.get(t.monitor)):
                    ckpts["best"] = str(save_checkpoint(t.out_dir / "best.pt",
                                                        t.checkpoint_state(False)))
                ckpts["last"] = str(save_checkpoint(t.out_dir / "last.pt",
                                                    t.checkpoint_state(False)))
            else:
                t.improved(row.get(t.monitor))
            t.emit("on_epoch_end", {**row, "confusion": val.get("confusion"),
                                    "epochs": c.epochs, "best": dict(t.best)})
            es = c.early_stopping
            if es and t.best["bad_epochs"] >= es["patience"]:
                stopped = "early_stopping"
                break
    except FaultStop as exc:
        stopped, fault = "error", exc.fault
    if stopped == "stopped" and t.out_dir is not None:
        ckpts["last"] = str(save_checkpoint(t.out_dir / "last.pt",
                                            t.checkpoint_state(bool(partial))))
    elif t.out_dir is not None and (t.out_dir / "best.pt").exists():
        ckpts.setdefault("best", str(t.out_dir / "best.pt"))
    metrics = dict(t.history[-1]) if t.history else {}
    if partial:
        metrics.update({k: v for k, v in partial.items() if k != "partial"})
    conf = last_val.get("confusion")
    found = diagnose(t.history, s.labels)
    result = RunResult(stopped=stopped, epochs=t.epoch, task=s.task, device=str(t.device),
                       metrics=metrics, history=list(t.history), step_losses=list(t.step_losses),
                       confusion=conf, class_names=s.dataset.class_names,
                       per_class_accuracy=per_class_accuracy(conf) if conf else None,
                       diagnosis=[f.to_json() for f in found], checkpoints=ckpts, fault=fault,
                       notes=list(t.notes))
    t.emit("on_run_end", result)
    return result


def _train_epoch(t) -> dict:
    s, c = t.setup, t.config
    model, fwd, crit, opt, plan = t.model, t.fwd, t.criterion, t.optimizer, s.plan
    X, Y, L = s.X, s.Y, s.L
    n, B, accum = len(X), c.batch_size, c.grad_accum_steps
    steps = t.steps_per_epoch
    sync = t.device.type == "cpu"  # reading a CPU scalar costs nothing: check every step
    flatten, cls = plan.flatten, plan.classification
    l1 = c.l1
    params = [p for p in model.parameters() if p.requires_grad]
    clip, scaler, autocast = c.grad_clip_norm, t.scaler, t.autocast
    model.train()
    perm = torch.randperm(n, generator=t.generator, device=t.device)
    acc = _Accuracy(plan, L if L is not None else Y, perm, t.device) if cls else None
    losses: list = []     # this epoch's step losses (floats on CPU, tensors elsewhere)
    sizes: list[int] = []
    reported = 0
    norms = None
    start = t.now()
    next_report = start + t.report_every
    paused = 0.0
    done = 0
    for i in range(steps):
        if t.stopping:
            break
        if t.paused:
            p0 = t.now()
            t._go.wait()
            paused += t.now() - p0
            if t.stopping:
                break
        idx = perm[i * B:(i + 1) * B]
        xb, yb = X[idx], Y[idx]
        try:
            if autocast is not None:
                with autocast():
                    out = fwd(xb)
                    loss = crit(*plan.loss_view(out, yb)) if flatten else crit(out, yb)
            else:
                out = fwd(xb)
                loss = crit(*plan.loss_view(out, yb)) if flatten else crit(out, yb)
            if l1:
                loss = loss + l1 * torch.stack([p.abs().sum() for p in params]).sum()
            if sync:
                lv = loss.item()
                if not math.isfinite(lv):
                    raise FaultStop(_nan_fault(t, lv, xb))
                losses.append(lv)
            else:
                losses.append(loss.detach())
            if cls:
                acc.outs.append(out.detach())
            if accum > 1:
                loss = loss / accum
            if scaler is not None:
                scaler.scale(loss).backward()
            else:
                loss.backward()
            if (i + 1) % accum == 0 or i == steps - 1:
                if scaler is not None and (clip or i == steps - 1):
                    scaler.unscale_(opt)
                if i >= steps - accum:
                    norms = t.grad_norms.measure()
                if clip:
                    torch.nn.utils.clip_grad_norm_(params, clip)
                if scaler is not None:
                    scaler.step(opt)
                    scaler.update()
                else:
                    opt.step()
                opt.zero_grad(set_to_none=True)
                t.schedule.step_batch()
        except Exception as exc:
            _keep_losses(t, losses, reported)
            raise FaultStop(_fault_of(t, exc, "training")) from exc
        sizes.append(len(idx))
        t.step += 1
        done += 1
        now = t.now()
        if now >= next_report:
            if cls:
                acc.flush()
            reported = _report(t, losses, sizes, reported, done, now - start - paused, xb)
            next_report = now + t.report_every
    if reported < len(losses) or not losses:
        _report(t, losses, sizes, reported, done, t.now() - start - paused, xb if done else None)
    if cls:
        acc.flush()
    vals = [float(v) for v in (losses if sync else torch.stack(losses).tolist())] if losses else []
    seconds = t.now() - start - paused
    out = {"train_loss": sum(v * k for v, k in zip(vals, sizes)) / max(1, sum(sizes)) if vals
           else None,
           "lr": opt.param_groups[0]["lr"], "seconds": seconds,
           "samples_per_s": sum(sizes) / seconds if seconds > 0 else None}
    if cls and vals:
        out["train_accuracy"] = acc.read()
    out["grad_norms"] = t.grad_norms.read(norms)
    if done < steps:
        out["partial"] = True
    return out


class _Accuracy:
    """Training accuracy at almost no per-step cost: the step only keeps its
    (detached) output; :meth:`flush` scores the kept outputs in one go against
    the labels of the same stretch of the epoch's permutation."""

    def __init__(self, plan, labels: torch.Tensor, perm: torch.Tensor, device):
        self.plan, self.labels, self.perm = plan, labels, perm
        self.outs: list[torch.Tensor] = []
        self.done = 0
        self.preds = 0
        self.correct = torch.zeros((), dtype=torch.long, device=device)

    def flush(self) -> None:
        if not self.outs:
            return
        out = torch.cat(self.outs) if len(self.outs) > 1 else self.outs[0]
        self.outs = []
        lab = self.labels[self.perm[self.done:self.done + len(out)]].reshape(-1)
        self.done += len(out)
        self.preds += lab.numel()
        self.correct += (self.plan.predict(out) == lab).sum()

    def read(self) -> float | None:
        return self.correct.item() / self.preds if self.preds else None


def _report(t, losses, sizes, reported, done, seconds, xb) -> int:
    """Send ``on_step`` with the losses since the last report; returns how many were sent."""
    if not losses:
        return reported
    new = losses[reported:]
    if new and isinstance(new[0], torch.Tensor):
        new = torch.stack(new).tolist()
        bad = next((k for k, v in enumerate(new) if not math.isfinite(v)), None)
        if bad is not None:
            raise FaultStop(_nan_fault(t, new[bad], xb))
    t.step_losses.extend(new)
    total = sum(sizes)
    t.emit("on_step", {"epoch": t.epoch + 1, "step": t.step, "epoch_step": done,
                       "steps_per_epoch": t.steps_per_epoch,
                       "loss": sum(new) / len(new) if new else None, "losses": new,
                       "lr": t.optimizer.param_groups[0]["lr"],
                       "samples_per_s": total / seconds if seconds > 0 else None,
                       "epoch_progress": done / t.steps_per_epoch})
    return len(losses)


def _keep_losses(t, losses: list, reported: int) -> None:
    """Keep the step losses not yet reported (the run is ending with a fault)."""
    new = losses[reported:]
    if new and isinstance(new[0], torch.Tensor):
        new = torch.stack(new).tolist()
    t.step_losses.extend(float(v) for v in new)


def _nan_fault(t, value: float, xb) -> Fault:
    s = t.setup
    what = "NaN" if value != value else "infinite"
    if xb is None:
        nid, why = None, "the values were not kept for a closer look"
    else:
        nid, why = locate_nonfinite(t.model, s.code.attrs, s.labels, (xb,), t.autocast)
    return Fault("nan", f"the training loss became {what} at epoch {t.epoch + 1}, step "
                        f"{t.step + 1}: {why}", node=nid, epoch=t.epoch + 1, step=t.step + 1)


def _validate(t) -> dict | None:
    """Validation metrics, or None when a stop arrived during validation."""
    s = t.setup
    if not len(s.Xv):
        return {}
    model, plan, crit = t.model, s.plan, t.criterion
    meter = ValMeter(plan, t.device)
    vb = max(t.config.batch_size, min(1024, 4 * t.config.batch_size))
    model.eval()
    try:
        with torch.no_grad(), DeadUnitProbe(model, s.code.attrs) as probe:
            for a in range(0, len(s.Xv), vb):
                if t.stopping:
                    return None
                xb, yb = s.Xv[a:a + vb], s.Yv[a:a + vb]
                if t.autocast is not None:
                    with t.autocast():
                        out = model(xb)
                        loss = crit(*plan.loss_view(out, yb))
                else:
                    out = model(xb)
                    loss = crit(*plan.loss_view(out, yb))
                lab = None
                if plan.classification:
                    lab = yb if s.Lv is None else s.Lv[a:a + vb]
                meter.add(out.float(), loss.float(), yb, lab)
        res = meter.read()
        dead, per = probe.read()
    finally:
        model.train()
    if dead is not None:
        res["dead_fraction"] = dead
        res["dead_by_node"] = per
    return res
