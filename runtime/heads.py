"""The losses and validation metrics of a run's trained outputs (its heads).

A network with one ``Output`` has one head and its metrics keep their plain
names (``val_loss``, ``val_accuracy``).  With several, each ``Output`` that has
targets is a head with its own loss and weight (``loss`` by Output id,
``loss_weights``); the training loss is the weighted sum of the heads'
losses, ``val_loss`` likewise, and each head's metrics carry its suffix
(``val_loss_<id>``, ``val_accuracy_<id>`` or ``val_mae_<id>``/``val_rmse_<id>``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .metrics import DeadUnitProbe, ValMeter
from .session import Session
from .setup import Head


def heads_loss(heads: list[Head], criteria: list[nn.Module], res, idx: torch.Tensor
               ) -> torch.Tensor:
    """The weighted sum of the heads' losses on the training batch ``idx``.

    Args:
        heads: the trained outputs.
        criteria: their loss modules.
        res: the model's output(s) for the batch.
        idx: the batch's sample indices in the training set.
    """
    total = None
    for h, crit in zip(heads, criteria):
        out, y = h.output(res), h.Y[idx]
        loss = crit(*h.plan.loss_view(out, y)) if h.plan.flatten else crit(out, y)
        if h.weight != 1.0:
            loss = loss * h.weight
        total = loss if total is None else total + loss
    return total


def validate(S: Session, stopping: Callable[[], bool]) -> dict | None:
    """Validation metrics, or None when a stop arrived during validation.

    With several heads, ``val_loss`` is the weighted sum of their losses, as
    in training, and the confusion matrix is the first classifying head's.

    Args:
        S: the run.
        stopping: whether a stop was asked (checked between batches).
    """
    s = S.setup
    if not len(s.Xv):
        return {}
    model, heads = S.model, s.heads
    meters = [ValMeter(h.plan, S.device) for h in heads]
    vb = max(S.config.batch_size, min(1024, 4 * S.config.batch_size))
    model.eval()
    try:
        with torch.no_grad(), DeadUnitProbe(model, s.code.attrs) as probe:
            for a in range(0, len(s.Xv), vb):
                if stopping():
                    return None
                xb = [x[a:a + vb] for x in s.Xvs]
                if S.autocast is not None:
                    with S.autocast():
                        scored = _val_losses(S, model(*xb), a, vb)
                else:
                    scored = _val_losses(S, model(*xb), a, vb)
                for h, m, (out, yb, loss) in zip(heads, meters, scored):
                    lab = None
                    if h.plan.classification:
                        lab = yb if h.Lv is None else h.Lv[a:a + vb]
                    m.add(out.float(), loss.float(), yb, lab)
        res = _read(heads, meters)
        dead, per = probe.read()
    finally:
        model.train()
    if dead is not None:
        res["dead_fraction"] = dead
        res["dead_by_node"] = per
    return res


def _val_losses(S: Session, res, a: int, vb: int) -> list:
    """``(output, targets, loss)`` per head for the validation batch at ``a``."""
    out = []
    for h, crit in zip(S.setup.heads, S.criteria):
        o, y = h.output(res), h.Yv[a:a + vb]
        out.append((o, y, crit(*h.plan.loss_view(o, y))))
    return out


def _read(heads: list[Head], meters: list[ValMeter]) -> dict:
    """The metrics of all heads, named as the module docstring says."""
    if len(heads) == 1 and not heads[0].suffix:
        res = meters[0].read()
        if res and heads[0].weight != 1.0:  # as the training loss is weighted
            res["val_loss"] *= heads[0].weight
        return res
    res: dict = {"val_loss": 0.0}
    for h, m in zip(heads, meters):
        got = m.read()
        if not got:
            continue
        res["val_loss"] += h.weight * got["val_loss"]
        if "confusion" in got and "confusion" not in res:
            res["confusion"] = got["confusion"]
        res.update({f"{k}{h.suffix}": v for k, v in got.items() if k != "confusion"})
    return res
