"""The sample shape of the user's dataset file, read off the window's thread.

Before Start the settings panel says whether the chosen dataset fits the
graph's ``Input``.  For a built-in set the catalogue knows the shape; for a
file :func:`runtime.data.sample_shape` reads it from the file's header, with
the loader's own checks and messages.

:class:`Prober` reads on a plain thread and keeps the answers per file (path,
size, modification time and options), so a big file never blocks the window
and each file is read once; its ``ready`` signal asks the panel to look again.
Nothing here imports torch.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from runtime.data import DatasetError, sample_shape
from runtime.data.loader import file_source, source_path


def dataset_base(doc) -> Path | None:
    """The folder relative dataset paths are read from: the document's file's,
    else the file its project was read from (a template), else None (the working folder)."""
    path = getattr(doc, "path", None) or getattr(getattr(doc, "project", None), "path", None)
    return Path(path).resolve().parent if path else None


def file_of(spec: dict, base: Path | None) -> tuple[str, Path] | None:
    """``(kind, absolute path)`` of a file dataset spec, or None for a built-in one."""
    kind = file_source(spec)
    return None if kind is None else (kind, source_path(spec[kind], base))


def _key(kind: str, path: Path, spec: dict):
    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = None
    return kind, str(path), stamp, str(spec.get("target")), str(spec.get("size"))


class Prober(QObject):
    """Reads file datasets' shapes on a thread and remembers them.

    Signals:
        ready: an answer arrived (look again with :meth:`get`).
    """

    ready = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._answers: dict = {}
        self._pending: set = set()
        self._lock = threading.Lock()

    def get(self, kind: str, path: Path, spec: dict, base: Path | None = None):
        """``("ready", SampleShape | DatasetError)`` or ``("pending", None)``
        (then :attr:`ready` follows)."""
        key = _key(kind, path, spec)
        with self._lock:
            if key in self._answers:
                return "ready", self._answers[key]
            if key in self._pending:
                return "pending", None
            self._pending.add(key)
        threading.Thread(target=self._read, args=(key, dict(spec), base),
                         name="netcanvas-dataset-probe", daemon=True).start()
        return "pending", None

    def _read(self, key, spec: dict, base: Path | None) -> None:
        try:
            answer = sample_shape(spec, base)
        except DatasetError as exc:
            answer = exc
        except Exception as exc:  # noqa: BLE001 (a file no check foresaw: say so, never hang)
            answer = DatasetError(f"the dataset file cannot be read ({type(exc).__name__}: {exc})")
        with self._lock:
            self._answers[key] = answer
            self._pending.discard(key)
        try:
            self.ready.emit()
        except RuntimeError:  # the panel was closed meanwhile
            pass

