"""Parameter editors by ``Param.kind``: the view-layer registry.

The block spec says what a parameter is; this module decides how to edit it
(the editors with one box per entry, and ``editor_for`` which picks one for a
parameter, are in :mod:`gui.tuple_editors`).
Each editor wraps one widget, shows a value, parses what the user typed and
calls ``on_commit(value)`` when the user finishes an edit.  Parsing only turns
text into Python values; whether a value is allowed is decided by
``Param.check`` (in the graph layer), whose message the inspector shows.

Whole numbers are typed into an :class:`IntBox`: a spin box that takes the
text as typed (``-5`` stays ``-5``, ``99999999999`` stays itself) and leaves
the verdict to ``Param.check``, like any other field.  A ``QSpinBox`` would
clamp it to its range or drop the keys that leave it, so that a value the
user never typed would be committed without a word.  Its arrows step within
the spec's range only.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QCheckBox, QComboBox, QLineEdit, QWidget

from graph.blocks import Param


class ParseError(ValueError):
    """Text that is not a value of the parameter's kind."""


def atom(text: str) -> Any:
    """A typed entry: a whole number, else the text as a name (quotes dropped)."""
    text = text.strip().strip("\"'")
    try:
        return int(text)
    except ValueError:
        return text


def parse(param: Param, text: str) -> Any:
    """Turn typed text into a value for ``param`` (not yet checked); sizes, lists
    and shapes have one box per entry (:mod:`gui.tuple_editors`)."""
    t = text.strip()
    if not t and param.nullable:
        return None
    k = param.kind
    if k == "int":
        return parse_whole(param.name, t)
    if k == "float":
        try:
            return float(t)
        except ValueError:
            raise ParseError(f"{param.name} must be a number, got {t!r}") from None
    return t


def parse_whole(name: str, text: str) -> int:
    """A typed whole number, as typed (no range applied: ``Param.check`` decides).

    Raises:
        ParseError: the text is not a whole number.
    """
    t = text.strip()
    try:
        return int(t)
    except ValueError:
        raise ParseError(f"{name} must be a whole number, got {t!r}") from None


def format_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    return str(v)


class Editor:
    """One parameter's widget (see the module docstring)."""

    #: the style of a widget holding an invalid value (a composite editor
    #: names the boxes inside it)
    MARK_CSS = "border: 1px solid #d22;"

    def __init__(self, param: Param, on_commit: Callable[[Any], None]):
        self.param = param
        self.on_commit = on_commit
        self.widget: QWidget = self.make()

    def mark(self, invalid: bool) -> None:
        """Outline the widget in red while it holds an invalid value."""
        self.widget.setStyleSheet(self.MARK_CSS if invalid else "")

    def make(self) -> QWidget:
        w = QLineEdit()
        w.setPlaceholderText("default" if self.param.nullable else "")
        w.editingFinished.connect(self._text_done)
        w.setToolTip(self.param.doc)
        return w

    def _text_done(self) -> None:
        try:
            value = parse(self.param, self.widget.text())
        except ParseError as exc:
            self.on_commit(exc)
            return
        self.on_commit(value)

    def set_value(self, v: Any) -> None:
        if not self.widget.hasFocus() or self.widget.text() != format_value(v):
            self.widget.setText(format_value(v))


def int_range(p: Param, lo_default: int | None = None) -> tuple[int | None, int | None]:
    """The whole numbers the arrows of a box for ``p`` step through (its range,
    open ends excluded; None: unbounded)."""
    lo = lo_default if p.min is None else int(p.min) + (1 if p.min_open else 0)
    hi = None if p.max is None else int(p.max) - (1 if p.max_open else 0)
    return lo, hi


class IntBox(QAbstractSpinBox):
    """A box for a whole number that keeps what was typed (see the module docstring).

    The text is the state.  :attr:`valueChanged` is emitted when the user
    finishes an edit that changed the text (Enter, leaving the box), on each
    arrow step, and by :meth:`setValue` with a new value; its argument is
    :meth:`value`.  Read :meth:`text` (or :func:`parse_whole` it) for what was
    typed when :meth:`value` is None.

    Args:
        lo, hi: the range the arrows step within (None: unbounded); typed
            text is never held to it.
        special: text shown for "no value" (``"required"``), or None.
    """

    valueChanged = Signal(object)

    def __init__(self, lo: int | None = None, hi: int | None = None,
                 special: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.lo, self.hi, self.special = lo, hi, special
        self._shown = ""  # the text last set or committed (an edit is a change of it)
        self.editingFinished.connect(self._finished)

    # ------------------------------------------------------------ value
    def value(self) -> int | None:
        """The whole number shown (None: the special text, empty or not a number)."""
        try:
            return int(self.text().strip())
        except ValueError:
            return None

    def setValue(self, v: int | None) -> None:  # noqa: N802 (QSpinBox's name)
        """Show ``v`` (None: the special text, else empty); emits if it changed."""
        text = str(v) if v is not None else (self.special or "")
        if text != self.text() or text != self._shown:
            self.lineEdit().setText(text)
            self._shown = text
            self.valueChanged.emit(self.value())

    def minimum(self) -> int | None:
        return self.lo

    def maximum(self) -> int | None:
        return self.hi

    def setRange(self, lo: int | None, hi: int | None) -> None:  # noqa: N802 (QSpinBox's name)
        self.lo, self.hi = lo, hi

    # ------------------------------------------------------------ QAbstractSpinBox
    def validate(self, text: str, pos: int):  # noqa: D102 (Qt override)
        # every text may be typed: what is not a whole number, or out of the
        # range, is refused with its reason when the edit is finished
        return QValidator.State.Acceptable, text, pos

    def fixup(self, text: str) -> str:  # noqa: D102 (Qt override)
        return text  # never rewritten

    def stepEnabled(self):  # noqa: N802 (Qt override)
        flags = QAbstractSpinBox.StepEnabledFlag
        v = self.value()
        if v is None:
            return flags.StepUpEnabled | flags.StepDownEnabled
        on = flags.StepNone
        if self.hi is None or v < self.hi:
            on |= flags.StepUpEnabled
        if self.lo is None or v > self.lo:
            on |= flags.StepDownEnabled
        return on

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt override)
        v = self.value()
        if v is None:  # from "required" or a typo: the arrows start at the range's low end
            v = self.lo if self.lo is not None else 0
        else:
            v += steps
        if self.lo is not None:
            v = max(v, self.lo)
        if self.hi is not None:
            v = min(v, self.hi)
        self.setValue(v)
        self.selectAll()

    def _finished(self) -> None:
        if self.text() != self._shown:
            self._shown = self.text()
            self.valueChanged.emit(self.value())


class IntEditor(Editor):
    def make(self) -> QWidget:
        if self.param.nullable:
            return super().make()
        p = self.param
        lo, hi = int_range(p)
        # a required value not given yet shows as "required"
        w = IntBox(lo, hi, "required" if p.required else None)
        w.setToolTip(p.doc)
        w.valueChanged.connect(self._changed)
        return w

    def _changed(self, _v) -> None:
        w = self.widget
        if w.special is not None and w.text() == w.special:
            self.on_commit(None)
            return
        try:
            self.on_commit(parse_whole(self.param.name, w.text()))
        except ParseError as exc:
            self.on_commit(exc)

    def set_value(self, v: Any) -> None:
        if isinstance(self.widget, IntBox):
            self.widget.blockSignals(True)
            # shown as it is, in range or not: a file may hold a value the
            # spec refuses, and the inspector marks it with the reason
            self.widget.setValue(v if isinstance(v, int) and not isinstance(v, bool) else None)
            self.widget.blockSignals(False)
        else:
            super().set_value(v)


class BoolEditor(Editor):
    def make(self) -> QWidget:
        w = QCheckBox()
        w.setToolTip(self.param.doc)
        w.toggled.connect(lambda on: self.on_commit(bool(on)))
        return w

    def set_value(self, v: Any) -> None:
        self.widget.blockSignals(True)
        self.widget.setChecked(bool(v))
        self.widget.blockSignals(False)


class ChoiceEditor(Editor):
    def make(self) -> QWidget:
        w = QComboBox()
        for c in self.param.choices:
            w.addItem(str(c), c)
        w.setToolTip(self.param.doc)
        w.activated.connect(lambda i: self.on_commit(w.itemData(i)))
        return w

    def set_value(self, v: Any) -> None:
        self.widget.blockSignals(True)
        i = self.widget.findData(v)
        self.widget.setCurrentIndex(i)
        self.widget.blockSignals(False)


EDITORS: dict[str, type[Editor]] = {
    "int": IntEditor, "float": Editor, "bool": BoolEditor, "choice": ChoiceEditor,
}

