"""Checkpoint contents of a run and resuming from them (kept apart from the trainer).

:func:`checkpoint_state` is what ``best.pt``/``last.pt`` hold (see
:mod:`runtime.checkpoint`); :func:`restore` continues a run from one: weights,
optimizer, schedule, scaler, the RNG states, history and step losses, and
for a checkpoint written by a stop inside an epoch (``partial``) that
epoch's permutation, step, losses, running counts and any gradients
accumulated so far, so that the resumed run goes on at the next step exactly
as an uninterrupted run would (``quality.md`` R7).

:func:`check_resumable` refuses, before training, a resume with nothing left
to train and one that would stretch a schedule made for the run's length
(see :meth:`runtime.optim.Schedule.lengths`): the message names the schedule,
both epoch counts, and the two ways on (the original epochs, or a new run
from the weights with ``--init-weights``).

Nothing of a checkpoint reaches the trainer unchecked: its layout is checked
when it is read (:func:`runtime.checkpoint.load_checkpoint`), and what must
agree with this run (RNG states, the stopped epoch, gradients, optimizer and
schedule state) by :mod:`runtime.resume_checks` before training starts, so
a bad field is refused with its name instead of failing inside training.
"""

from __future__ import annotations

import torch

from . import resume_checks as checks
from .checkpoint import load_checkpoint, load_weights
from .errors import CheckpointError, ResumeError
from .session import Session


def checkpoint_state(session: Session, partial: bool, project: dict, training: dict) -> dict:
    """A checkpoint's content for a run now.

    Args:
        session: the run.
        partial: stopped inside an epoch (the epoch's state and gradients are kept).
        project: the project document stored with the weights.
        training: the run's ``training`` settings as given.
    """
    st = session.state
    rng = {"torch": torch.get_rng_state(), "shuffle": session.generator.get_state(),
           "shuffle_device": session.device.type}
    if session.augment_generator is not None:  # an exact resume draws the same changes
        rng["augment"] = session.augment_generator.get_state()
    if session.device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state_all()
    scaler = session.scaler
    state = {"model": session.model.state_dict(), "optimizer": session.optimizer.state_dict(),
             "scheduler": session.schedule.state_dict(),
             "scaler": scaler.state_dict() if scaler is not None else None,
             "rng": rng, "epoch": st.epoch, "step": st.step, "partial": partial,
             "planned_epochs": session.config.epochs,
             "history": st.history, "step_losses": st.step_losses, "best": st.best,
             "project": project, "training": training}
    if partial and st.epoch_state is not None:
        state["epoch_state"] = {k: (v.cpu() if isinstance(v, torch.Tensor) else v)
                                for k, v in st.epoch_state.items()}
        grads = [p.grad for p in session.model.parameters()]
        if any(g is not None for g in grads):
            state["grads"] = [g.detach().cpu() if g is not None else None for g in grads]
    return state


def restore(t: Session, path, notes: list[str]) -> None:
    """Continue session ``t`` (freshly built) from checkpoint ``path``.

    Args:
        t: the run to continue (its objects and state are loaded in place).
        path: the checkpoint file.
        notes: remarks for the user (where the run resumes is appended).

    Raises:
        CheckpointError: unreadable, another network, or other optimizer/schedule settings.
        CheckpointFieldError: a field is missing or wrong (named with its path).
        ResumeError: nothing left to do, or a length-bound schedule and another length.
    """
    ck = load_checkpoint(path)
    F = checks.Fields(str(path))
    load_weights(t.model, ck["model"], f"checkpoint {str(path)!r}")
    if "optimizer" not in ck:
        raise F.bad("checkpoint.optimizer", "missing (a checkpoint to resume from holds the "
                    "optimizer's state; start from its weights with --init-weights instead)")
    check_resumable(t, ck, str(path))
    rng = ck.get("rng") or {}
    checks.check_rng(rng, t.device, F)
    state = _stopped_epoch(t, ck, F)
    _load_training_state(t, ck, str(path), F)
    if "torch" in rng:
        torch.set_rng_state(rng["torch"])
    if rng.get("cuda") and t.device.type == "cuda":
        torch.cuda.set_rng_state_all(rng["cuda"])
    if "shuffle" in rng and rng.get("shuffle_device") == t.device.type:
        t.generator.set_state(rng["shuffle"])
    if "augment" in rng and rng.get("shuffle_device") == t.device.type \
            and t.augment_generator is not None:
        t.augment_generator.set_state(rng["augment"])
    st = t.state
    st.epoch = int(ck.get("epoch", 0))
    st.history = list(ck.get("history", []))
    st.step_losses = list(ck.get("step_losses", []))
    st.step = int(ck.get("step", 0))
    st.best = dict(ck.get("best") or st.best)
    _check_schedule_room(t, state, bool(ck.get("partial")) and state is None, F)
    if state is not None:
        st.pending_epoch = dict(state, perm=state["perm"].to(t.device))
        for p, g in zip(t.model.parameters(), ck.get("grads") or []):
            if g is not None:  # stopped inside a gradient accumulation
                p.grad = g.to(device=p.device, dtype=p.dtype)
        notes.append(f"resumed from {str(path)!r} in epoch {st.epoch + 1} after "
                       f"step {state['step']} of {t.steps_per_epoch}")
    else:
        if ck.get("partial"):
            notes.append(f"the stopped epoch {st.epoch + 1} is trained again from "
                           "its start (the checkpoint does not hold where it stopped, "
                           "or the batch size or the number of training samples changed)")
        notes.append(f"resumed from {str(path)!r} after epoch {st.epoch}")


def _stopped_epoch(t: Session, ck: dict, F: checks.Fields) -> dict | None:
    """The stopped epoch to continue (checked against this run), or None to start it over."""
    state = ck.get("epoch_state") if ck.get("partial") else None
    if state is None or state["batch_size"] != t.config.batch_size \
            or len(state["perm"]) != len(t.setup.X):
        return None  # the saved shuffle is of another training set or batching
    from .metrics import GradNorms

    n_norms = len(GradNorms(t.model, t.setup.code.attrs).nodes)
    checks.check_epoch_state(state, len(t.setup.X), t.steps_per_epoch, n_norms, F)
    if ck.get("grads") is not None:
        checks.check_grads(ck["grads"], list(t.model.parameters()), F)
    return state


def _check_schedule_room(t: Session, state: dict | None, restarted: bool, F: checks.Fields) -> None:
    """A per-step schedule of fixed length (``OneCycleLR``) has room for the optimizer
    steps this run still makes; past its end it would raise halfway through.

    ``state``: the stopped epoch continued (None: none); ``restarted``: a stopped
    epoch is trained again from its start."""
    s = t.schedule
    total = s.lengths().get("total_steps")
    if total is None or not s.per_step:
        return
    steps, accum = t.steps_per_epoch, t.config.grad_accum_steps

    def optimizer_steps(first: int) -> int:
        return sum(1 for i in range(first, steps) if (i + 1) % accum == 0 or i == steps - 1)

    left = t.config.epochs - t.state.epoch
    todo = left * optimizer_steps(0) if state is None else \
        optimizer_steps(state["step"]) + (left - 1) * optimizer_steps(0)
    if s.warmup is not None:
        todo -= max(0, s.warmup_steps - s.steps)  # the warmup's ticks come first
    at = s.scheduler.last_epoch
    if at + todo > total:
        again = " (the stopped epoch is trained again from its start)" if restarted else ""
        raise F.bad("checkpoint.scheduler.scheduler.last_epoch",
                    f"the schedule {s.name} has made {at} of its {total} steps, and this run "
                    f"would make {todo} more from epoch {t.state.epoch + 1}{again}; the checkpoint's "
                    "schedule does not match its epoch and step")


def _load_training_state(t: Session, ck: dict, path: str, F: checks.Fields) -> None:
    """Optimizer, schedule and scaler state, each checked against the fresh object's kinds.

    torch's ``load_state_dict`` takes whatever values it is given (a schedule's
    simply replace its attributes), so each is compared with what the freshly
    made object holds: a string where a number belongs would otherwise fail
    only inside the first step.
    """
    hint = " (was the checkpoint saved with other optimizer or schedule settings?)"
    fresh_groups = [{k: v for k, v in g.items() if k != "params"}
                    for g in t.optimizer.param_groups]
    sched = getattr(t.schedule, "scheduler", None)
    warm = getattr(t.schedule, "warmup", None)
    fresh_sched = sched.state_dict() if sched is not None else None
    fresh_warm = warm.state_dict() if warm is not None else None
    saved = ck.get("scheduler")
    if saved is not None:
        for key, fresh in (("scheduler", fresh_sched), ("warmup", fresh_warm)):
            if fresh is not None and saved.get(key) is not None:
                checks.same_kind(saved[key], fresh, f"checkpoint.scheduler.{key}", F,
                                 extra_keys=False, hint=hint)
    try:
        t.optimizer.load_state_dict(ck["optimizer"])
        if saved is not None:
            t.schedule.load_state_dict(saved)
        if t.scaler is not None and ck.get("scaler"):
            checks.same_kind(ck["scaler"], t.scaler.state_dict(), "checkpoint.scaler", F,
                             hint=hint)
            t.scaler.load_state_dict(ck["scaler"])
    except (KeyError, ValueError, RuntimeError, TypeError, IndexError) as exc:
        detail = f"the saved state has no {exc.args[0]!r}" if isinstance(exc, KeyError) and \
            exc.args else str(exc)
        raise CheckpointError(f"checkpoint {path!r} was saved with other training "
                              f"settings (optimizer or schedule differ: {detail})") from None
    for i, (group, fresh) in enumerate(zip(t.optimizer.param_groups, fresh_groups)):
        loaded = {k: v for k, v in group.items() if k != "params"}
        checks.same_kind(loaded, fresh, f"checkpoint.optimizer.param_groups[{i}]", F,
                         hint=hint)
    checks.check_optimizer_state(t.optimizer, F)


def check_resumable(t: Session, ck: dict, path: str) -> None:
    """Refuse a resume with nothing left to do, or one a schedule's length forbids.

    Raises:
        ResumeError: with the epoch counts and what to do instead.
    """
    c, done = t.config, ck.get("epoch", 0)
    before = ck.get("planned_epochs")
    sched = t.schedule
    if done >= c.epochs:
        more = (f"ask for more epochs than {done} (--epochs)" if not sched.lengths() else
                f"the schedule {sched.name} follows the run's length, so start a new run "
                f"from these weights with --init-weights {path}")
        raise ResumeError(f"nothing left to do: checkpoint {path!r} has already trained "
                          f"{done} epochs and this run asks for {c.epochs}; {more}")
    saved = (ck.get("scheduler") or {}).get("scheduler") or {}
    diff = [(k, saved[k], v) for k, v in sched.lengths().items()
            if k in saved and saved[k] != v]
    if not diff:
        return
    k, old, new = diff[0]
    if before is not None and before != c.epochs:
        why = f"was made for {before} epochs and this run asks for {c.epochs}"
        again = f"resume with {before} epochs (--epochs {before})"
    else:
        why = ("was made for another number of steps per epoch (the batch size or "
               "gradient accumulation changed)")
        again = "resume with the original batch size and gradient accumulation"
    raise ResumeError(f"cannot resume from {path!r}: the schedule {sched.name} {why}; its "
                      f"learning rate follows the run's length ({k} {old}, would be {new}), "
                      f"so it cannot be continued for another length. Either {again}, or "
                      f"start a new run from these weights with --init-weights {path}")
