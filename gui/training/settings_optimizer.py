"""The optimizer's and the learning-rate schedule's rows of the training
settings form: the optimizer, its learning rate, momentum (for the optimizers
that take one) and weight decay; the schedule and its parameters, typed as
``key=value`` pairs.  :class:`OptimizerRows` shows a section's ``optimizer``
and ``scheduler`` and writes them back.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLineEdit

from .settings_data import MOMENTUM, OPTIMIZERS, SCHEDULES, format_kwargs, parse_kwargs
from .settings_fields import FloatEdit, obj


class OptimizerRows:
    """The optimizer, its settings, the schedule and its parameters."""

    def __init__(self):
        self.optimizer = QComboBox()
        self.optimizer.addItems(list(OPTIMIZERS))
        self.lr = FloatEdit("learning rate")
        self.momentum = FloatEdit("momentum")
        self.weight_decay = FloatEdit("weight decay")
        self.schedule = QComboBox()
        self.schedule.addItems(["none", *SCHEDULES])
        self.schedule_params = QLineEdit()

    def rows(self) -> tuple:
        """``(label, field)`` of each row, in form order."""
        return (("Optimizer", self.optimizer), ("Learning rate", self.lr),
                ("Momentum", self.momentum), ("Weight decay", self.weight_decay),
                ("Schedule", self.schedule), ("Schedule params", self.schedule_params))

    def load(self, v: dict) -> None:
        """Show a section's optimizer and schedule (``v``: what the fields show,
        see :func:`~gui.training.settings_values.shown_values`)."""
        self.optimizer.setCurrentText(v["optimizer"])
        self.lr.set_value(v["lr"])
        self.momentum.set_value(v["momentum"])
        self.momentum.setEnabled(v["optimizer"] in MOMENTUM)
        self.weight_decay.set_value(v["weight_decay"])
        self.schedule.setCurrentText(v["schedule"] or "none")
        self.schedule_params.setText(format_kwargs(v["schedule_params"]))
        self.schedule_params.setEnabled(v["schedule"] is not None)

    def read(self, t: dict, old: dict, read) -> None:
        """Put the optimizer and schedule the rows show into ``t``.

        Args:
            t: the section being written.
            old: the section as it was before this edit.
            read: ``read(fn, fallback)``: ``fn()``, or ``fallback`` with the
                field's message noted where it cannot be read.
        """
        kind = self.optimizer.currentText()
        opt = dict(obj(t.get("optimizer")))
        if opt.get("type") != kind:
            opt = {"type": kind}
        old_opt = obj(old.get("optimizer"))
        lr = read(self.lr.value, old_opt.get("lr", 1e-3))
        opt["lr"] = lr if lr is not None else 1e-3
        for key, edit in (("momentum", self.momentum), ("weight_decay", self.weight_decay)):
            v = read(edit.value, old_opt.get(key)) if (key != "momentum" or kind in MOMENTUM) \
                else None
            if v is None:
                opt.pop(key, None)
            else:
                opt[key] = v
        t["optimizer"] = opt
        sch = self.schedule.currentText()
        old_sch = obj(t.get("scheduler"))
        if sch == "none":
            t.pop("scheduler", None)
        elif old_sch.get("type") != sch:
            t["scheduler"] = {"type": sch, **SCHEDULES[sch]}
        else:
            t["scheduler"] = read(lambda: {"type": sch, **parse_kwargs(self.schedule_params.text())},
                                  old_sch)
