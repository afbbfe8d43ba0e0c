"""Editors for parameters that hold several numbers, one box per entry.

``size`` parameters (``kernel_size``, ``stride``, ``padding``, ``dilation``,
``output_size``) get one box per spatial dimension (an
:class:`~gui.param_editors.IntBox`: what is typed is taken or refused with
the spec's reason, never clamped); how many comes from
the spec's ``Param.length`` (``Conv2d``: 2), never from the editor.  A value
is stored as one int when every dimension is equal (``3``) and as a list
otherwise (``[3, 5]``), as PyTorch takes it.  The "=" toggle keeps the
dimensions equal while one is edited.  Strings the spec allows (padding
``"same"``/``"valid"``) and "default" for a nullable parameter (pooling
``stride``) are offered in a combo box in front.

``ints`` and ``shape`` parameters (``Reshape.shape``, ``Permute.dims``,
``Input.shape``) are lists of any length: one box per entry and +/− buttons.
A ``shape`` entry may be a name such as ``T`` (a variable length), so its
boxes are line edits.  Whether a value is allowed is decided by
``Param.check`` and the shape rules, whose reasons the inspector shows.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QLineEdit, QSizePolicy,
                               QToolButton, QWidget)

from graph.blocks import Param

from .param_editors import EDITORS, Editor, IntBox, ParseError, atom, int_range, parse_whole

VALUE = "__value__"  # the combo entry meaning "the numbers in the boxes"
BOX_WIDTH = 46


def _spin(param, lo_default: int | None = None) -> IntBox:
    box = IntBox(*int_range(param, lo_default))  # commits on Enter, an arrow or leaving it
    box.setMinimumWidth(BOX_WIDTH)
    box.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    return box


def _row() -> tuple[QWidget, QHBoxLayout]:
    w = QWidget()
    lay = QHBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(3)
    return w, lay


class SizeEditor(Editor):
    """A ``size`` parameter: one spin box per spatial dimension (see the module docstring)."""

    MARK_CSS = "QAbstractSpinBox, QComboBox { border: 1px solid #d22; }"

    def make(self) -> QWidget:
        p = self.param
        self.dims = p.length or 1
        w, lay = _row()
        modes = [(VALUE, "size")]
        if p.nullable:
            modes.append((None, "default"))
        modes += [(c, str(c)) for c in p.choices]
        self.mode = None
        if len(modes) > 1:
            self.mode = QComboBox()
            for data, text in modes:
                self.mode.addItem(text, data)
            self.mode.setToolTip(p.doc)
            self.mode.activated.connect(self._mode_chosen)
            lay.addWidget(self.mode)
        self.spins: list[IntBox] = []
        for i in range(self.dims):
            if i:
                lay.addWidget(QLabel("×"))
            box = _spin(p, 0)
            box.setToolTip(f"{p.name}, dimension {i + 1} of {self.dims}\n{p.doc}"
                           if self.dims > 1 else p.doc)
            box.valueChanged.connect(lambda _v, i=i: self._spin_changed(i))
            lay.addWidget(box, 1)
            self.spins.append(box)
        self.link = None
        if self.dims > 1:
            self.link = QToolButton()
            self.link.setText("=")
            self.link.setCheckable(True)
            self.link.setChecked(True)
            self.link.setToolTip("the same size in every dimension (turn off to set each one)")
            self.link.toggled.connect(self._link_toggled)
            lay.addWidget(self.link)
        return w

    # ------------------------------------------------------------ from the user
    def numbers(self) -> int | list[int]:
        """The boxes' value, as typed: one int when all are equal, else the list.

        Raises:
            ParseError: a box holds no whole number.
        """
        values = [parse_whole(self.param.name, b.text()) for b in self.spins]
        return values[0] if len(set(values)) == 1 else values

    def _commit_numbers(self) -> None:
        try:
            self.on_commit(self.numbers())
        except ParseError as exc:
            self.on_commit(exc)

    def _spin_changed(self, i: int) -> None:
        if self.link is not None and self.link.isChecked():
            for k, box in enumerate(self.spins):
                if k != i:
                    box.blockSignals(True)
                    box.lineEdit().setText(self.spins[i].text())
                    box.blockSignals(False)
        self._commit_numbers()

    def _link_toggled(self, on: bool) -> None:
        if on and len({b.text().strip() for b in self.spins}) > 1:
            self._spin_changed(0)  # linking makes every dimension the first one's size

    def _mode_chosen(self, index: int) -> None:
        data = self.mode.itemData(index)
        self._enable_boxes(data == VALUE)
        if data == VALUE:
            self._commit_numbers()
        else:
            self.on_commit(data)

    def _enable_boxes(self, on: bool) -> None:
        for box in self.spins:
            box.setEnabled(on)
        if self.link is not None:
            self.link.setEnabled(on)

    # ------------------------------------------------------------ from the model
    def set_value(self, v: Any) -> None:
        numbers = isinstance(v, (int, list, tuple)) and not isinstance(v, bool)
        if self.mode is not None:
            self.mode.blockSignals(True)
            i = self.mode.findData(VALUE if numbers else v)
            self.mode.setCurrentIndex(max(i, 0))
            self.mode.blockSignals(False)
        self._enable_boxes(numbers)
        if not numbers:
            # the numbers "size" starts from when chosen: the default, else the smallest allowed
            p = self.param
            lo = int_range(p, 0)[0]
            start = p.default if type(p.default) is int else max(lo, 1)
            for box in self.spins:
                if box.value() is None:
                    box.blockSignals(True)
                    box.setValue(start)
                    box.blockSignals(False)
            return
        values = [v] * self.dims if isinstance(v, int) else list(v)
        for box, x in zip(self.spins, values):
            box.blockSignals(True)
            box.setValue(int(x) if isinstance(x, int) else 0)
            box.blockSignals(False)
        if self.link is not None:
            self.link.blockSignals(True)
            self.link.setChecked(len(set(values)) == 1)
            self.link.blockSignals(False)


class ListEditor(Editor):
    """An ``ints`` or ``shape`` parameter: a box per entry, +/− for the length."""

    MARK_CSS = "QAbstractSpinBox, QLineEdit { border: 1px solid #d22; }"

    def make(self) -> QWidget:
        self.names_allowed = self.param.kind == "shape"
        w, lay = _row()
        self.row = QHBoxLayout()
        self.row.setSpacing(3)
        lay.addLayout(self.row, 1)
        self.boxes: list[QWidget] = []
        self.add_button, self.remove_button = QToolButton(), QToolButton()
        for button, text, tip, slot in ((self.add_button, "+", "add an entry", self._add),
                                        (self.remove_button, "−", "remove the last entry",
                                         self._remove)):
            button.setText(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            lay.addWidget(button)
        w.setToolTip(self.param.doc)
        return w

    def _make_box(self) -> QWidget:
        if self.names_allowed:
            box = QLineEdit()
            box.setMinimumWidth(BOX_WIDTH)
            box.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            box.editingFinished.connect(self._edited)
        else:
            box = _spin(self.param)
            box.valueChanged.connect(lambda _v: self._edited())
        box.setToolTip(self.param.doc)
        self.row.addWidget(box, 1)
        self.boxes.append(box)
        return box

    def _set_count(self, n: int) -> None:
        while len(self.boxes) > n:
            box = self.boxes.pop()
            self.row.removeWidget(box)
            box.deleteLater()
        while len(self.boxes) < n:
            self._make_box()
        self.remove_button.setEnabled(n > 0)

    def _box_value(self, box: QWidget) -> Any:
        if isinstance(box, IntBox):
            return parse_whole(self.param.name, box.text())
        if not box.text().strip():
            raise ParseError(f"{self.param.name}: an entry is empty; give a size or a name such as T")
        return atom(box.text())

    def values(self) -> list:
        """The entries as a list (raises :class:`ParseError` for an empty one)."""
        return [self._box_value(b) for b in self.boxes]

    def _edited(self) -> None:
        try:
            self.on_commit(self.values())
        except ParseError as exc:
            self.on_commit(exc)

    def _add(self) -> None:
        box = self._make_box()
        self._put(box, 1 if self.names_allowed else len(self.boxes) - 1)
        self.remove_button.setEnabled(True)
        self._edited()

    def _remove(self) -> None:
        if self.boxes:
            self._set_count(len(self.boxes) - 1)
            self._edited()

    @staticmethod
    def _put(box: QWidget, x: Any) -> None:
        box.blockSignals(True)
        if isinstance(box, IntBox):
            box.setValue(int(x) if isinstance(x, int) and not isinstance(x, bool) else 0)
        elif not box.hasFocus() or box.text() != str(x):
            box.setText(str(x))
        box.blockSignals(False)

    def set_value(self, v: Any) -> None:
        values = list(v) if isinstance(v, (list, tuple)) else []
        self._set_count(len(values))
        for box, x in zip(self.boxes, values):
            self._put(box, x)


def editor_for(param: Param, on_commit: Callable[[Any], None]) -> Editor:
    """The editor for a parameter's kind (``size``, ``ints`` and ``shape``: one
    box per entry, from this module)."""
    kinds = dict(EDITORS, size=SizeEditor, ints=ListEditor, shape=ListEditor)
    return kinds.get(param.kind, Editor)(param, on_commit)
