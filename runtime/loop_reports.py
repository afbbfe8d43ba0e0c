"""What the training loop tells its listeners: the run's opening facts and
the step reports.

:func:`run_start_info` is ``on_run_start``'s payload.  :class:`StepReporter`
sends ``on_step`` a few times per second (never per step: ``quality.md`` B2)
with the losses since the last report; off the CPU that is where a
non-finite loss is first seen, so it also raises that fault.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .loop_faults import FaultStop, LoopFaults
from .metrics import GradNorms
from .session import Session
from .setup import Setup

#: Sends an event (a :class:`~runtime.engine.Callback` method name) and its payload.
Emit = Callable[[str, object], None]


def named_head(setup: Setup):
    """The output whose class names the run's confusion matrix uses: the first
    classifying one (else the first)."""
    return next((h for h in setup.heads if h.plan.classification), setup.heads[0])


def run_start_info(session: Session, grad_norms: GradNorms, notes: list[str]) -> dict:
    """``on_run_start``'s payload: the run's settings, data, nodes and outputs."""
    S, st, c = session, session.state, session.config
    s = S.setup
    named = named_head(s)
    return {"device": str(S.device), "task": s.task, "epochs": c.epochs,
            "start_epoch": st.epoch, "steps_per_epoch": S.steps_per_epoch,
            "batch_size": c.batch_size, "train_samples": len(s.X),
            "val_samples": len(s.Xv), "dataset": s.dataset.name,
            "class_names": named.class_names, "num_classes": named.num_classes,
            # with the inner layers of unit instances whose gradient norms are
            # measured one by one (body.3.conv), so each view shows their names
            "nodes": {**{nid: {"name": s.names[nid], "label": s.labels[nid]}
                         for nid in s.code.attrs}, **grad_norms.inner},
            "monitor": st.monitor, "notes": list(notes), "history": list(st.history),
            "start_step": st.step,
            "params": sum(p.numel() for p in S.model.parameters()),
            # the trained outputs: each one's metrics end with its suffix
            # (val_accuracy_<id>); "" when the network has one Output
            "outputs": [{"id": h.output_id, "name": s.names[h.output_id], "task": h.task,
                         "suffix": h.suffix, "weight": h.weight,
                         "loss": h.loss_spec["type"], "num_classes": h.num_classes,
                         "class_names": h.class_names} for h in s.heads]}


class StepReporter:
    """Sends the step losses of a run as ``on_step`` events.

    Args:
        session: the run's built objects and progress (its ``step_losses`` grow here).
        emit: sends the events.
        faults: makes the fault of a non-finite loss.
    """

    def __init__(self, session: Session, emit: Emit, faults: LoopFaults):
        self.session = session
        self.emit = emit
        self.faults = faults

    def report(self, losses, reported, vals, done, meter, seconds, batch) -> int:
        """Send ``on_step`` with the losses since the last report; returns how many were sent.

        The new losses are also appended (as floats) to ``vals``, the epoch's list.
        Off the CPU this is where a non-finite loss is first seen: the fault names
        the step that produced it and looks at that step's batch (``batch(j)``,
        j counted in the epoch), keeping the good losses before it.
        """
        S = self.session
        st = S.state
        new = losses[reported:]
        if not new:
            return reported
        if isinstance(new[0], torch.Tensor):
            new = torch.stack(new).tolist()
            bad = next((k for k, v in enumerate(new) if not math.isfinite(v)), None)
            if bad is not None:
                st.step_losses.extend(new[:bad])
                del losses[reported:]  # kept above; keep() must not add them again
                j = done - len(new) + bad
                raise FaultStop(self.faults.nan(new[bad], batch(j),
                                                st.step - len(new) + bad + 1))
        st.step_losses.extend(new)
        vals.extend(new)
        samples = min(len(S.setup.X), done * S.config.batch_size)
        self.emit("on_step", {"epoch": st.epoch + 1, "step": st.step, "epoch_step": done,
                              "steps_per_epoch": S.steps_per_epoch,
                              "loss": sum(new) / len(new), "losses": new,
                              "lr": S.optimizer.param_groups[0]["lr"],
                              "samples_per_s": samples / seconds if seconds > 0 else None,
                              meter.key: meter.read(),
                              "epoch_progress": done / S.steps_per_epoch})
        return len(losses)

    def keep(self, losses: list, reported: int) -> None:
        """Keep the step losses not yet reported (the run is ending with a fault)."""
        new = losses[reported:]
        if new and isinstance(new[0], torch.Tensor):
            new = torch.stack(new).tolist()
        self.session.state.step_losses.extend(float(v) for v in new)
