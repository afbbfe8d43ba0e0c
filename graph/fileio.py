"""Crash-safe file writing: atomic replace, a backup of the previous version,
and clean-up of temporary files a crash left behind.

Algorithm of :func:`atomic_write`: the new bytes go to a temporary file in the
same folder (same file system, so the final rename is atomic; created with the
mode a plain ``open()`` would give, so the umask applies), which is
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
import stat
import time
from pathlib import Path
from typing import Callable

#: Marker in the names of our temporary files: ``.NAME.netcanvas-tmp-PID-RAND``.
TEMP_MARK = ".netcanvas-tmp-"
_TEMP_RE = re.compile(r"^\..*\.netcanvas-tmp-(\d+)-[0-9a-f]+$")
#: Temporary files of a live process older than this are stale anyway.
STALE_AFTER_S = 3600.0


class FileSaveError(OSError):
    """Writing a file failed; the previous version on disk is unchanged.

    ``str()`` is the message alone (no ``[Errno N]`` prefix), ready to show.
    """

    def __str__(self) -> str:
        return self.strerror or super().__str__()


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
    # 0o666 minus the umask, as open() gives a new file; a file being replaced
    # keeps its own mode, as it would when overwritten in place.
    fd = os.open(tmp, flags, 0o666)
    try:
        mode = _existing_mode(path)
        if mode is not None and hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        _write_all(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _unlink(tmp)
        raise
    os.close(fd)
    return tmp


def _existing_mode(path: Path) -> int | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else None


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


def require_folder(path: str | os.PathLike) -> Path:
    """The folder ``path`` is to be written in, which must exist.

    Checked before writing, since the error of the first write would name our
    temporary file instead of what is wrong.

    Raises:
        FileSaveError: the folder does not exist (or is not a folder).
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise FileSaveError(errno.ENOENT, f"could not save {str(path)!r}: the folder "
                            f"{str(folder)!r} {what}")
    return folder


def atomic_write(path: str | os.PathLike, data: bytes, backup: bool = True) -> None:
    """Replace ``path`` with ``data`` so a crash never leaves a damaged file.

    Args:
        path: the file to write.
        data: its complete new content.
        backup: keep the previous version as ``FILE.bak``.

    Raises:
        FileSaveError: the write failed (no such folder, disk full, no
            permission, ...); the old file is intact and no temporary file is
            left behind.
    """
    path = Path(path)
    folder = require_folder(path)
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


def atomic_save(path: str | os.PathLike, write: Callable[[str], object]) -> None:
    """Like :func:`atomic_write` (without a backup), for a writer that makes the
    file itself, such as ``torch.save`` or safetensors' ``save_file``.

    ``write(tmp)`` writes the complete file at the temporary path ``tmp``,
    which then replaces ``path``.  The result has the mode a new file gets (or
    the mode of the file it replaces), whatever mode the writer used.

    Raises:
        FileSaveError: the folder does not exist; nothing was written.
        Exception: whatever ``write`` raises; no temporary file is left behind.
    """
    path = Path(path)
    folder = require_folder(path)
    tmp = temp_name(path)
    try:
        # the placeholder shows which mode a new file gets under the umask
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        mode = _existing_mode(path)
        if mode is None:
            mode = stat.S_IMODE(os.stat(tmp).st_mode)
        write(str(tmp))
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    _fsync_dir(folder)


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
