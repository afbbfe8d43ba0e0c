"""How a failure inside the training loop becomes a :class:`~runtime.faults.Fault`.

:class:`FaultStop` carries a fault out of the loop to the run's end;
:class:`LoopFaults` names the cause: an exception in the model (the layer at
fault, or out of memory), a failing learning-rate schedule (never blamed on
the model), or a non-finite loss (the layer that produced it, where it can
still be found).  All of this runs only when something went wrong, never per
step.
"""

from __future__ import annotations

from .faults import (Fault, describe_error, exception_fault, is_oom, locate_nonfinite,
                     oom_fault, weights_nonfinite)
from .session import Session


class FaultStop(Exception):
    """Raised inside the loop to end the run with a fault."""

    def __init__(self, fault: Fault):
        super().__init__(fault.message)
        self.fault = fault


class LoopFaults:
    """Makes the faults of one run.

    Args:
        session: the run's built objects and progress (read when a fault is made,
            so the epoch and step named are the current ones).
    """

    def __init__(self, session: Session):
        self.session = session

    def of(self, exc: BaseException, where: str) -> Fault:
        """The fault of an exception raised during ``where`` (``"training"``,
        ``"validation"``); a :class:`FaultStop`'s own fault as it is."""
        if isinstance(exc, FaultStop):
            return exc.fault
        if is_oom(exc):
            return oom_fault(exc, self.session.config.batch_size, self.session.device)
        s = self.session.setup
        return exception_fault(exc, s.code.attrs, s.labels, where)

    def schedule(self, exc: BaseException) -> Fault:
        """A fault raised by the learning-rate schedule: named as such, never as the model's."""
        st = self.session.state
        name = self.session.schedule.name
        return Fault("schedule", f"the learning-rate schedule {name} failed at epoch "
                                 f"{st.epoch + 1}, step {st.step + 1}: {describe_error(exc)}; "
                                 "check its settings (a schedule made for a shorter run cannot "
                                 "go on past its end)",
                     epoch=st.epoch + 1, step=st.step + 1, error=describe_error(exc))

    def nan(self, value: float, xb: tuple | None, step: int | None = None) -> Fault:
        """``xb``: the batch's inputs (one tensor per Input); ``step``: the global step
        whose loss was bad (default: the one under way)."""
        S = self.session
        st, s = S.state, S.setup
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
