"""Crash-safe file writing: atomic replace, a backup of the previous version,
and clean-up of temporary files a crash left behind.

Algorithm of :func:`atomic_write`: the new bytes go to a temporary file in the
same folder (same file system, so the final rename is atomic), which is
flushed and ``fsync``-ed; the current file, if any, is hard-linked (or copied)
to ``FILE.bak`` through a second temporary name and an atomic replace; then
the temporary file replaces ``FILE`` with :func:`os.replace`, and the folder
is ``fsync``-ed so the rename itself is durable.  A process killed at any
point leaves ``FILE`` either complete and old or complete and new; what it
leaves behind is a temporary file whose name :func:`cleanup_stale_temps`
recognises.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import time
from pathlib import Path

#: Marker in the names of our temporary files: ``.NAME.netcanvas-tmp-PID-RAND``.
TEMP_MARK = ".netcanvas-tmp-"
_TEMP_RE = re.compile(r"^\..*\.netcanvas-tmp-(\d+)-[0-9a-f]+$")
#: Temporary files of a live process older than this are stale anyway.
STALE_AFTER_S = 3600.0


class FileSaveError(OSError):
    """Writing a file failed; the previous version on disk is unchanged."""


def temp_name(path: Path) -> Path:
    """A fresh temporary path next to ``path`` that :func:`cleanup_stale_temps` knows."""
    return path.with_name(f".{path.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")


def backup_path(path: str | os.PathLike) -> Path:
    """Where the previous version of ``path`` is kept: ``FILE.bak``."""
    p = Path(path)
    return p.with_name(p.name + ".bak")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:  # pragma: no cover - os.write raises rather than returning 0
            raise OSError(errno.EIO, "write returned no progress")
        view = view[n:]


def _write_temp(path: Path, data: bytes) -> Path:
    tmp = temp_name(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o644)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _unlink(tmp)
        raise
    os.close(fd)
    return tmp


def _unlink(p: Path) -> None:
    try:
        os.unlink(p)
    except OSError:
        pass


def _fsync_dir(folder: Path) -> None:
    # Makes the rename durable; not possible on every platform (Windows).
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _keep_backup(path: Path) -> None:
    bak = backup_path(path)
    tmp = temp_name(bak)
    try:
        os.link(path, tmp)  # cheap and atomic: the backup shares the old inode
    except OSError:
        shutil.copy2(path, tmp)
    os.replace(tmp, bak)


def atomic_write(path: str | os.PathLike, data: bytes, backup: bool = True) -> None:
    """Replace ``path`` with ``data`` so a crash never leaves a damaged file.

    Args:
        path: the file to write.
        data: its complete new content.
        backup: keep the previous version as ``FILE.bak``.

    Raises:
        FileSaveError: the write failed (disk full, no permission, ...); the
            old file is intact and no temporary file is left behind.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    tmp: Path | None = None
    try:
        tmp = _write_temp(path, data)
        if backup and path.is_file():
            _keep_backup(path)
        os.replace(tmp, path)
        tmp = None
        _fsync_dir(folder)
    except OSError as exc:
        if tmp is not None:
            _unlink(tmp)
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise FileSaveError(exc.errno or errno.EIO,
                            f"could not save {str(path)!r}: {reason}; "
                            "the previous version on disk is unchanged") from exc


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError, ValueError):
        return True  # exists but not ours, or cannot tell: keep it
    return True


def cleanup_stale_temps(folder: str | os.PathLike) -> list[Path]:
    """Remove temporary files a crashed save left in ``folder`` (call at start-up).

    Only files named by :func:`temp_name` are touched, and only when the
    process that made them is gone (or they are older than an hour).

    Returns:
        The paths removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        m = _TEMP_RE.match(entry.name)
        if not m or not entry.is_file(follow_symlinks=False):
            continue
        try:
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER_S
        except OSError:
            continue
        if old or not _pid_alive(int(m.group(1))):
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass
    return removed
