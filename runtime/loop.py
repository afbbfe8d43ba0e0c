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
from .control import RunControl
from .decode import epoch_samples
from .diagnose import diagnose
from .heads import heads_loss, validate
from .loop_faults import FaultStop, LoopFaults
from .loop_reports import Emit, StepReporter, named_head, run_start_info
from .loop_saves import RunCheckpoints
from .metrics import GradNorms, TrainMeter, per_class_accuracy
from .result import RunResult
from .session import Session

__all__ = ["Emit", "FaultStop", "TrainLoop", "group_share"]


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
        self.notes = notes
        self.report_every = report_every
        self.grad_norms = GradNorms(session.model, session.setup.code.attrs)
        # messages name a unit's inner layers by their state-dict names too
        self.labels = {**session.setup.labels,
                       **{k: d["label"] for k, d in self.grad_norms.inner.items()}}
        self.faults = LoopFaults(session)
        self.reporter = StepReporter(session, emit, self.faults)
        self.saves = RunCheckpoints(out_dir, snapshot, self.state) if out_dir is not None \
            else None

    @staticmethod
    def now() -> float:
        return time.perf_counter()

    # ------------------------------------------------------------ the run
    def run(self) -> RunResult:
        """Train to the end (or a stop, early stop or fault); the result, also sent
        as ``on_run_end``."""
        S, st, c = self.session, self.state, self.config
        s = S.setup
        named = named_head(s)  # the confusion matrix's class names are this output's
        self.emit("on_run_start", run_start_info(S, self.grad_norms, self.notes))
        stopped, fault, last_val, partial = "completed", None, {}, {}
        saves = self.saves
        ckpts = saves.paths if saves is not None else {}
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
                    raise FaultStop(self.faults.of(exc, "validation")) from exc
                if val is None:  # stopped during validation: the epoch is not counted
                    stopped, partial = "stopped", train
                    break
                st.epoch += 1
                st.epoch_state = None
                try:
                    S.schedule.step_epoch(val.get("val_loss"))
                except Exception as exc:
                    raise FaultStop(self.faults.schedule(exc)) from exc
                row = {"epoch": st.epoch, **{k: v for k, v in train.items() if k != "partial"},
                       **{k: v for k, v in val.items() if k != "confusion"}}
                st.history.append(row)
                last_val = val
                better = st.improved(row.get(st.monitor), min_delta)
                if saves is not None:
                    if better:
                        ckpts["best"] = saves.save("best.pt", False)
                    ckpts["last"] = saves.save("last.pt", False)
                    saves.saved_epoch = st.epoch
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
        if stopped == "stopped" and saves is not None:
            try:
                ckpts["last"] = saves.save("last.pt", bool(partial))
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
        faults, report = self.faults, self.reporter.report
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
                        raise FaultStop(faults.nan(lv, xb))
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
                            raise FaultStop(self.faults.schedule(exc)) from exc
            except Exception as exc:
                self.reporter.keep(losses, reported)
                raise FaultStop(faults.of(exc, "training")) from exc
            st.step += 1
            done += 1
            if now() >= next_report:
                reported = report(losses, reported, vals, done, meter,
                                  before + now() - start - paused, batch)
                next_report = now() + self.report_every
        if reported < len(losses):
            report(losses, reported, vals, done, meter, before + now() - start - paused, batch)
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
