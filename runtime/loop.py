"""The epoch and step loops of :class:`runtime.engine.Trainer`.

Kept apart from the trainer's set-up so the hot path reads top to bottom.
One training step: index a batch from the epoch's permutation, forward (under
autocast when AMP is on), loss (+ L1), backward (scaled for fp16), and every
``grad_accum_steps`` batches clip, step, zero the gradients and tick the
per-step schedule.  Per-node gradient norms are measured at the epoch's last
optimizer step only; dead ReLU units during validation only.

A stop inside an epoch leaves the epoch's state in ``Trainer.epoch_state``
(permutation, step, losses and running counts so far), which the partial
checkpoint keeps; a resumed run continues that epoch at its next step, so
stop-and-resume gives the same weights and step losses as one run (R7).
A failing schedule is a ``"schedule"`` fault, never blamed on the model; a
checkpoint that cannot be written (a full disk) is a ``"save"`` fault that ends
the run, naming the last good checkpoint, which the atomic write left whole.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from .checkpoint import save_checkpoint
from .diagnose import diagnose
from .faults import (Fault, describe_error, exception_fault, is_oom, locate_nonfinite,
                     oom_fault, weights_nonfinite)
from .metrics import DeadUnitProbe, GradNorms, TrainMeter, ValMeter, per_class_accuracy

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
            "start_step": t.step,
            "params": sum(p.numel() for p in t.model.parameters())}
    t.emit("on_run_start", info)
    stopped, fault, last_val, partial = "completed", None, {}, {}
    ckpts: dict = {}
    saved_epoch = None  # the epoch last.pt holds, once this run has written it
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
            t.epoch_state = None
            try:
                t.schedule.step_epoch(val.get("val_loss"))
            except Exception as exc:
                raise FaultStop(_schedule_fault(t, exc)) from exc
            row = {"epoch": t.epoch, **{k: v for k, v in train.items() if k != "partial"},
                   **{k: v for k, v in val.items() if k != "confusion"}}
            t.history.append(row)
            last_val = val
            if t.out_dir is not None:
                if t.improved(row.get(t.monitor)):
                    ckpts["best"] = _save(t, "best.pt", False, ckpts, saved_epoch)
                ckpts["last"] = _save(t, "last.pt", False, ckpts, saved_epoch)
                saved_epoch = t.epoch
            else:
                t.improved(row.get(t.monitor))
            found = [f.to_json() for f in diagnose(t.history, s.labels)]
            t.emit("on_epoch_end", {**row, "confusion": val.get("confusion"),
                                    "epochs": c.epochs, "best": dict(t.best),
                                    "diagnosis": found})
            es = c.early_stopping
            if es and t.best["bad_epochs"] >= es["patience"]:
                stopped = "early_stopping"
                break
    except FaultStop as exc:
        stopped, fault = "error", exc.fault
    if stopped == "stopped" and t.out_dir is not None:
        try:
            ckpts["last"] = _save(t, "last.pt", bool(partial), ckpts, saved_epoch)
        except FaultStop as exc:
            stopped, fault = "error", exc.fault
    elif t.out_dir is not None and (t.out_dir / "best.pt").exists():
        ckpts.setdefault("best", str(t.out_dir / "best.pt"))
    metrics = dict(t.history[-1]) if t.history else {}
    if partial:  # a stop before the epoch's first step measured nothing: keep the last epoch's
        metrics.update({k: v for k, v in partial.items() if k != "partial" and v is not None})
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


def _save(t, name: str, partial: bool, ckpts: dict, saved_epoch: int | None) -> str:
    """Write ``name`` in the run folder; a failed write ends the run with a ``"save"`` fault.

    The write is atomic, so the file written before (the last good checkpoint)
    is left whole; the fault says which one that is and how to go on.
    """
    from .errors import CheckpointWriteError

    try:
        return str(save_checkpoint(t.out_dir / name, t.checkpoint_state(partial)))
    except CheckpointWriteError as exc:
        last = t.out_dir / "last.pt"
        fix = "free some space, then resume from it" if "disk is full" in str(exc) else \
            "resume from it once the folder can be written again"
        if saved_epoch is not None:
            kept = f"the last good checkpoint, {str(last)!r} (epoch {saved_epoch}), is kept: {fix}"
        elif ckpts.get("last") or last.is_file():
            kept = f"the checkpoint there before, {str(last)!r}, is kept"
        else:
            kept = "no checkpoint of this run could be kept"
        done = t.epoch if not partial else f"{t.epoch} (and part of epoch {t.epoch + 1})"
        raise FaultStop(Fault("save", f"{exc}; training stopped after epoch {done}; {kept}",
                              epoch=t.epoch, step=t.step)) from None


def _train_epoch(t) -> dict:
    """One epoch of training (or the rest of a stopped one); its training metrics.

    The step is kept lean (``quality.md`` B2): one flag read for stop/pause,
    the batch indexed from the epoch's permutation, and on CPU the loss read
    for the NaN check; everything else (timing, the running accuracy) is done
    a few times per second at report time.
    """
    s, c = t.setup, t.config
    model, fwd, crit, opt, plan = t.model, t.fwd, t.criterion, t.optimizer, s.plan
    X, Y, L = s.X, s.Y, s.L
    n, B, accum = len(X), c.batch_size, c.grad_accum_steps
    steps = t.steps_per_epoch
    sync = t.sync_loss
    flatten = plan.flatten
    l1 = c.l1
    params = [p for p in model.parameters() if p.requires_grad]
    clip, scaler, autocast = c.grad_clip_norm, t.scaler, t.autocast
    tick = t.schedule.step_batch if t.schedule.ticks else None
    model.train()
    pending, t.pending_epoch = t.pending_epoch, None
    if pending is None:
        perm = torch.randperm(n, generator=t.generator, device=t.device)
        first, vals, before, norms = 0, [], 0.0, None
    else:  # the rest of an epoch stopped at step ``first`` (an exact resume)
        perm, first = pending["perm"], pending["step"]
        vals, before = list(pending["losses"]), pending["seconds"]
        norms = pending.get("norms")
        norms = norms.to(t.device) if norms is not None else None
    meter = TrainMeter(plan, L if L is not None else Y, perm, t.device, min(n, first * B),
                        pending, B)
    outs, cap = meter.outs, meter.cap
    losses: list = []     # this call's step losses (floats on CPU, tensors elsewhere)
    reported = 0
    now, isfinite = t.now, math.isfinite
    start = now()
    next_report = start + t.report_every
    paused = 0.0
    done = first

    def batch(j: int) -> torch.Tensor:
        return X[perm[j * B:(j + 1) * B]]

    for i in range(first, steps):
        if t.hold:
            if t.stopping:
                break
            paused += t.wait_while_paused()
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
                if not isfinite(lv):
                    raise FaultStop(_nan_fault(t, lv, xb))
                losses.append(lv)
            else:
                losses.append(loss.detach())
            outs.append(out.detach())
            if len(outs) >= cap:
                meter.flush()
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
                if tick is not None:
                    try:
                        tick()
                    except Exception as exc:  # the schedule's fault, not the model's
                        raise FaultStop(_schedule_fault(t, exc)) from exc
        except Exception as exc:
            _keep_losses(t, losses, reported)
            raise FaultStop(_fault_of(t, exc, "training")) from exc
        t.step += 1
        done += 1
        if now() >= next_report:
            reported = _report(t, losses, reported, vals, done, meter,
                               before + now() - start - paused, batch)
            next_report = now() + t.report_every
    if reported < len(losses):
        _report(t, losses, reported, vals, done, meter, before + now() - start - paused, batch)
    meter.flush()
    seconds = before + now() - start - paused
    samples = min(n, done * B)
    sizes = [B] * len(vals)
    if len(vals) == steps:
        sizes[-1] = min(B, n - (steps - 1) * B)
    out = {"train_loss": sum(v * k for v, k in zip(vals, sizes)) / max(1, sum(sizes)) if vals
           else None,
           "lr": opt.param_groups[0]["lr"], "seconds": seconds,
           "samples_per_s": samples / seconds if seconds > 0 else None}
    if vals:
        out[meter.key] = meter.read()
    out["grad_norms"] = t.grad_norms.read(norms)
    t.epoch_state = {"perm": perm, "step": done, "losses": vals, "seconds": seconds,
                     "batch_size": B, "norms": norms, **meter.state()}
    if done < steps:
        out["partial"] = True
    return out


def _report(t, losses, reported, vals, done, meter, seconds, batch) -> int:
    """Send ``on_step`` with the losses since the last report; returns how many were sent.

    The new losses are also appended (as floats) to ``vals``, the epoch's list.
    Off the CPU this is where a non-finite loss is first seen: the fault names
    the step that produced it and looks at that step's batch (``batch(j)``,
    j counted in the epoch), keeping the good losses before it.
    """
    new = losses[reported:]
    if not new:
        return reported
    if isinstance(new[0], torch.Tensor):
        new = torch.stack(new).tolist()
        bad = next((k for k, v in enumerate(new) if not math.isfinite(v)), None)
        if bad is not None:
            t.step_losses.extend(new[:bad])
            del losses[reported:]  # kept above; _keep_losses must not add them again
            j = done - len(new) + bad
            raise FaultStop(_nan_fault(t, new[bad], batch(j), t.step - len(new) + bad + 1))
    t.step_losses.extend(new)
    vals.extend(new)
    samples = min(len(t.setup.X), done * t.config.batch_size)
    t.emit("on_step", {"epoch": t.epoch + 1, "step": t.step, "epoch_step": done,
                       "steps_per_epoch": t.steps_per_epoch,
                       "loss": sum(new) / len(new), "losses": new,
                       "lr": t.optimizer.param_groups[0]["lr"],
                       "samples_per_s": samples / seconds if seconds > 0 else None,
                       meter.key: meter.read(),
                       "epoch_progress": done / t.steps_per_epoch})
    return len(losses)


def _keep_losses(t, losses: list, reported: int) -> None:
    """Keep the step losses not yet reported (the run is ending with a fault)."""
    new = losses[reported:]
    if new and isinstance(new[0], torch.Tensor):
        new = torch.stack(new).tolist()
    t.step_losses.extend(float(v) for v in new)


def _schedule_fault(t, exc: BaseException) -> Fault:
    """A fault raised by the learning-rate schedule: named as such, never as the model's."""
    name = t.schedule.name
    return Fault("schedule", f"the learning-rate schedule {name} failed at epoch {t.epoch + 1}, "
                             f"step {t.step + 1}: {describe_error(exc)}; check its settings "
                             "(a schedule made for a shorter run cannot go on past its end)",
                 epoch=t.epoch + 1, step=t.step + 1, error=describe_error(exc))


def _nan_fault(t, value: float, xb, step: int | None = None) -> Fault:
    """``step``: the global step whose loss was bad (default: the one under way)."""
    s = t.setup
    what = "NaN" if value != value else "infinite"
    now = t.step + 1 if step is None else t.step
    step = t.step + 1 if step is None else step
    if xb is None:
        nid, why = None, "the values were not kept for a closer look"
    elif step < now and weights_nonfinite(t.model):
        # seen at a report, after updates with its gradient: every layer's weights are
        # NaN now, so looking again would blame the first layer, not the one at fault
        nid, why = None, (f"it was noticed at step {now} (on {t.device.type} the losses are "
                          "read a few times per second, not every step), when the updates "
                          "had already made the weights NaN/Inf, so the layer that produced "
                          "it cannot be named; lower the learning rate or set grad_clip_norm, "
                          "or train briefly on the CPU to find the layer")
    else:
        nid, why = locate_nonfinite(t.model, s.code.attrs, s.labels, (xb,), t.autocast)
    return Fault("nan", f"the training loss became {what} at epoch {t.epoch + 1}, step "
                        f"{step}: {why}", node=nid, epoch=t.epoch + 1, step=step)


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
