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

from graph.dataset_info import DataMismatch, target_fit

from .errors import DataMismatchError


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
    if not isinstance(out, torch.Tensor):
        raise DataMismatchError(f"{output_label} must be a float tensor to train on, "
                                f"got {type(out).__name__}")
    o = tuple(out.shape[1:])
    try:  # validation's rule (graph.dataset_info), so the editor shows it before Start
        kind = target_fit(o, out.is_floating_point(), tuple(y_sample_shape), loss_type, task,
                          num_classes, output_label)
    except DataMismatch as exc:
        raise DataMismatchError(str(exc)) from None
    if kind == "binary":
        return TargetPlan("binary", True, False, 2, o)
    if kind == "value":
        return TargetPlan("value", False, False, 0, o)
    return TargetPlan(kind, True, len(o) > 1, num_classes or 0, o)
