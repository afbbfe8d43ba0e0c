"""How the dataset's targets meet the model's output and the loss.

Decided once, before training, from one forward pass on two samples:
:func:`plan_targets` checks that the output fits the targets (naming both
shapes when not), and returns a :class:`TargetPlan` whose
:meth:`~TargetPlan.loss_targets` converts the *whole* target tensor once
(one-hot for a distribution loss, float for ``BCEWithLogitsLoss``, reshaped
for a regression output), so the training step itself only indexes and
calls the loss.  Per-step targets (logits ``N×T×C`` with labels ``N×T``, as in
next-token prediction) are flattened to ``(N·T)×C`` and ``N·T``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .errors import DataMismatchError
from .optim import INDEX_LOSSES


def _fmt(shape) -> str:
    return "×".join(["N"] + [str(d) for d in shape])


@dataclass
class TargetPlan:
    """What the engine does with outputs and targets.

    Attributes:
        kind: ``"index"`` (class index per prediction), ``"binary"`` (one logit,
            float 0/1 target), ``"onehot"`` (one-hot float target: KLDiv, MSE on
            classes, multi-logit BCE) or ``"value"`` (regression).
        classification: whether accuracy and a confusion matrix apply.
        flatten: per-step predictions: reshape output to ``(-1, C)``, labels to ``(-1,)``.
        num_classes: classes (classification).
        out_sample_shape: the model's output shape per sample.
    """

    kind: str
    classification: bool
    flatten: bool
    num_classes: int
    out_sample_shape: tuple

    def loss_targets(self, y: torch.Tensor) -> torch.Tensor:
        """The whole target tensor in the form the loss takes (done once)."""
        if self.kind == "index":
            return y.long()
        if self.kind == "binary":
            return y.float().reshape((y.shape[0],) + self.out_sample_shape)
        if self.kind == "onehot":
            return F.one_hot(y.long(), self.out_sample_shape[-1]).float()
        return y.float().reshape((y.shape[0],) + self.out_sample_shape)

    def loss_view(self, out: torch.Tensor, y: torch.Tensor):
        """(output, target) as the loss wants them for one batch."""
        if self.flatten:
            return out.reshape(-1, out.shape[-1]), (y.reshape(-1) if self.kind == "index"
                                                    else y.reshape(-1, y.shape[-1]))
        return out, y

    def predict(self, out: torch.Tensor) -> torch.Tensor:
        """Predicted class per prediction, flattened."""
        if self.kind == "binary":
            return (out > 0).long().reshape(-1)
        return out.argmax(-1).reshape(-1)


def plan_targets(out: torch.Tensor, y_sample_shape: tuple, loss_type: str, task: str,
                 num_classes: int | None, output_label: str = "the output") -> TargetPlan:
    """Check that a model output fits the targets and decide how to feed the loss.

    Args:
        out: the model's output for a small batch.
        y_sample_shape: the dataset's target shape per sample (``()`` for a
            class label, ``(k,)`` for k regression values, ``(T,)`` per-step labels).
        loss_type: the loss class name.
        task: ``"classification"`` or ``"regression"``.
        num_classes: the dataset's number of classes (classification).
        output_label: how to name the layer that makes the output.

    Raises:
        DataMismatchError: the output cannot be compared with the targets;
            the message names both shapes and suggests a change.
    """
    if not isinstance(out, torch.Tensor) or not out.is_floating_point():
        raise DataMismatchError(f"{output_label} must be a float tensor to train on, "
                                f"got {getattr(out, 'dtype', type(out).__name__)}")
    o = tuple(out.shape[1:])
    y = tuple(y_sample_shape)
    if task == "classification":
        c = num_classes or 0
        if loss_type in INDEX_LOSSES:
            kind = "index"
        elif loss_type == "BCEWithLogitsLoss" and (o in ((), (1,)) or o == y):
            kind = "binary"
        else:
            kind = "onehot"
        if kind == "binary":
            if c > 2:
                raise DataMismatchError(
                    f"BCEWithLogitsLoss with one output per sample needs 2 classes, but the "
                    f"dataset has {c}; use CrossEntropyLoss, or make {output_label} give {c} "
                    "outputs")
            return TargetPlan("binary", True, False, 2, o)
        if len(o) < 1 or o[:-1] != y:
            want = _fmt(y + (c,))
            raise DataMismatchError(
                f"{output_label} gives {_fmt(o)} but the targets are {_fmt(y)} class labels "
                f"of {c} classes; the output should be {want} (one score per class)")
        if o[-1] < c:
            raise DataMismatchError(
                f"{output_label} gives {o[-1]} scores per prediction ({_fmt(o)}) but the dataset "
                f"has {c} classes; set its size to {c}")
        return TargetPlan(kind, True, len(o) > 1, c, o)
    if loss_type in INDEX_LOSSES:
        raise DataMismatchError(f"{loss_type} is a classification loss but the task is "
                                "regression; use MSELoss, L1Loss, SmoothL1Loss or HuberLoss")
    n_out = 1
    for d in o:
        n_out *= d
    n_y = 1
    for d in y:
        n_y *= d
    if n_out != n_y:
        raise DataMismatchError(
            f"{output_label} gives {_fmt(o)} but the regression targets are {_fmt(y)}; "
            f"make it give {n_y} value(s) per sample")
    return TargetPlan("value", False, False, 0, o)
