"""Crash-safe saving (quality.md R3): kills mid-save, injected write errors,
backups, and clean-up of leftover temporary files."""

import errno
import os
import random
import signal
import sys
import time

import pytest

from graph import fileio
from graph.fileio import FileSaveError, atomic_write, backup_path, cleanup_stale_temps
from graph.project import Project, dumps_project, load_project, save_project


def big_project(name: str, n: int = 300) -> Project:
    p = Project.new(name)
    g = p.graph
    prev = g.add_node("Input", {"shape": [8]}, id="x").id
    for k in range(n):
        nid = g.add_node("Linear", {"out_features": 8}, id=f"l{k}", pos=(k, k)).id
        g.connect(prev, nid)
        prev = nid
    return p


def temps(folder):
    return [f for f in os.listdir(folder) if fileio.TEMP_MARK in f]


def test_save_replaces_and_keeps_previous_version_as_bak(tmp_path):
    path = tmp_path / "p.json"
    save_project(Project.new("first"), path)
    assert not backup_path(path).exists()
    save_project(Project.new("second"), path)
    assert load_project(path).name == "second"
    assert load_project(backup_path(path)).name == "first"
    assert temps(tmp_path) == []


@pytest.mark.parametrize("target", ["write", "fsync"])
def test_disk_full_leaves_the_old_file_intact(tmp_path, monkeypatch, target):
    path = tmp_path / "p.json"
    save_project(Project.new("old"), path)
    before = path.read_bytes()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, target, full)
    with pytest.raises(FileSaveError) as info:
        save_project(Project.new("new"), path)
    monkeypatch.undo()
    msg = str(info.value)
    assert "could not save" in msg and "No space left on device" in msg
    assert "previous version on disk is unchanged" in msg
    assert path.read_bytes() == before
    assert temps(tmp_path) == []


def test_failed_rename_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    atomic_write(path, b"old")

    def refuse(*a):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(FileSaveError, match="Permission denied"):
        atomic_write(path, b"new", backup=False)
    monkeypatch.undo()
    assert path.read_bytes() == b"old" and temps(tmp_path) == []


def test_cleanup_removes_only_our_dead_temps(tmp_path):
    dead = tmp_path / f".p.json{fileio.TEMP_MARK}999999999-abcd1234"
    mine = fileio.temp_name(tmp_path / "q.json")
    other = tmp_path / ".p.json.tmp"
    for f in (dead, mine, other):
        f.write_bytes(b"x")
    removed = cleanup_stale_temps(tmp_path)
    assert removed == [dead]
    assert mine.exists() and other.exists()
    old = time.time() - 2 * fileio.STALE_AFTER_S
    os.utime(mine, (old, old))
    assert cleanup_stale_temps(tmp_path) == [mine]
    assert cleanup_stale_temps(tmp_path / "missing") == []


def _saver(path, texts):  # runs in the forked child until killed
    try:
        k = 0
        while True:
            atomic_write(path, texts[k % 2])
            k += 1
    finally:
        os._exit(0)


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin",
                    reason="needs os.fork (POSIX)")
def test_sigkill_during_saves_never_damages_the_file(tmp_path):
    path = tmp_path / "p.json"
    texts = [dumps_project(big_project("A")).encode(), dumps_project(big_project("B", 310)).encode()]
    atomic_write(path, texts[0])
    rng = random.Random(7)
    kills = 0
    left_over = 0
    for _ in range(200):
        pid = os.fork()
        if pid == 0:
            _saver(path, texts)
        time.sleep(rng.uniform(0, 0.01))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        kills += 1
        content = path.read_bytes()
        assert content in texts, "the project file is damaged"
        if backup_path(path).exists():
            assert backup_path(path).read_bytes() in texts, "the backup is damaged"
        left_over += len(temps(tmp_path))
        cleanup_stale_temps(tmp_path)
        assert temps(tmp_path) == []
    assert kills == 200
    assert load_project(path).name in ("A", "B")
    assert left_over > 0, "no kill landed mid-save; the test proves nothing"


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_saved_project_and_backup_get_the_mode_a_new_file_gets(tmp_path, umask):
    path = tmp_path / "p.json"
    old = os.umask(umask)
    try:
        save_project(Project.new("first"), path)
        save_project(Project.new("second"), path)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert backup_path(path).stat().st_mode & 0o777 == 0o666 & ~umask


def test_saving_over_a_file_keeps_its_mode(tmp_path):
    path = tmp_path / "p.json"
    save_project(Project.new("first"), path)
    path.chmod(0o600)
    save_project(Project.new("second"), path)
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("write", [lambda p: atomic_write(p, b"x"),
                                   lambda p: fileio.atomic_save(p, lambda t: None)])
def test_saving_into_a_missing_folder_names_the_folder(tmp_path, write):
    path = tmp_path / "no" / "such" / "p.json"
    with pytest.raises(FileSaveError) as info:
        write(path)
    assert str(info.value) == (f"could not save '{path}': the folder '{path.parent}' "
                               "does not exist")
    (tmp_path / "file").write_text("")
    with pytest.raises(FileSaveError, match="the folder .* is not a folder"):
        write(tmp_path / "file" / "p.json")


def test_atomic_save_gives_a_writers_file_the_umask_mode_and_cleans_up_on_failure(tmp_path):
    path = tmp_path / "w.bin"

    def private_writer(tmp):  # as safetensors does: a new file of mode 0600
        os.unlink(tmp)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, b"data")
        os.close(fd)

    old = os.umask(0o022)
    try:
        fileio.atomic_save(path, private_writer)
    finally:
        os.umask(old)
    assert path.read_bytes() == b"data" and path.stat().st_mode & 0o777 == 0o644

    def failing(tmp):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        fileio.atomic_save(path, failing)
    assert path.read_bytes() == b"data" and temps(tmp_path) == []
