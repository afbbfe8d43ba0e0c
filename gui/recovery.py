"""Autosave and crash recovery (R4).

While the editor runs, the document is written (when it has unsaved changes)
to a recovery file in the application data folder a couple of seconds after
the last edit: :meth:`Recovery.edited` restarts a short single-shot timer
(``delay_ms``), held to at most ``max_wait_ms`` after the first unsaved edit
so that a steady stream of edits is saved too; a one-minute timer is the
safety net.  The project is serialised to text on the window's thread (a
consistent snapshot) and written by one background thread, in order, with
:func:`graph.fileio.atomic_write`, so a slow disk never stalls the window.

Each running instance holds one *slot*: a ``QLockFile`` and its own recovery
file (``recovery.json`` for the first instance, ``recovery-2.json`` for a
second, ...), so a second instance autosaves its document without touching
the first one's.  A slot whose lock is free and whose file exists belongs to
a crashed session; a starting instance takes such a slot first and offers to
restore it.  The file holds the project exactly as the project format says,
plus one key (:data:`META_KEY`) with the project file's path, which
:meth:`Recovery.restore` takes out again.

The file only ever holds work that exists nowhere else: it is removed as soon
as nothing is unsaved (after a save, an undo back to the saved state, opening
another document, an autosave tick with a clean document) and at a clean
exit.  Until the user has answered the offer to restore a crashed session's
file, it is neither overwritten nor removed.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer, Signal

from graph.fileio import atomic_write, cleanup_stale_temps
from graph.project import Project, ProjectSaveError, dumps_project, load_project

#: Autosave this long after the last edit ...
DELAY_MS = 2_000
#: ... but no later than this after the first edit not yet autosaved.
MAX_WAIT_MS = 5_000
#: The safety net: an autosave tick this often whatever happens.
INTERVAL_MS = 60_000
#: How many instances can autosave side by side.
SLOTS = 16
#: The recovery file's own key: ``{"path": the project file or null}``.
META_KEY = "netcanvas_autosave"

LOG = logging.getLogger("netcanvas.recovery")


def data_dir() -> Path:
    env = os.environ.get("NETCANVAS_DATA_DIR")
    base = env or QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    path = Path(base or Path.home() / ".netcanvas")
    path.mkdir(parents=True, exist_ok=True)
    return path


def slot_files(folder: Path, slot: int) -> tuple[Path, Path]:
    """The lock file and recovery file of a slot (slot 0: the first instance's)."""
    suffix = "" if slot == 0 else f"-{slot + 1}"
    return folder / f"netcanvas{suffix}.lock", folder / f"recovery{suffix}.json"


class Recovery(QObject):
    """Autosaves a document's project; see the module docstring.

    Args:
        current: a callable returning ``(project, modified)`` or
            ``(project, modified, path)`` (``path``: the project file, kept
            with the autosave so a restored document saves where it came from).
        folder: where the lock and recovery files live (default: app data).
        delay_ms: autosave this long after the last edit.
        max_wait_ms: at most this long after the first edit not yet saved.
        interval_ms: the safety-net timer.

    Signals:
        failed(str): an autosave could not be written (the reason).
    """

    failed = Signal(str)

    def __init__(self, current, folder: str | os.PathLike | None = None, parent=None,
                 delay_ms: int = DELAY_MS, max_wait_ms: int = MAX_WAIT_MS,
                 interval_ms: int = INTERVAL_MS):
        super().__init__(parent)
        self.folder = Path(folder) if folder else data_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.current = current
        self.delay_ms, self.max_wait_ms = delay_ms, max_wait_ms
        cleanup_stale_temps(self.folder)  # what an autosave killed mid-write left behind
        self.slot, self.lock = self._take_slot()
        self.owner = self.lock is not None
        self.file = slot_files(self.folder, self.slot if self.owner else 0)[1]
        #: a crashed session's file, kept until the user answers the offer
        self.left_over = self.owner and self.file.exists()
        self._first_edit: float | None = None  # when the oldest edit not yet saved was made
        self.debounce = QTimer(self, singleShot=True, interval=delay_ms)
        self.debounce.timeout.connect(self._tick)
        self.timer = QTimer(self, interval=interval_ms)
        self.timer.timeout.connect(self._tick)
        # one thread, so writes and removals happen in the order they were asked for
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="netcanvas-autosave")
        if self.owner:
            self.timer.start()

    def _take_slot(self) -> tuple[int, QLockFile | None]:
        """Lock a free slot: a crashed session's (its file exists) first, else the first one."""
        crashed = [k for k in range(SLOTS) if slot_files(self.folder, k)[1].exists()]
        for slot in crashed + [k for k in range(SLOTS) if k not in crashed]:
            lock = QLockFile(str(slot_files(self.folder, slot)[0]))
            lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
            if lock.tryLock(0):
                return slot, lock
        return 0, None  # every slot taken: this instance cannot autosave

    # ------------------------------------------------------------ the offer
    def pending(self) -> Path | None:
        """The recovery file left by a crashed session, if this instance holds its slot."""
        return self.file if self.left_over and self.file.exists() else None

    def restore(self) -> Project:
        """Load the recovery file (the caller opens it as an unsaved document,
        then calls :meth:`resolved`).

        Returns:
            The project; its ``path`` is the project file it was autosaved
            from (None for a document never saved).

        Raises:
            ProjectLoadError: the recovery file is unreadable.
        """
        project = load_project(self.file)
        meta = project.extra.pop(META_KEY, None)
        path = meta.get("path") if isinstance(meta, dict) else None
        project.path = Path(path) if isinstance(path, str) and path else None
        return project

    def resolved(self) -> None:
        """The offer was answered with a restore: the file is ours again."""
        self.left_over = False

    def discard(self) -> None:
        """The offer was declined: drop the crashed session's file."""
        self.left_over = False
        if self.owner:
            self._run(self.file.unlink, True)

    # ------------------------------------------------------------ autosave
    def edited(self, *_args) -> None:
        """An edit was made: autosave ``delay_ms`` after the last one, and no
        later than ``max_wait_ms`` after the first one not yet saved."""
        if not self.owner:
            return
        now = time.monotonic()
        if self._first_edit is None:
            self._first_edit = now
        left = self.max_wait_ms - (now - self._first_edit) * 1000.0
        self.debounce.start(int(max(0.0, min(self.delay_ms, left))))

    def _tick(self) -> None:
        self.autosave(wait=False)

    def clear(self) -> None:
        """Nothing is unsaved now: remove this session's autosave."""
        self._first_edit = None
        self.debounce.stop()
        if self.owner and not self.left_over:
            # after any write still queued, or that write would bring the file back
            self._run(self.file.unlink, True)

    def autosave(self, wait: bool = True) -> bool:
        """Write the recovery file now if there are unsaved changes (remove it
        if there are none: the project file is then the newest state).

        Args:
            wait: return once the file is written (False: the background
                thread writes it; the timers use that).

        Returns:
            Whether an autosave was written (or, with ``wait=False``, queued).
        """
        if not self.owner or self.left_over:
            return False
        self._first_edit = None
        self.debounce.stop()
        project, modified, *rest = self.current()
        if not modified:
            self.clear()
            return False
        meta = {"path": str(rest[0]) if rest and rest[0] else None}
        snapshot = dataclasses.replace(project, extra={**project.extra, META_KEY: meta})
        try:
            data = dumps_project(snapshot).encode("utf-8")
        except (ProjectSaveError, UnicodeEncodeError) as exc:
            self._failed(f"Autosave failed: {exc}")
            return False
        result = self._writer.submit(self._write, data)
        return result.result() if wait else True

    def _write(self, data: bytes) -> bool:
        """On the writer thread: the recovery file, atomically."""
        try:
            atomic_write(self.file, data, backup=False)
        except OSError as exc:  # FileSaveError included: never raised at the user
            self._failed(f"Autosave failed: {exc}")
            return False
        return True

    def _failed(self, message: str) -> None:
        LOG.warning("%s", message)
        try:
            self.failed.emit(message)
        except RuntimeError:  # the window is gone
            pass

    def _run(self, fn, wait: bool) -> None:
        """Run a file operation on the writer thread, after what is queued."""
        def job() -> None:
            try:
                fn(missing_ok=True)
            except OSError as exc:
                LOG.warning("Could not remove the autosave %s: %s", self.file, exc)
        try:
            future = self._writer.submit(job)
        except RuntimeError:  # shut down already: nothing is queued, do it here
            job()
            return
        if wait:
            future.result()

    def shutdown(self) -> None:
        """A clean exit: remove the recovery file and release the lock."""
        self.timer.stop()
        self.debounce.stop()
        self.clear()
        self._writer.shutdown(wait=True)
        if self.owner:
            self.lock.unlock()
            self.owner = False
