"""The sample shape of the user's dataset file, read cheaply and off the window's thread.

Before Start the settings panel says whether the chosen dataset fits the
graph's ``Input``.  For a built-in set the catalogue knows the shape; for a
file it is read here without loading the data:

- CSV: the header (and one row) only: one feature per column but the target;
- NPZ: the ``X.npy`` member's header inside the zip (shape and dtype);
- image folder: the image headers (size and bands), or the ``size`` option.

:class:`Prober` reads on a plain thread and keeps the answers per file (path,
size, modification time and options), so a big file never blocks the window
and each file is read once; its ``ready`` signal asks the panel to look again.
Nothing here imports torch.
"""

from __future__ import annotations

import csv
import io
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

FILE_KINDS = ("csv", "npz", "image_folder")
#: Bytes of a CSV file read for its header and first row.
CSV_HEAD = 65536


@dataclass(frozen=True)
class DataShape:
    """What one sample of a file dataset looks like (what :func:`runtime.data.check_fits` reads)."""

    name: str
    input_shape: tuple
    input_dtype: str


class ProbeError(ValueError):
    """The file cannot give samples; the message says why (in the loader's words)."""


def dataset_base(doc) -> Path | None:
    """The folder relative dataset paths are read from: the document's file's,
    else the file its project was read from (a template), else None (the working folder)."""
    path = getattr(doc, "path", None) or getattr(getattr(doc, "project", None), "path", None)
    return Path(path).resolve().parent if path else None


def file_of(spec: dict, base: Path | None) -> tuple[str, Path] | None:
    """``(kind, absolute path)`` of a file dataset spec, or None for a built-in one."""
    if not isinstance(spec, dict):
        return None
    for kind in FILE_KINDS:
        v = spec.get(kind)
        if isinstance(v, str) and v.strip():
            p = Path(v).expanduser()
            if not p.is_absolute():
                p = Path(base or Path.cwd()) / p
            return kind, p
    return None


def probe(kind: str, path: Path, spec: dict) -> DataShape | None:
    """Read the sample shape of a file dataset.

    Returns:
        The shape, or None when it cannot be told without loading (e.g. Pillow
        is missing for an image folder).

    Raises:
        ProbeError: the file cannot give samples (missing, unreadable, no such column).
    """
    if not path.exists():
        raise ProbeError(f"{'image folder' if kind == 'image_folder' else 'dataset file'} "
                         f"{str(spec.get(kind))!r} does not exist (looked in {path.parent})")
    if kind == "csv":
        return _csv(path, spec.get("target"))
    if kind == "npz":
        return _npz(path)
    return _images(path, spec.get("size"))


def _csv(path: Path, target) -> DataShape:
    try:
        with open(path, "rb") as f:
            head = f.read(CSV_HEAD)
    except OSError as exc:
        raise ProbeError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None
    text = head.decode("utf-8-sig", errors="replace")
    if len(head) == CSV_HEAD and "\n" in text:  # a partly read last line is not a row
        text = text[:text.rindex("\n") + 1]
    if not text.strip():
        raise ProbeError(f"{path.name}: the file is empty")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [[c.strip() for c in r] for r in csv.reader(io.StringIO(text, newline=""), dialect)
            if any(c.strip() for c in r)]
    if not rows:
        raise ProbeError(f"{path.name}: the file is empty")
    header = rows[0]
    if len(header) < 2:
        raise ProbeError(f"{path.name}: has only one column ({header[0]!r}); it needs feature "
                         "columns and a target column")
    if target is not None and target not in header:
        raise ProbeError(f"{path.name}: there is no column {target!r} for the target; "
                         "columns: " + ", ".join(repr(h) for h in header))
    return DataShape(path.name, (len(header) - 1,), "float32")


def _npz(path: Path) -> DataShape:
    import numpy as np

    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if "X.npy" not in names:
                have = ", ".join(n[:-4] for n in names if n.endswith(".npy")) or "none"
                raise ProbeError(f"{path.name}: has no array named X (arrays in the file: "
                                 f"{have}); save them with numpy.savez(path, X=..., y=...)")
            with z.open("X.npy") as f:
                version = np.lib.format.read_magic(f)
                read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                        else np.lib.format.read_array_header_2_0)
                shape, _fortran, dtype = read(f)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        if isinstance(exc, ProbeError):
            raise
        raise ProbeError(f"{path.name}: cannot be read as a NumPy .npz file ({exc})") from None
    if len(shape) < 2:
        raise ProbeError(f"{path.name}: X has shape {tuple(shape)}; it needs one row per "
                         "sample (shape (n, features...))")
    return DataShape(path.name, tuple(int(d) for d in shape[1:]),
                     "int64" if dtype.kind == "i" else "float32")


def _images(path: Path, size) -> DataShape | None:
    try:
        from PIL import Image
    except ImportError:
        return None  # the loader says at Start that Pillow is needed
    from runtime.data.images import _GRAY_BANDS, EXTENSIONS

    if not path.is_dir():
        raise ProbeError(f"image folder {path.name!r} is a file, not a folder with one "
                         "subfolder per class")
    gray, sizes = True, set()
    for cls in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for f in sorted(cls.iterdir()):
            if f.suffix.lower() not in EXTENSIONS or f.name.startswith("."):
                continue
            try:
                with Image.open(f) as im:
                    sizes.add(im.size)
                    gray = gray and tuple(im.getbands()) in _GRAY_BANDS
            except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
                return None  # the loader names the bad file at Start
    if not sizes:
        return None
    if size is not None:
        hw = tuple(size)
    elif len(sizes) == 1:
        w, h = sizes.pop()
        hw = (h, w)
    else:
        return None  # the loader asks for a "size" at Start
    return DataShape(path.name, (1 if gray else 3, *hw), "float32")


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

    def get(self, kind: str, path: Path, spec: dict):
        """``("ready", DataShape | None | ProbeError)`` or ``("pending", None)``
        (then :attr:`ready` follows)."""
        key = _key(kind, path, spec)
        with self._lock:
            if key in self._answers:
                return "ready", self._answers[key]
            if key in self._pending:
                return "pending", None
            self._pending.add(key)
        threading.Thread(target=self._read, args=(key, kind, path, dict(spec)),
                         name="netcanvas-dataset-probe", daemon=True).start()
        return "pending", None

    @staticmethod
    def _compute(kind, path, spec):
        try:
            return probe(kind, path, spec)
        except ProbeError as exc:
            return exc

    def _read(self, key, kind, path, spec) -> None:
        answer = self._compute(kind, path, spec)
        with self._lock:
            self._answers[key] = answer
            self._pending.discard(key)
        try:
            self.ready.emit()
        except RuntimeError:  # the panel was closed meanwhile
            pass

