"""What the user's dataset gives, read off the window's thread.

The analysis checks the network against the chosen dataset on every edit
(:mod:`graph.dataset_checks`): :class:`DatasetFeeder` tells a document's
analyzer what the dataset gives (a :class:`graph.dataset_info.DatasetInfo`).
For a built-in set the catalogue knows it at once; for a file
:func:`runtime.data.header.dataset_info` reads it from the file's header, with
the loader's own checks and messages, on a thread, and the document
re-analyses when the answer arrives.  The settings panel also says whether
the file's samples fit the ``Input`` (:func:`runtime.data.sample_shape`).

:class:`Prober` reads on a plain thread and keeps the answers per file (path,
size, modification time and options), so a big file never blocks the window
and each file is read once; its ``ready`` signal asks its owner to look again.
Nothing here imports torch.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from runtime.data import DatasetError, sample_shape
from runtime.data.header import dataset_info
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

    Args:
        parent: the owner.
        read: ``(spec, base) → answer``, what is read (default:
            :func:`runtime.data.sample_shape`); a ``DatasetError`` it raises
            is the answer.

    Signals:
        ready: an answer arrived (look again with :meth:`get`).
    """

    ready = Signal()

    def __init__(self, parent: QObject | None = None, read=None):
        super().__init__(parent)
        self._reader = read or sample_shape
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
            answer = self._reader(spec, base)
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



class DatasetFeeder(QObject):
    """Keeps a document's analysis told what its chosen dataset gives.

    :meth:`update` after the training settings (or the document's file, which
    relative paths are read from) changed: a built-in set is known at once;
    a file is read on a thread, meanwhile the analysis knows nothing of it,
    and the document re-analyses (``analysed``) when the answer arrives.

    Args:
        doc: the :class:`~gui.document.Document` (its ``analyzer``,
            ``project.training``, ``path`` and :meth:`refresh`).
    """

    def __init__(self, doc):
        super().__init__(doc)
        self.doc = doc
        self.prober = Prober(self, read=dataset_info)
        self.prober.ready.connect(self._arrived)

    def info(self):
        """What the chosen dataset gives as far as known now (None: nothing
        chosen, or a file still being read)."""
        t = self.doc.project.training
        spec = t.get("dataset") if isinstance(t, dict) else None
        base = dataset_base(self.doc)
        where = file_of(spec, base) if isinstance(spec, dict) else None
        if where is None:
            return dataset_info(spec)  # a built-in set: the catalogue, no file read
        state, answer = self.prober.get(*where, spec, base)
        return answer if state == "ready" else None

    def update(self) -> bool:
        """Hand the analyzer what is known now; whether that changed anything."""
        info = self.info()
        if info == self.doc.analyzer.dataset:
            return False
        self.doc.analyzer.set_dataset(info)
        return True

    def _arrived(self) -> None:
        try:
            if self.update():
                self.doc.refresh()
        except RuntimeError:  # the document was closed meanwhile
            pass
