"""The loss's rows of the training settings form.

A network with one trained ``Output`` has one loss (``training.loss``) and the
rows of the settings that loss takes (label smoothing, reduction, ignore
index, class weights; :mod:`~gui.training.settings_loss` says which); a
network with several has a row per Output instead
(:mod:`~gui.training.settings_outputs`), each Output's own settings kept in
the file as they are.  :class:`LossRows` holds these rows, shows a section's
values in them and writes them back.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout

from graph import training_names as vocab
from graph.training_check import per_output

from .settings_data import LOSSES
from .settings_fields import obj
from .settings_loss import (LOSS_FIELDS, BoundedSpin, ClassWeights, OptionalIntEdit,
                            class_names, effective_loss, reductions, set_loss_options, takes)
from .settings_outputs import DEFAULT, OutputLosses, output_rows, write_output_losses


class LossRows:
    """The loss, its own settings, and the per-Output losses.

    Args:
        form: the settings form the rows are added to (rows a loss does not
            take are hidden there).
    """

    def __init__(self, form: QFormLayout):
        self.form = form
        self.loss = QComboBox()
        self.loss.addItems([DEFAULT, *LOSSES])
        # the loss's own settings: shown for the losses that take them (load)
        smoothing = vocab.LOSSES["CrossEntropyLoss"]["label_smoothing"]
        self.label_smoothing = BoundedSpin("label smoothing", smoothing.lo, smoothing.hi)
        self.label_smoothing.setToolTip("Targets become (1 − ε)·one-hot + ε/classes: "
                                        "the network is not pushed to certainty")
        self.reduction = QComboBox()
        self.reduction.addItems([DEFAULT])
        self.ignore_index = OptionalIntEdit("ignore index")
        self.ignore_index.setToolTip("A target class index that takes no loss (e.g. padding)")
        self.class_weights = ClassWeights()
        # several Outputs: a row per Output (its loss and weight) instead of one loss
        self.output_losses = OutputLosses()

    def rows(self) -> tuple:
        """``(label, field)`` of each row, in form order."""
        return (("Loss", self.loss), ("Losses", self.output_losses),
                ("Label smoothing", self.label_smoothing), ("Reduction", self.reduction),
                ("Ignore index", self.ignore_index), ("Class weights", self.class_weights))

    # ------------------------------------------------------------ load
    def load(self, t: dict, v: dict, info, outputs: list[tuple[str, str]], problems) -> bool:
        """Show a section's loss.

        Args:
            t: the ``training`` section (any values).
            v: what each field shows (:func:`~gui.training.settings_values.shown_values`).
            info: the analysis' dataset information (classes, target).
            outputs: ``(node id, name)`` of each Output of the network.
            problems: the analysis' problems with a location.

        Returns:
            Whether the rows per Output are shown in place of the one loss.
        """
        self.loss.setCurrentText(v["loss"] or DEFAULT)
        self._load_options(t, v, info)
        return self._load_outputs(t, outputs, problems)

    def _load_options(self, t: dict, v: dict, info) -> None:
        """Show the loss's settings, and only the rows of those the loss takes."""
        loss = effective_loss(t, info)
        for field in LOSS_FIELDS:
            self.form.setRowVisible(getattr(self, field), takes(loss, field))
        self.reduction.clear()
        self.reduction.addItems([DEFAULT, *reductions(loss)])
        self.reduction.setCurrentText(v["reduction"] or DEFAULT)
        self.label_smoothing.setValue(v["label_smoothing"])
        self.ignore_index.set_value(v["ignore_index"])
        self.class_weights.set_classes(class_names(t, info), v["class_weights"])

    def _load_outputs(self, t: dict, outputs: list[tuple[str, str]], problems) -> bool:
        """Show a row per Output where the network has several (or the file a loss
        per Output id), in place of the one loss and its settings; whether it does."""
        per = len(outputs) > 1 or per_output(t.get("loss"), [oid for oid, _ in outputs])
        self.form.setRowVisible(self.output_losses, per)
        self.form.setRowVisible(self.loss, not per)
        if not per:
            return False
        for field in LOSS_FIELDS:  # each Output's own settings stay in the file as they are
            self.form.setRowVisible(getattr(self, field), False)
        marks: dict[str, list[str]] = {}
        for p in problems:
            parts = str(p.location or "").split(".")
            if len(parts) > 2 and parts[:2] in (["training", "loss"],
                                                ["training", "loss_weights"]):
                marks.setdefault(parts[2], []).append(p.message)
        self.output_losses.load(output_rows(t, outputs), marks)
        return True

    # ------------------------------------------------------------ read
    def read(self, t: dict, read, shown_loss: str, info) -> None:
        """Put the loss the rows show into ``t`` (``loss``, with its settings).

        Args:
            t: the section being written.
            read: ``read(fn, fallback)``: ``fn()``, or ``fallback`` with the
                field's message noted where it cannot be read.
            shown_loss: what the loss field showed when the section was loaded.
            info: the analysis' dataset information.
        """
        loss = self.loss.currentText()
        old_loss = obj(t.get("loss"))
        if loss == DEFAULT:
            t.pop("loss", None)
        else:
            t["loss"] = {**old_loss, "type": loss} if old_loss.get("type") == loss \
                else {"type": loss}
        if loss == DEFAULT and shown_loss != DEFAULT:
            return  # the loss was just set back to the default: its settings go with it
        loss = effective_loss(t, info)
        if not takes(loss, "reduction") and not takes(loss, "class_weights"):
            return  # a per-output loss, or none known: nothing shown here
        old = obj(t.get("loss"))
        reduction = self.reduction.currentText()  # (the old loss's list, when it just changed)
        values = {
            "label_smoothing": read(self.label_smoothing.checked, old.get("label_smoothing")),
            "reduction": reduction if reduction in reductions(loss) else None,
            "ignore_index": read(self.ignore_index.value, old.get("ignore_index")),
            "class_weights": read(self.class_weights.value, old.get("weight")),
        }
        set_loss_options(t, loss, values)

    def write_outputs(self, t: dict) -> None:
        """Put the rows per Output into ``t`` (``loss`` and ``loss_weights``)."""
        write_output_losses(t, self.output_losses.shown(), self.output_losses.rows())
