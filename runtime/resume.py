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
"""

from __future__ import annotations

import torch

from .checkpoint import load_checkpoint, load_weights
from .errors import CheckpointError, ResumeError


def checkpoint_state(t, partial: bool) -> dict:
    """A checkpoint's content for trainer ``t`` (``partial``: stopped inside an epoch)."""
    rng = {"torch": torch.get_rng_state(), "shuffle": t.generator.get_state(),
           "shuffle_device": t.device.type}
    if t.device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state_all()
    state = {"model": t.model.state_dict(), "optimizer": t.optimizer.state_dict(),
             "scheduler": t.schedule.state_dict(),
             "scaler": t.scaler.state_dict() if t.scaler is not None else None,
             "rng": rng, "epoch": t.epoch, "step": t.step, "partial": partial,
             "planned_epochs": t.config.epochs,
             "history": t.history, "step_losses": t.step_losses, "best": t.best,
             "project": t.project, "training": t.training}
    if partial and t.epoch_state is not None:
        state["epoch_state"] = {k: (v.cpu() if isinstance(v, torch.Tensor) else v)
                                for k, v in t.epoch_state.items()}
        grads = [p.grad for p in t.model.parameters()]
        if any(g is not None for g in grads):
            state["grads"] = [g.detach().cpu() if g is not None else None for g in grads]
    return state


def restore(t, path) -> None:
    """Continue trainer ``t`` (prepared up to its schedule) from checkpoint ``path``.

    Raises:
        CheckpointError: unreadable, another network, or other optimizer/schedule settings.
        ResumeError: nothing left to do, or a length-bound schedule and another length.
    """
    ck = load_checkpoint(path)
    load_weights(t.model, ck["model"], f"checkpoint {str(path)!r}")
    check_resumable(t, ck, str(path))
    try:
        t.optimizer.load_state_dict(ck["optimizer"])
        if ck.get("scheduler") is not None:
            t.schedule.load_state_dict(ck["scheduler"])
        if t.scaler is not None and ck.get("scaler"):
            t.scaler.load_state_dict(ck["scaler"])
    except (KeyError, ValueError, RuntimeError, TypeError) as exc:
        raise CheckpointError(f"checkpoint {str(path)!r} was saved with other training "
                              f"settings (optimizer or schedule differ: {exc})") from None
    rng = ck.get("rng", {})
    if "torch" in rng:
        torch.set_rng_state(rng["torch"])
    if rng.get("cuda") and t.device.type == "cuda":
        torch.cuda.set_rng_state_all(rng["cuda"])
    if "shuffle" in rng and rng.get("shuffle_device") == t.device.type:
        t.generator.set_state(rng["shuffle"])
    t.epoch = int(ck.get("epoch", 0))
    t.history = list(ck.get("history", []))
    t.step_losses = list(ck.get("step_losses", []))
    t.step = int(ck.get("step", 0))
    t.best = dict(ck.get("best") or t.best)
    state = ck.get("epoch_state") if ck.get("partial") else None
    if state is not None and (state.get("batch_size") != t.config.batch_size
                              or len(state["perm"]) != len(t.setup.X)):
        state = None  # the saved shuffle is of another training set or batching
    if state is not None:
        t.pending_epoch = dict(state, perm=state["perm"].to(t.device))
        grads = ck.get("grads") or []
        for p, g in zip(t.model.parameters(), grads):
            if g is not None:  # stopped inside a gradient accumulation
                p.grad = g.to(p.device)
        t.notes.append(f"resumed from {str(path)!r} in epoch {t.epoch + 1} after "
                       f"step {state['step']} of {t.steps_per_epoch}")
    else:
        if ck.get("partial"):
            t.notes.append(f"the stopped epoch {t.epoch + 1} is trained again from "
                           "its start (the checkpoint does not hold where it stopped, "
                           "or the batch size or the number of training samples changed)")
        t.notes.append(f"resumed from {str(path)!r} after epoch {t.epoch}")


def check_resumable(t, ck: dict, path: str) -> None:
    """Refuse a resume with nothing left to do, or one a schedule's length forbids.

    Raises:
        ResumeError: with the epoch counts and what to do instead.
    """
    c, done = t.config, int(ck.get("epoch", 0))
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
