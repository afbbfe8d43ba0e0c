"""The loss's own settings in the training settings panel, each with its widget:
label smoothing (a spin box from 0 to 1), the reduction (a list), the
ignored class index (an optional whole number) and class weights (a table
with one row per class of the dataset).

Which of them a loss takes, their bounds and choices come from the one
registry, :data:`graph.training_names.LOSSES`: a row is shown only for a
loss that takes its setting.  A typed value the setting refuses is kept out
of the project with a message that says why (:class:`SettingsParseError`);
a class-weight list whose length is not the dataset's class count is marked
by the analysis (:mod:`graph.dataset_checks`).
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QAbstractSpinBox, QDoubleSpinBox, QHBoxLayout,
                               QHeaderView, QLabel, QLineEdit, QPushButton, QSizePolicy,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from graph.dataset_info import default_loss
from graph.training_check import per_output
from graph.training_names import LOSSES, MAX_INT, TASKS, class_weighted
from runtime.data import builtin_catalog

from .settings_data import SettingsParseError

#: The panel's loss-setting fields by the loss setting they edit.
FIELDS = {"label_smoothing": "label_smoothing", "reduction": "reduction",
          "ignore_index": "ignore_index", "class_weights": "weight"}
LOSS_FIELDS = tuple(FIELDS)


def effective_loss(training: dict, info) -> str | None:
    """The loss the settings train with: the one named, else the task's default
    (the task set, else the dataset's); None for a per-output or malformed loss.

    Args:
        training: the ``training`` section.
        info: what the dataset gives (:class:`graph.dataset_info.DatasetInfo`) or None.
    """
    spec = training.get("loss")
    if per_output(spec):
        return None
    if spec is not None:
        kind = spec.get("type") if isinstance(spec, dict) else None
        return kind if isinstance(kind, str) and kind in LOSSES else None
    task = training.get("task")
    if task not in TASKS:
        target = _only_target(info)
        task = target.task if target is not None else "classification"
    return default_loss(task)


def _only_target(info):
    targets = getattr(info, "targets", ())
    return targets[0][1] if len(targets) == 1 else None


def class_names(training: dict, info) -> list[str] | None:
    """The dataset's class names (None: not a classification set, or not known yet)."""
    target = _only_target(info)
    c = target.num_classes if target is not None and target.task == "classification" else None
    if not c:
        return None
    ds = training.get("dataset")
    entry = builtin_catalog().get(ds.get("name")) if isinstance(ds, dict) \
        and isinstance(ds.get("name"), str) else None
    names = list(entry.class_names or ()) if entry is not None else []
    return names if len(names) == c else [str(i) for i in range(c)]


def set_loss_options(training: dict, loss: str, values: dict) -> None:
    """Write the loss settings the panel's fields give (``values`` by field;
    None or a zero smoothing: not set) into ``training["loss"]``, for ``loss``.

    The default loss with nothing set stays unnamed (no ``loss`` key).
    """
    spec = dict(training["loss"]) if isinstance(training.get("loss"), dict) else {}
    spec["type"] = loss
    for field, key in FIELDS.items():
        if not takes(loss, field):
            continue
        v = values.get(field)
        if v is None or field == "label_smoothing" and v == 0:
            spec.pop(key, None)
        else:
            spec[key] = v
    if "loss" in training or len(spec) > 1:
        training["loss"] = spec


def takes(loss: str | None, field: str) -> bool:
    """Whether ``loss`` takes the setting the panel's ``field`` edits."""
    if not isinstance(loss, str) or loss not in LOSSES:
        return False
    if field == "class_weights":
        return class_weighted(loss)
    return FIELDS[field] in LOSSES[loss]


def reductions(loss: str | None) -> tuple:
    """The reductions ``loss`` accepts (from the registry's rule)."""
    rule = LOSSES.get(loss, {}).get("reduction") if loss else None
    return tuple(rule.options) if rule is not None else ()


class BoundedSpin(QDoubleSpinBox):
    """A number between ``lo`` and ``hi``: the arrows and the wheel stay within
    them; a value typed outside is kept (a plain spin box would change it
    silently) so that :meth:`checked` refuses it with a message.

    Args:
        what: the setting's name for messages.
        lo, hi: the bounds.
    """

    def __init__(self, what: str, lo: float, hi: float, step: float = 0.05, decimals: int = 3,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.what, self.lo, self.hi = what, lo, hi
        self.setDecimals(decimals)
        self.setRange(-1e9, 1e9)  # typing is free; the bounds are said, not clamped
        self.setSingleStep(step)
        self.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToPreviousValue)
        self.setKeyboardTracking(False)

    def stepBy(self, steps: int) -> None:  # noqa: D102 (Qt override)
        v = self.value() + steps * self.singleStep()
        self.setValue(min(self.hi, max(self.lo, round(v, self.decimals()))))

    def stepEnabled(self):  # noqa: D102 (Qt override)
        flags = QAbstractSpinBox.StepEnabledFlag.StepNone
        if self.value() > self.lo:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        if self.value() < self.hi:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        return flags

    def checked(self) -> float:
        """The value, or :class:`SettingsParseError` when it is out of bounds."""
        v = self.value()
        if not self.lo <= v <= self.hi:
            raise SettingsParseError(f"{self.what} must be between {self.lo:g} and {self.hi:g}, "
                                     f"got {v:g}")
        return v


class OptionalIntEdit(QLineEdit):
    """A whole number typed as text; empty means not set (the loss's default).

    Args:
        what: the setting's name for messages.
        lo, hi: the accepted range.
    """

    def __init__(self, what: str, lo: int = -MAX_INT, hi: int = MAX_INT,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.what, self.lo, self.hi = what, lo, hi
        self.setPlaceholderText("none")

    def value(self) -> int | None:
        text = self.text().strip()
        if not text:
            return None
        try:
            v = int(text)
        except ValueError:
            raise SettingsParseError(f"{self.what}: {text!r} is not a whole number (empty: "
                                     "none)") from None
        if not self.lo <= v <= self.hi:
            raise SettingsParseError(f"{self.what} must be between {self.lo} and {self.hi}, "
                                     f"got {v}")
        return v

    def set_value(self, v) -> None:
        self.setText("" if v is None else str(v))


class ClassWeights(QWidget):
    """One weight per class, in a table of the dataset's classes.

    Empty cells weigh 1; a table with every cell empty means no class
    weights (every class weighs the same).  "Equal" empties it, so the row
    count follows the dataset's classes again.

    Signals:
        edited: the user changed a weight (read them with :meth:`value`).
    """

    edited = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._loading = False
        self._names: list[str] = []
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Class", "Weight"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # compact rows: ten classes fit without a tall panel
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.itemChanged.connect(self._changed)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.equal = QPushButton("Equal")
        self.equal.setToolTip("Every class weighs the same (no class weights)")
        self.equal.clicked.connect(self._equal)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.note, 1)
        bar.addWidget(self.equal)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        box.addWidget(self.table)
        box.addLayout(bar)

    def set_classes(self, names: list[str] | None, weights: list | None) -> None:
        """Show a row per class (``names``; None: not known before the data is
        read) with ``weights`` (None: none set)."""
        self._loading = True
        try:
            self._names = list(names or [])
            rows = len(weights) if weights else len(self._names)
            self.table.setRowCount(rows)
            for i in range(rows):
                name = self._names[i] if i < len(self._names) else f"class {i}"
                head = QTableWidgetItem(name)
                head.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.table.setItem(i, 0, head)
                w = weights[i] if weights else None
                self.table.setItem(i, 1, QTableWidgetItem("" if w is None else f"{w:g}"))
            shown = min(max(rows, 1), 6)
            height = self.table.horizontalHeader().height() + 2 * self.table.frameWidth() + \
                shown * self.table.verticalHeader().defaultSectionSize()
            self.table.setFixedHeight(height)
            self.updateGeometry()
            if not self._names and not weights:
                self.note.setText("The classes are known once the dataset is read.")
            elif weights and self._names and len(weights) != len(self._names):
                self.note.setText(f"{len(weights)} weights for {len(self._names)} classes: "
                                  "press Equal, then weigh each class.")
            else:
                self.note.setText("Empty: weight 1.")
            self.table.setEnabled(bool(rows))
        finally:
            self._loading = False

    def value(self) -> list[float] | None:
        """The weights (None: every cell empty).

        Raises:
            SettingsParseError: a cell is not a number ≥ 0.
        """
        cells = [(self.table.item(i, 0).text(), (self.table.item(i, 1).text()
                                                 if self.table.item(i, 1) else "").strip())
                 for i in range(self.table.rowCount())]
        if not any(text for _name, text in cells):
            return None
        out = []
        for name, text in cells:
            if not text:
                out.append(1.0)
                continue
            try:
                v = float(text)
            except ValueError:
                raise SettingsParseError(f"class weights: {name}: {text!r} is not a "
                                         "number") from None
            if not math.isfinite(v) or v < 0:
                raise SettingsParseError(f"class weights: {name}: must be a number >= 0, "
                                         f"got {text}")
            out.append(v)
        return out

    def shown(self) -> tuple:
        """What the table shows (to tell whether the user changed it)."""
        return tuple(self.table.item(i, 1).text() if self.table.item(i, 1) else ""
                     for i in range(self.table.rowCount()))

    def _changed(self, _item) -> None:
        if not self._loading:
            self.edited.emit()

    def _equal(self) -> None:
        self.set_classes(self._names, None)
        self.edited.emit()
