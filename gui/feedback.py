"""What the window's controllers tell the user: a line in the status bar, or
a message box that does not block (the last text kept for tests)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QStatusBar, QWidget


class Feedback:
    """Messages to the user, for objects that have no window of their own.

    Args:
        parent: the window message boxes belong to.
        status_bar: where short messages go.
    """

    def __init__(self, parent: QWidget, status_bar: QStatusBar):
        self.parent = parent
        self.status_bar = status_bar
        #: the text of the last error box or "done" message
        self.last_message: str | None = None
        self._box: QMessageBox | None = None

    def status(self, text: str, ms: int = 0) -> None:
        """Show ``text`` in the status bar (for ``ms`` milliseconds; 0: until replaced)."""
        self.status_bar.showMessage(text, ms)

    def clear_status(self) -> None:
        self.status_bar.clearMessage()

    def done(self, text: str) -> None:
        """Report a finished task (an export) in the status bar."""
        self.last_message = text
        self.status_bar.showMessage(text, 6000)

    def show_error(self, title: str, text: str) -> None:
        """A non-blocking (window-modal) error box."""
        self.last_message = text
        box = QMessageBox(QMessageBox.Icon.Critical, title, text,
                          QMessageBox.StandardButton.Ok, self.parent)
        box.setModal(True)
        box.open()
        self._box = box  # kept: an opened box without a reference would be collected
