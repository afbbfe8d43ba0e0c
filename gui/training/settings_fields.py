"""Small pieces of the training settings panel's fields: a number typed as
text, and what a field shows (to tell whether the user changed it)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QWidget

from .settings_data import SettingsParseError


def obj(v) -> dict:
    """A setting that should be an object, or {} when the file holds something else."""
    return v if isinstance(v, dict) else {}


def state(w):
    """What a field shows, to tell whether the user changed it."""
    if isinstance(w, QComboBox):
        return w.currentText()
    if isinstance(w, QLineEdit):
        return w.text()
    if isinstance(w, QCheckBox):
        return w.isChecked()
    if hasattr(w, "shown"):  # a composite field (the class weights' table)
        return w.shown()
    return w.value()


class FloatEdit(QLineEdit):
    """A number typed as text (``1e-3`` reads better than a spin box); empty = None.

    Args:
        what: the field's name for messages.
    """

    def __init__(self, what: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.what = what

    def value(self) -> float | None:
        text = self.text().strip()
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            raise SettingsParseError(f"{self.what}: {text!r} is not a number") from None

    def set_value(self, v) -> None:
        self.setText("" if v is None else f"{v:g}")
