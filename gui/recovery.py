"""Autosave and crash recovery (R4).

While the editor runs, the document is written every minute (when it has
unsaved changes) to ``recovery.json`` in the application data folder.  A
``QLockFile`` marks the running instance: a second instance neither autosaves
over the first one's file nor offers to restore it.

The file only ever holds work that exists nowhere else: it is removed as soon
as nothing is unsaved (after a save, an undo back to the saved state, opening
another document, an autosave tick with a clean document) and at a clean
exit.  So a recovery file found at start-up by the instance that gets the
lock means the last session crashed with unsaved edits, and it is newer than
the project file.  Until the user has answered the offer to restore it, it is
neither overwritten nor removed.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer

from graph.fileio import atomic_write
from graph.project import Project, dumps_project, load_project

INTERVAL_MS = 60_000


def data_dir() -> Path:
    env = os.environ.get("NETCANVAS_DATA_DIR")
    base = env or QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    path = Path(base or Path.home() / ".netcanvas")
    path.mkdir(parents=True, exist_ok=True)
    return path


class Recovery(QObject):
    """Autosaves a document's project; see the module docstring.

    Args:
        current: a callable returning ``(project, modified)`` to save.
        folder: where the lock and recovery files live (default: app data).
    """

    def __init__(self, current, folder: str | os.PathLike | None = None, parent=None):
        super().__init__(parent)
        self.folder = Path(folder) if folder else data_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.file = self.folder / "recovery.json"
        self.current = current
        self.lock = QLockFile(str(self.folder / "netcanvas.lock"))
        self.lock.setStaleLockTime(0)
        self.owner = self.lock.tryLock(100)
        self.timer = QTimer(self, interval=INTERVAL_MS)
        self.timer.timeout.connect(self.autosave)
        #: a crashed session's file, kept until the user answers the offer
        self.left_over = self.owner and self.file.exists()
        if self.owner:
            self.timer.start()

    def pending(self) -> Path | None:
        """The recovery file left by a crashed session, if this instance owns it."""
        return self.file if self.left_over and self.file.exists() else None

    def restore(self) -> Project:
        """Load the recovery file (the caller opens it as an unsaved document,
        then calls :meth:`resolved`).

        Raises:
            ProjectLoadError: the recovery file is unreadable.
        """
        return load_project(self.file)

    def resolved(self) -> None:
        """The offer was answered with a restore: the file is ours again."""
        self.left_over = False

    def discard(self) -> None:
        """The offer was declined: drop the crashed session's file."""
        self.left_over = False
        if self.owner:
            self.file.unlink(missing_ok=True)

    def clear(self) -> None:
        """Nothing is unsaved now: remove this session's autosave."""
        if self.owner and not self.left_over:
            self.file.unlink(missing_ok=True)

    def autosave(self) -> bool:
        """Write the recovery file now if there are unsaved changes (remove it
        if there are none: the project file is then the newest state)."""
        if not self.owner or self.left_over:
            return False
        project, modified = self.current()
        if not modified:
            self.clear()
            return False
        try:
            atomic_write(self.file, dumps_project(project).encode("utf-8"), backup=False)
        except (OSError, ValueError):
            return False  # autosave must never interrupt the user
        return True

    def shutdown(self) -> None:
        """A clean exit: remove the recovery file and release the lock."""
        self.timer.stop()
        self.clear()
        if self.owner:
            self.lock.unlock()
            self.owner = False
