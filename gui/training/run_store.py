"""Runs kept on disk: each run's settings, network and curves in its own folder.

A run's folder (``runs/<project>-<time>-<n>/``, next to the project file or
in the app's data folder) holds the engine's ``best.pt``/``last.pt`` and a
``run.json`` written here: the run id, status, the network and training
settings as they were at Start (a project document), the per-epoch history
and every step's loss.  :func:`load_runs` reads back the runs made from one
project file, so they are listed again, compared and loaded after a restart.

``run.json`` is written when the run starts, after each epoch (the history,
small) and at its end (with the step losses); a run whose file still says
``running`` ended with the program and is listed as ``interrupted``.  Plain
JSON only: no torch here.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from graph.project import Project, ProjectLoadError, project_from_dict, project_to_dict

from .runs import RunRecord

RUN_FILE = "run.json"
KIND = "netcanvas-run"
VERSION = 1


def runs_folder(doc) -> Path:
    """``runs/`` next to the document's own file, else in the app's data folder.

    A new document, a template or the example network has no file of its own
    (``doc.path`` is None, even where its project was read from a template), so
    its runs never land in the program's folder (``resources/templates/runs``).
    """
    if getattr(doc, "path", None):
        return Path(doc.path).resolve().parent / "runs"
    from gui.recovery import data_dir

    return data_dir() / "runs"


def run_folder_name(name: str, stamp: str, number: int) -> str:
    """``<project slug>-<stamp>-<n>``: a folder name from the project's name."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-").lower()[:40] or "project"
    return f"{slug}-{stamp}-{number}"


class RunFileError(ValueError):
    """A ``run.json`` cannot be read as a run (the message says why)."""


def _jsonable(value):
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON data")


def _same_file(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def run_to_dict(rec: RunRecord) -> dict:
    """What ``run.json`` holds for a run."""
    network = project_to_dict(Project(rec.name, rec.graph, rec.training, {}, None))
    return {"format": KIND, "version": VERSION, "id": rec.id, "status": rec.status,
            "message": rec.message, "started": rec.started, "project_file": rec.project_file,
            "init_weights": rec.init_weights, "network": network, "history": rec.history,
            "step_losses": list(rec.step_losses)}


def save_run(rec: RunRecord) -> Path | None:
    """Write the run's ``run.json`` into its folder (None when it has none).

    The step losses written are the record's: the controller fills them in at
    the end of the run, so the writes after each epoch stay small.

    Raises:
        OSError: the file cannot be written.
    """
    if rec.out_dir is None:
        return None
    folder = Path(rec.out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RUN_FILE
    # write-and-rename without fsync: a torn file costs one run's record, and an
    # fsync on the window's thread after every epoch would make the window late
    tmp = path.with_name(f".{RUN_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(run_to_dict(rec), default=_jsonable), encoding="utf-8")
    os.replace(tmp, path)
    return path


def discard_run(rec: RunRecord) -> None:
    """Remove a run's ``run.json``, and its folder when nothing else is in it
    (a Start refused before training leaves no run behind).

    Raises:
        OSError: the file cannot be removed.
    """
    if rec.out_dir is None:
        return
    folder = Path(rec.out_dir)
    (folder / RUN_FILE).unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:  # missing, or holds what the training process wrote: kept
        pass


def read_run(path: str | os.PathLike) -> RunRecord:
    """The run a ``run.json`` describes.

    Raises:
        RunFileError: not a run file, or its network cannot be read.
        OSError: it cannot be read.
    """
    path = Path(path)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RunFileError(f"{path}: not JSON ({exc})") from None
    if not isinstance(d, dict) or d.get("format") != KIND:
        raise RunFileError(f"{path}: not a NetCanvas run file")
    try:
        project = project_from_dict(d.get("network"), str(path))
    except ProjectLoadError as exc:
        raise RunFileError(f"{path}: its network cannot be read ({exc})") from None
    status = d.get("status") or "interrupted"
    if status == "running":  # the program ended while it trained
        status = "interrupted"
    history = [h for h in d.get("history") or [] if isinstance(h, dict)]
    return RunRecord(str(d.get("id") or path.parent.name), project.training, project.graph,
                     path.parent, status=status, history=history,
                     message=str(d.get("message") or ""),
                     step_losses=[float(v) for v in d.get("step_losses") or []],
                     project_file=d.get("project_file"), name=project.name,
                     started=str(d.get("started") or ""), init_weights=d.get("init_weights"))


def load_runs(folder: str | os.PathLike, project_file: str | None) -> list[RunRecord]:
    """The runs in ``folder`` (a ``runs/`` folder) made from ``project_file``,
    oldest first; unreadable run files are skipped."""
    if not project_file:
        return []
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for run_file in sorted(folder.glob(f"*/{RUN_FILE}")):
        try:
            rec = read_run(run_file)
        except (RunFileError, OSError):
            continue
        if _same_file(rec.project_file, project_file):
            found.append(rec)
    found.sort(key=lambda r: (r.started, run_number(r.id)))
    return found


def run_number(run_id: str) -> int:
    """The number in a run id (``"run 12"`` → 12; 0 without one)."""
    digits = "".join(c for c in run_id if c.isdigit())
    return int(digits) if digits else 0
