"""The training area's message line: one sentence about the last thing that happened."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget


class MessageLine(QLabel):
    """A selectable, wrapping line: red for a problem, plain for news."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setVisible(False)  # shown with its first words

    def show_message(self, text: str, error: bool = True) -> None:
        """Say ``text`` (in red when ``error``)."""
        self.setText(text)
        self.setStyleSheet("color: #d22;" if error else "")
        self.setVisible(bool(text.strip()))  # no empty row above the plots

    def setText(self, text: str) -> None:  # noqa: N802 (Qt override)
        super().setText(text)
        self.setVisible(bool(text.strip()))
