"""The epoch and step loops of a run: :class:`TrainLoop`.

Kept apart from the trainer's set-up so the hot path reads top to bottom.
One training step: index a batch from the epoch's permutation, forward (under
autocast when AMP is on), loss (+ L1), backward (scaled for fp16), and every
``grad_accum_steps`` batches clip, step, zero the gradients and tick the
per-step schedule.  Within an accumulation group each batch's loss is
weighted by its share of the group's samples, so a group's gradient is the
mean over its samples, as one larger batch would give; this holds for the
shorter group at the end of an epoch too.  Per-node gradient norms are
measured at the epoch's last optimizer step only; dead ReLU units during
validation only.  A network with several ``Input`` nodes gets one tensor per
Input, and with several trained ``Output`` nodes the step's loss is the
weighted sum of theirs (:mod:`runtime.heads`, also validation); a network
with one of each keeps a step without those loops.

A stop inside an epoch leaves the epoch's state in
:attr:`RunState.epoch_state <runtime.session.RunState>` (permutation, step,
losses and running counts so far), which the partial checkpoint keeps; a
resumed run continues that epoch at its next step, so stop-and-resume gives
the same weights and step losses as one run (R7).  A failing schedule is a
``"schedule"`` fault, never blamed on the model; a checkpoint that cannot be
written (a full disk) is a ``"save"`` fault that ends the run, naming the last
good checkpoint, which the atomic write left whole.

The loop works on a :class:`~runtime.session.Session` and a
:class:`~runtime.control.RunControl`; it knows nothing of the trainer that
owns them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import torch

from .augment import EpochAugment
from .checkpoint import save_checkpoint
from .control import RunControl
from .decode import epoch_samples
from .diagnose import diagnose
from .faults import (Fault, describe_error, exception_fault, is_oom, locate_nonfinite,
                     oom_fault, weights_nonfinite)
from .heads import heads_loss, validate
from .metrics import GradNorms, TrainMeter, per_class_accuracy
from .result import RunResult
from .session import Session

#: Sends an event (a :class:`~runtime.engine.Callback` method name) and its payload.
Emit = Callable[[str, object], None]


class FaultStop(Exception):
    """Raised inside the loop to end the run with a fault."""

    def __init__(self, fault: Fault):
        super().__init__(fault.message)
        self.fault = fault


def group_share(i: int, steps: int, accum: int, n: int, batch_size: int) -> float:
    """How many batches' worth of samples the accumulation group of step ``i`` holds,
    counted in units of step ``i``'s own batch (what its loss is divided by).

    A full group of equal batches gives exactly ``accum``; the shorter group at
    the end of an epoch gives its real size, and a short last batch counts for
    the samples it has, so the group's gradient is the mean over its samples.

    Args:
        i: the step within the epoch (0-based).
        steps: steps per epoch.
        accum: ``grad_accum_steps``.
        n: training samples.
        batch_size: samples per batch.
    """
    first = i - i % accum
    last = min(steps, first + accum)  # one past the group's last step
    group = min(n, last * batch_size) - first * batch_size
    own = min(n, (i + 1) * batch_size) - i * batch_size
    return group / own


class TrainLoop:
    """Runs a prepared session to its end.

    Args:
        session: the built objects and the run's progress (updated in place).
        control: the stop/pause requests.
        emit: sends ``on_run_start``/``on_step``/``on_epoch_end``/``on_run_end``.
        out_dir: the run folder for ``best.pt``/``last.pt`` (None: no checkpoints).
        snapshot: a checkpoint's content now (its argument: stopped inside an epoch).
        notes: remarks for the user so far.
        report_every: seconds between ``on_step`` events.
    """

    def __init__(self, session: Session, control: RunControl, emit: Emit,
                 out_dir: Path | None, snapshot: Callable[[bool], dict], notes: list[str],
                 report_every: float):
        self.session = session
        self.state = session.state
        self.config = session.config
        self.control = control
        self.emit = emit
        self.out_dir = out_dir
        self.snapshot = snapshot
        self.notes = notes
        self.report_every = report_every
        self.grad_norms = GradNorms(session.model, session.setup.code.attrs)
        # messages name a unit's inner layers by their state-dict names too
        self.labels = {**session.setup.labels,
                       **{k: d["label"] for k, d in self.grad_norms.inner.items()}}
        self.saved_epoch: int | None = None  # the epoch last.pt holds, once written here
        self.checkpoints: dict[str, str] = {}

    @staticmethod
    def now() -> float:
        return time.perf_counter()

    # ------------------------------------------------------------ the run
    def run(self) -> RunResult:
        """Train to the end (or a stop, early stop or fault); the result, also sent
        as ``on_run_end``."""
        S, st, c = self.session, self.state, self.config
        s = S.setup
        # the confusion matrix is the first classifying output's: its class names go with it
        named = next((h for h in s.heads if h.plan.classification), s.heads[0])
        info = {"device": str(S.device), "task": s.task, "epochs": c.epochs,
                "start_epoch": st.epoch, "steps_per_epoch": S.steps_per_epoch,
                "batch_size": c.batch_size, "train_samples": len(s.X),
                "val_samples": len(s.Xv), "dataset": s.dataset.name,
                "class_names": named.class_names, "num_classes": named.num_classes,
                # with the inner layers of unit instances whose gradient norms are
                # measured one by one (body.3.conv), so each view shows their names
                "nodes": {**{nid: {"name": s.names[nid], "label": s.labels[nid]}
                             for nid in s.code.attrs}, **self.grad_norms.inner},
                "monitor": st.monitor, "notes": list(self.notes), "history": list(st.history),
                "start_step": st.step,
                "params": sum(p.numel() for p in S.model.parameters()),
                # the trained outputs: each one's metrics end with its suffix
                # (val_accuracy_<id>); "" when the network has one Output
                "outputs": [{"id": h.output_id, "name": s.names[h.output_id], "task": h.task,
                             "suffix": h.suffix, "weight": h.weight,
                             "loss": h.loss_spec["type"], "num_classes": h.num_classes,
                             "class_names": h.class_names} for h in s.heads]}
        self.emit("on_run_start", info)
        stopped, fault, last_val, partial = "completed", None, {}, {}
        ckpts = self.checkpoints
        min_delta = (c.early_stopping or {}).get("min_delta", 0.0)
        try:
            while st.epoch < c.epochs:
                if self.control.stopping:
                    stopped = "stopped"
                    break
                train = self.train_epoch()
                if train.get("partial"):
                    stopped, partial = "stopped", train
                    break
                try:
                    val = validate(S, lambda: self.control.stopping)
                except Exception as exc:
                    raise FaultStop(self._fault_of(exc, "validation")) from exc
                if val is None:  # stopped during validation: the epoch is not counted
                    stopped, partial = "stopped", train
                    break
                st.epoch += 1
                st.epoch_state = None
                try:
                    S.schedule.step_epoch(val.get("val_loss"))
                except Exception as exc:
                    raise FaultStop(self._schedule_fault(exc)) from exc
                row = {"epoch": st.epoch, **{k: v for k, v in train.items() if k != "partial"},
                       **{k: v for k, v in val.items() if k != "confusion"}}
                st.history.append(row)
                last_val = val
                better = st.improved(row.get(st.monitor), min_delta)
                if self.out_dir is not None:
                    if better:
                        ckpts["best"] = self._save("best.pt", False)
                    ckpts["last"] = self._save("last.pt", False)
                    self.saved_epoch = st.epoch
                found = [f.to_json() for f in diagnose(st.history, self.labels)]
                self.emit("on_epoch_end", {**row, "confusion": val.get("confusion"),
                                           "epochs": c.epochs, "best": dict(st.best),
                                           "diagnosis": found, "samples": self._samples()})
                es = c.early_stopping
                if es and st.best["bad_epochs"] >= es["patience"]:
                    stopped = "early_stopping"
                    break
        except FaultStop as exc:
            stopped, fault = "error", exc.fault
        if stopped == "stopped" and self.out_dir is not None:
            try:
                ckpts["last"] = self._save("last.pt", bool(partial))
            except FaultStop as exc:
                stopped, fault = "error", exc.fault
        elif self.out_dir is not None and (self.out_dir / "best.pt").exists():
            ckpts.setdefault("best", str(self.out_dir / "best.pt"))
        metrics = dict(st.history[-1]) if st.history else {}
        if partial:  # a stop before the epoch's first step measured nothing: keep the last's
            metrics.update({k: v for k, v in partial.items()
                            if k != "partial" and v is not None})
        conf = last_val.get("confusion")
        found = diagnose(st.history, self.labels)
        result = RunResult(stopped=stopped, epochs=st.epoch, task=s.task, device=str(S.device),
                           metrics=metrics, history=list(st.history),
                           step_losses=list(st.step_losses), confusion=conf,
                           class_names=named.class_names,
                           per_class_accuracy=per_class_accuracy(conf) if conf else None,
                           diagnosis=[f.to_json() for f in found], checkpoints=dict(ckpts),
                           fault=fault, notes=list(self.notes))
        self.emit("on_run_end", result)
        return result

    def _save(self, name: str, partial: bool) -> str:
        """Write ``name`` in the run folder; a failed write ends the run with a ``"save"``
        fault.

        The write is atomic, so the file written before (the last good checkpoint)
        is left whole; the fault says which one that is and how to go on.
        """
        from .errors import CheckpointWriteError

        assert self.out_dir is not None
        st = self.state
        try:
            return str(save_checkpoint(self.out_dir / name, self.snapshot(partial)))
        except CheckpointWriteError as exc:
            last = self.out_dir / "last.pt"
            fix = "free some space, then resume from it" if "disk is full" in str(exc) else \
                "resume from it once the folder can be written again"
            if self.saved_epoch is not None:
                kept = (f"the last good checkpoint, {str(last)!r} (epoch {self.saved_epoch}), "
                        f"is kept: {fix}")
            elif self.checkpoints.get("last") or last.is_file():
                kept = f"the checkpoint there before, {str(last)!r}, is kept"
            else:
                kept = "no checkpoint of this run could be kept"
            done = st.epoch if not partial else f"{st.epoch} (and part of epoch {st.epoch + 1})"
            raise FaultStop(Fault("save", f"{exc}; training stopped after epoch {done}; {kept}",
                                  epoch=st.epoch, step=st.step)) from None

    def _samples(self) -> list[dict] | None:
        """A seq2seq run's greedy decodes of 3 validation samples (see
        :func:`~runtime.decode.epoch_samples`); None for other runs."""
        try:
            return epoch_samples(self.session.setup, self.config.dataset)
        except (RuntimeError, ValueError, IndexError, TypeError):
            # a display aid only: a network that cannot run on a shorter decoder
            # input (say, a fixed-length one) still trains; it just shows no samples
            return None

    # ------------------------------------------------------------ one epoch
    def train_epoch(self) -> dict:
        """One epoch of training (or the rest of a stopped one); its training metrics.

        The step is kept lean (``quality.md`` B2): one flag read for stop/pause,
        the batch indexed from the epoch's permutation, and on CPU the loss read
        for the NaN check; everything else (timing, the running accuracy) is done
        a few times per second at report time.
        """
        S, st, c, control = self.session, self.state, self.config, self.control
        s = S.setup
        model, fwd, crit, opt, plan = S.model, S.fwd, S.criterion, S.optimizer, s.plan
        X, Y, L = s.X, s.Y, s.L
        several = s.several
        head = s.heads[0]  # the running training metric follows the first trained output
        n, B, accum = len(X), c.batch_size, c.grad_accum_steps
        steps = S.steps_per_epoch
        sync = S.sync_loss
        flatten = plan.flatten
        l1 = c.l1
        params = [p for p in model.parameters() if p.requires_grad]
        clip, scaler, autocast = c.grad_clip_norm, S.scaler, S.autocast
        tick = S.schedule.step_batch if S.schedule.ticks else None
        model.train()
        pending, st.pending_epoch = st.pending_epoch, None
        if pending is None:
            perm = torch.randperm(n, generator=S.generator, device=S.device)
            first, vals, before, norms = 0, [], 0.0, None
        else:  # the rest of an epoch stopped at step ``first`` (an exact resume)
            perm, first = pending["perm"], pending["step"]
            vals, before = list(pending["losses"]), pending["seconds"]
            norms = pending.get("norms")
            norms = norms.to(S.device) if norms is not None else None
        meter = TrainMeter(plan, L if L is not None else Y, perm, S.device, min(n, first * B),
                           pending, B)
        meter.key += head.suffix
        outs, cap = meter.outs, meter.cap
        losses: list = []     # this call's step losses (floats on CPU, tensors elsewhere)
        reported = 0
        now, isfinite = self.now, math.isfinite
        start = now()
        next_report = start + self.report_every
        paused = 0.0
        done = first

        def batch(j: int) -> tuple:
            idx = perm[j * B:(j + 1) * B]
            return tuple(x[idx] for x in s.Xs)

        # training batches only, several at a time (runtime.augment)
        aug = EpochAugment(s.Xs, S.augment, S.augment_generator, c.seed, st.epoch, perm, B) \
            if S.augment else None
        if several:
            def forward(idx, i):
                """(inputs, the first head's output, the weighted sum of the heads' losses)."""
                xb = aug.batch(i) if aug else tuple(x[idx] for x in s.Xs)
                res = fwd(*xb)
                return xb, head.output(res), heads_loss(s.heads, S.criteria, res, idx)
        else:
            def forward(idx, i):
                xb = aug.batch(i)[0] if aug else X[idx]
                yb = Y[idx]
                out = fwd(xb)
                return (xb,), out, (crit(*plan.loss_view(out, yb)) if flatten
                                    else crit(out, yb))

        for i in range(first, steps):
            if control.hold:
                if control.stopping:
                    break
                paused += control.wait_while_paused()
                if control.stopping:
                    break
            idx = perm[i * B:(i + 1) * B]
            try:
                if autocast is not None:
                    with autocast():
                        xb, out, loss = forward(idx, i)
                else:
                    xb, out, loss = forward(idx, i)
                if l1:
                    loss = loss + l1 * torch.stack([p.abs().sum() for p in params]).sum()
                if sync:
                    lv = loss.item()
                    if not isfinite(lv):
                        raise FaultStop(self._nan_fault(lv, xb))
                    losses.append(lv)
                else:
                    losses.append(loss.detach())
                outs.append(out.detach())
                if len(outs) >= cap:
                    meter.flush()
                if accum > 1:
                    loss = loss / group_share(i, steps, accum, n, B)
                if scaler is not None:
                    scaler.scale(loss).backward()
                else:
                    loss.backward()
                if (i + 1) % accum == 0 or i == steps - 1:
                    if scaler is not None and (clip or i == steps - 1):
                        scaler.unscale_(opt)
                    if i >= steps - accum:
                        norms = self.grad_norms.measure()
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
                            raise FaultStop(self._schedule_fault(exc)) from exc
            except Exception as exc:
                self._keep_losses(losses, reported)
                raise FaultStop(self._fault_of(exc, "training")) from exc
            st.step += 1
            done += 1
            if now() >= next_report:
                reported = self._report(losses, reported, vals, done, meter,
                                        before + now() - start - paused, batch)
                next_report = now() + self.report_every
        if reported < len(losses):
            self._report(losses, reported, vals, done, meter, before + now() - start - paused,
                         batch)
        meter.flush()
        seconds = before + now() - start - paused
        samples = min(n, done * B)
        sizes = [B] * len(vals)
        if len(vals) == steps:
            sizes[-1] = min(B, n - (steps - 1) * B)
        out = {"train_loss": sum(v * k for v, k in zip(vals, sizes)) / max(1, sum(sizes))
               if vals else None,
               "lr": opt.param_groups[0]["lr"], "seconds": seconds,
               "samples_per_s": samples / seconds if seconds > 0 else None}
        if vals:
            out[meter.key] = meter.read()
        out["grad_norms"] = self.grad_norms.read(norms)
        st.epoch_state = {"perm": perm, "step": done, "losses": vals, "seconds": seconds,
                          "batch_size": B, "norms": norms, **meter.state()}
        if done < steps:
            out["partial"] = True
        return out

    def _report(self, losses, reported, vals, done, meter, seconds, batch) -> int:
        """Send ``on_step`` with the losses since the last report; returns how many were sent.

        The new losses are also appended (as floats) to ``vals``, the epoch's list.
        Off the CPU this is where a non-finite loss is first seen: the fault names
        the step that produced it and looks at that step's batch (``batch(j)``,
        j counted in the epoch), keeping the good losses before it.
        """
        S, st = self.session, self.state
        new = losses[reported:]
        if not new:
            return reported
        if isinstance(new[0], torch.Tensor):
            new = torch.stack(new).tolist()
            bad = next((k for k, v in enumerate(new) if not math.isfinite(v)), None)
            if bad is not None:
                st.step_losses.extend(new[:bad])
                del losses[reported:]  # kept above; _keep_losses must not add them again
                j = done - len(new) + bad
                raise FaultStop(self._nan_fault(new[bad], batch(j), st.step - len(new) + bad + 1))
        st.step_losses.extend(new)
        vals.extend(new)
        samples = min(len(S.setup.X), done * self.config.batch_size)
        self.emit("on_step", {"epoch": st.epoch + 1, "step": st.step, "epoch_step": done,
                              "steps_per_epoch": S.steps_per_epoch,
                              "loss": sum(new) / len(new), "losses": new,
                              "lr": S.optimizer.param_groups[0]["lr"],
                              "samples_per_s": samples / seconds if seconds > 0 else None,
                              meter.key: meter.read(),
                              "epoch_progress": done / S.steps_per_epoch})
        return len(losses)

    def _keep_losses(self, losses: list, reported: int) -> None:
        """Keep the step losses not yet reported (the run is ending with a fault)."""
        new = losses[reported:]
        if new and isinstance(new[0], torch.Tensor):
            new = torch.stack(new).tolist()
        self.state.step_losses.extend(float(v) for v in new)

    # ------------------------------------------------------------ faults
    def _fault_of(self, exc: BaseException, where: str) -> Fault:
        if isinstance(exc, FaultStop):
            return exc.fault
        if is_oom(exc):
            return oom_fault(exc, self.config.batch_size, self.session.device)
        s = self.session.setup
        return exception_fault(exc, s.code.attrs, s.labels, where)

    def _schedule_fault(self, exc: BaseException) -> Fault:
        """A fault raised by the learning-rate schedule: named as such, never as the model's."""
        st = self.state
        name = self.session.schedule.name
        return Fault("schedule", f"the learning-rate schedule {name} failed at epoch "
                                 f"{st.epoch + 1}, step {st.step + 1}: {describe_error(exc)}; "
                                 "check its settings (a schedule made for a shorter run cannot "
                                 "go on past its end)",
                     epoch=st.epoch + 1, step=st.step + 1, error=describe_error(exc))

    def _nan_fault(self, value: float, xb: tuple | None, step: int | None = None) -> Fault:
        """``xb``: the batch's inputs (one tensor per Input); ``step``: the global step
        whose loss was bad (default: the one under way)."""
        S, st = self.session, self.state
        s = S.setup
        what = "NaN" if value != value else "infinite"
        now = st.step + 1 if step is None else st.step
        step = st.step + 1 if step is None else step
        if xb is None:
            nid, why = None, "the values were not kept for a closer look"
        elif step < now and weights_nonfinite(S.model):
            # seen at a report, after updates with its gradient: every layer's weights are
            # NaN now, so looking again would blame the first layer, not the one at fault
            nid, why = None, (f"it was noticed at step {now} (on {S.device.type} the losses "
                              "are read a few times per second, not every step), when the "
                              "updates had already made the weights NaN/Inf, so the layer "
                              "that produced it cannot be named; lower the learning rate or "
                              "set grad_clip_norm, or train briefly on the CPU to find the "
                              "layer")
        else:
            nid, why = locate_nonfinite(S.model, s.code.attrs, s.labels, tuple(xb), S.autocast)
        return Fault("nan", f"the training loss became {what} at epoch {st.epoch + 1}, step "
                            f"{step}: {why}", node=nid, epoch=st.epoch + 1, step=step)
