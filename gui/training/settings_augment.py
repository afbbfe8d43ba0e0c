"""The augmentation settings in the training settings panel (``training.augment``).

One row per change: a check box that turns it on, and its amount (pixels
for translate and crop-with-padding, degrees for rotate, the zoom range for
scale, the standard deviation of Gaussian input noise, the probability of
token dropout).  A row that is off leaves its key out of the project; none
on means ``augment`` is left out.  Horizontal flip is off by default and
says why when turned on: a mirrored digit or letter is often another one
(b ↔ d, 2, 7).  Rows that cannot change this network's inputs (image changes
without an image ``Input``, noise without a float one, token dropout without
a token one) are greyed out with the graph's own message: which row applies
to which input is decided once, by :func:`graph.training_check.augment_problems`
(what ``check``, the Problems panel and the engine use); the bounds are the
registry's (:data:`graph.training_names.AUGMENT`).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QDoubleSpinBox, QGridLayout, QLabel, QSpinBox,
                               QWidget)

from graph.training_check import augment_problems

#: key → (check box text, amount when first turned on, tooltip)
ROWS = {
    "translate": ("Translate (px)", 1.0, "Shift each image by up to this many pixels "
                                         "each way"),
    "rotate": ("Rotate (°)", 10.0, "Rotate each image by up to this many degrees either way"),
    "scale": ("Scale", (0.9, 1.1), "Zoom each image by a factor drawn from this range"),
    "crop_pad": ("Crop with padding (px)", 2, "Pad with this many zero pixels, then crop a "
                                              "random window of the original size"),
    "hflip": ("Horizontal flip", True, "Mirror half of the images left to right"),
    "noise": ("Gaussian noise (σ)", 0.05, "Add Gaussian noise of this standard deviation to "
                                          "the inputs"),
    "token_dropout": ("Token dropout (p)", 0.1, "Replace each token by token 0 with this "
                                                "probability"),
}
FLIP_WARNING = ("⚠ Flips change digits and letters (b ↔ d, 2 and 7 mirrored are no "
                "digits): use them only when a mirror image is the same class.")


def _spin(lo: float, hi: float, step: float, decimals: int = 2) -> QDoubleSpinBox:
    s = QDoubleSpinBox(decimals=decimals, minimum=lo, maximum=hi, singleStep=step)
    s.setKeyboardTracking(False)
    return s


class AugmentSettings(QWidget):
    """Check boxes and amounts for ``training.augment``.

    Signals:
        edited: the user changed a row (read the setting with :meth:`value`).
    """

    edited = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._loading = False
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.boxes: dict[str, QCheckBox] = {}
        self.amounts: dict[str, tuple] = {}
        self.translate = _spin(0, 64, 0.5, 1)
        self.rotate = _spin(0, 180, 5, 1)
        self.scale_lo = _spin(0.1, 4, 0.05)
        self.scale_hi = _spin(0.1, 4, 0.05)
        self.crop_pad = QSpinBox(minimum=0, maximum=64)
        self.noise = _spin(0, 10, 0.01, 3)
        self.token_dropout = _spin(0, 0.95, 0.05)
        amounts = {"translate": (self.translate,), "rotate": (self.rotate,),
                   "scale": (self.scale_lo, self.scale_hi), "crop_pad": (self.crop_pad,),
                   "hflip": (), "noise": (self.noise,), "token_dropout": (self.token_dropout,)}
        for row, (key, (text, default, tip)) in enumerate(ROWS.items()):
            box = QCheckBox(text)
            box.setToolTip(tip)
            self.boxes[key] = box
            self.amounts[key] = amounts[key]
            grid.addWidget(box, row, 0)
            for col, w in enumerate(amounts[key], 1):
                w.setToolTip(tip)
                w.setEnabled(False)
                grid.addWidget(w, row, col)
            self._set_amount(key, default)
            box.toggled.connect(lambda on, k=key: self._toggled(k, on))
            for w in amounts[key]:
                w.valueChanged.connect(self._changed)
        self.flip_warning = QLabel(FLIP_WARNING)
        self.flip_warning.setWordWrap(True)
        self.flip_warning.setStyleSheet("color: #c60;")
        self.flip_warning.setVisible(False)
        grid.addWidget(self.flip_warning, len(ROWS), 0, 1, 3)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #d22;")
        self.problem.setVisible(False)
        grid.addWidget(self.problem, len(ROWS) + 1, 0, 1, 3)

    # ------------------------------------------------------------ amounts
    def _set_amount(self, key: str, v) -> None:
        ws = self.amounts[key]
        if key == "scale":
            lo, hi = v
            ws[0].setValue(float(lo))
            ws[1].setValue(float(hi))
        elif ws:
            ws[0].setValue(v)

    def _amount(self, key: str):
        ws = self.amounts[key]
        if key == "hflip":
            return True
        if key == "scale":
            lo, hi = round(ws[0].value(), 4), round(ws[1].value(), 4)
            return [min(lo, hi), max(lo, hi)]
        if key == "crop_pad":
            return int(ws[0].value())
        return round(ws[0].value(), 4)

    # ------------------------------------------------------------ the setting
    def value(self) -> dict | None:
        """The ``augment`` object the rows give (None: nothing on)."""
        out = {key: self._amount(key) for key, box in self.boxes.items()
               if box.isChecked() and box.isEnabled()}
        return out or None

    def load(self, spec, inputs: list[tuple[str, tuple, bool]] | None = None) -> None:
        """Show ``spec`` (the file's ``augment``; a malformed one shows nothing on).

        Args:
            spec: the ``training.augment`` value.
            inputs: the network's inputs as :func:`graph.training_check.augment_inputs`
                gives them; None or empty (no usable ``Input`` yet): every row is open.
        """
        # Every row turned on at its first amount: the graph names the ones no input takes.
        unfit = dict(augment_problems({key: row[1] for key, row in ROWS.items()}, inputs)
                     ) if inputs else {}
        spec = spec if isinstance(spec, dict) else {}
        self._loading = True
        try:
            for key, box in self.boxes.items():
                v = spec.get(key)
                on = v is not None and v is not False
                fits = key not in unfit
                box.setEnabled(fits)
                box.setToolTip(ROWS[key][2] if fits else unfit[key])
                box.setChecked(on)
                if on and key != "hflip":
                    try:
                        self._set_amount(key, v)
                    except (TypeError, ValueError):  # a malformed amount: the panel says so
                        pass
                for w in self.amounts[key]:
                    w.setEnabled(on and fits)
            self.flip_warning.setVisible(self.boxes["hflip"].isChecked())
        finally:
            self._loading = False

    def set_problem(self, text: str | None) -> None:
        """Show why the setting is refused (None: hide)."""
        self.problem.setText(text or "")
        self.problem.setVisible(bool(text))

    def _toggled(self, key: str, on: bool) -> None:
        for w in self.amounts[key]:
            w.setEnabled(on)
        if key == "hflip":
            self.flip_warning.setVisible(on)
        self._changed()

    def _changed(self, *_args) -> None:
        if not self._loading:
            self.edited.emit()
