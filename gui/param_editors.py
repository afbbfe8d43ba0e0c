"""Parameter editors by ``Param.kind``: the view-layer registry.

The block spec says what a parameter is; this module decides how to edit it
(the editors with one box per entry are in :mod:`gui.tuple_editors`).
Each editor wraps one widget, shows a value, parses what the user typed and
calls ``on_commit(value)`` when the user finishes an edit.  Parsing only turns
text into Python values; whether a value is allowed is decided by
``Param.check`` (in the graph layer), whose message the inspector shows.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox, QWidget

from graph.blocks import Param

INT_LIMIT = 2**31 - 1


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
        try:
            return int(t)
        except ValueError:
            raise ParseError(f"{param.name} must be a whole number, got {t!r}") from None
    if k == "float":
        try:
            return float(t)
        except ValueError:
            raise ParseError(f"{param.name} must be a number, got {t!r}") from None
    return t


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


def int_range(p: Param, lo_default: int = -INT_LIMIT) -> tuple[int, int]:
    """The whole numbers a spin box for ``p`` offers (its range, open ends excluded)."""
    lo = lo_default if p.min is None else int(p.min) + (1 if p.min_open else 0)
    hi = INT_LIMIT if p.max is None else int(p.max) - (1 if p.max_open else 0)
    return lo, hi


class IntEditor(Editor):
    def make(self) -> QWidget:
        if self.param.nullable:
            return super().make()
        w = QSpinBox()
        p = self.param
        lo, hi = int_range(p)
        # a required value not given yet shows as "required", one step below
        # the range, so that any value in the range can then be chosen
        self.unset = lo - 1 if p.required and lo > -INT_LIMIT else None
        w.setRange(lo if self.unset is None else self.unset, hi)
        if self.unset is not None:
            w.setSpecialValueText("required")
        w.setKeyboardTracking(False)
        w.setToolTip(p.doc)
        w.valueChanged.connect(self._changed)
        return w

    def _changed(self, v: int) -> None:
        self.on_commit(None if v == self.unset else int(v))

    def set_value(self, v: Any) -> None:
        if isinstance(self.widget, QSpinBox):
            self.widget.blockSignals(True)
            if isinstance(v, int) and not isinstance(v, bool):
                self.widget.setValue(v)
            else:
                self.widget.setValue(self.widget.minimum())
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


def editor_for(param: Param, on_commit: Callable[[Any], None]) -> Editor:
    """The editor for a parameter's kind (``size``, ``ints`` and ``shape``: one
    box per entry, from :mod:`gui.tuple_editors`)."""
    from .tuple_editors import ListEditor, SizeEditor  # it builds on this module

    kinds = dict(EDITORS, size=SizeEditor, ints=ListEditor, shape=ListEditor)
    return kinds.get(param.kind, Editor)(param, on_commit)
