"""The training loop's rows of the training settings form: epochs, batch size,
gradient accumulation and clipping, the L1 penalty, early stopping and the
metric it watches, mixed precision, the device and the seed.
:class:`LoopRows` shows a section's values in them and writes them back.
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QSizePolicy, QSpinBox

from graph import training_names as vocab

from .settings_data import SettingsParseError
from .settings_fields import FloatEdit, obj


class LoopRows:
    """How long, in what steps and where a run trains.

    Args:
        devices: the devices the device list offers at first.
    """

    def __init__(self, devices: list[str]):
        self.epochs = QSpinBox(minimum=1, maximum=100000)
        self.batch_size = QSpinBox(minimum=1, maximum=1 << 20)
        self.accum = QSpinBox(minimum=1, maximum=1024)
        self.clip = FloatEdit("gradient clipping")
        self.clip.setPlaceholderText("none")
        self.l1 = FloatEdit("L1 penalty")
        self.patience = QSpinBox(minimum=0, maximum=1000, specialValueText="off")
        # what early stopping watches: the graph's Outputs decide the choices
        self.monitor = QComboBox()
        self.monitor.addItems(list(vocab.monitors()))
        self.monitor.setToolTip("The metric early stopping and the best checkpoint watch; "
                                "with several Outputs, each one's own too")
        self.amp = QCheckBox("mixed precision (CUDA)")
        # as wide as its text: a click in the empty row beside it does nothing,
        # so the box must not look as if it spanned the row
        self.amp.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.device = QComboBox()
        self.device.addItems(list(devices))
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1)

    def rows(self) -> tuple:
        """``(label, field)`` of each row, in form order."""
        return (("Epochs", self.epochs), ("Batch size", self.batch_size),
                ("Grad. accumulation", self.accum), ("Grad. clipping", self.clip),
                ("L1 penalty", self.l1), ("Early stopping", self.patience),
                ("Watch metric", self.monitor), ("AMP", self.amp),
                ("Device", self.device), ("Seed", self.seed))

    def set_devices(self, devices: list[str]) -> None:
        """Offer these devices (what this machine has, once torch is loaded)."""
        self.device.clear()
        self.device.addItems(devices)

    def load(self, v: dict, outputs: list[str]) -> None:
        """Show a section's values (``v``: what the fields show, see
        :func:`~gui.training.settings_values.shown_values`); ``outputs``: the
        ids of the network's Outputs (whose metrics early stopping may watch)."""
        for spin, key in ((self.epochs, "epochs"), (self.batch_size, "batch_size"),
                          (self.accum, "accum"), (self.patience, "patience"),
                          (self.seed, "seed")):
            spin.setValue(max(spin.minimum(), min(spin.maximum(), v[key])))
        self._load_monitors(v["monitor"], v["patience"] > 0, outputs)
        self.clip.set_value(v["clip"])
        self.l1.set_value(v["l1"])
        self.amp.setChecked(v["amp"])
        if self.device.findText(v["device"]) < 0:
            self.device.addItem(v["device"])
        self.device.setCurrentText(v["device"])

    def _load_monitors(self, current: str, enabled: bool, outputs: list[str]) -> None:
        """The metrics early stopping may watch in this network (each Output's
        own where it has several), ``current`` chosen (kept even when it is
        not one of them: the field is marked with the problem)."""
        items = list(vocab.monitors(outputs))
        if current not in items:
            items.append(current)
        if [self.monitor.itemText(i) for i in range(self.monitor.count())] != items:
            self.monitor.clear()
            self.monitor.addItems(items)
        self.monitor.setCurrentText(current)
        self.monitor.setEnabled(enabled)

    def read(self, t: dict, old: dict, read) -> None:
        """Put the values the rows show into the section ``t`` (a default is left
        unwritten); a field that cannot be read keeps its value in ``old`` (the
        section before this edit), its message noted by ``read(fn, fallback)``.
        """
        def put(key, value, default=None):
            if value is None or value == default:
                t.pop(key, None)
            else:
                t[key] = value

        put("epochs", self.epochs.value())
        put("batch_size", self.batch_size.value())
        put("grad_accum_steps", self.accum.value(), 1)
        def clip_value():
            clip = self.clip.value()
            if clip is not None and clip <= 0:
                raise SettingsParseError("gradient clipping must be a positive number "
                                         "(empty: none)")
            return clip

        put("grad_clip_norm", read(clip_value, old.get("grad_clip_norm")))
        put("l1", read(self.l1.value, old.get("l1", 0.0)), 0.0)
        es = dict(obj(t.get("early_stopping")))
        if self.patience.value():
            es["patience"] = self.patience.value()
            mon = self.monitor.currentText()
            if mon and (mon != "val_loss" or "monitor" in es):  # the default stays unwritten
                es["monitor"] = mon
            t["early_stopping"] = es
        else:
            t.pop("early_stopping", None)
        put("amp", self.amp.isChecked(), False)
        put("device", self.device.currentText(), "auto")
        put("seed", self.seed.value(), 0)
