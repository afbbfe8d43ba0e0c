"""Runs kept on disk: each run's settings, network and metrics in its own folder.

A run's folder (``runs/<project>-<time>-<n>/``, next to the project file or
in the app's data folder) holds the engine's ``best.pt``/``last.pt`` and two
files written here:

- ``run.json``, written once when the run starts: the run id, when it
  started, the project file it was made from, the weights it started from,
  and the network and training settings as they were at Start (a project
  document);
- ``metrics.jsonl``, one JSON object a line, appended as the run goes:
  ``{"step_losses": [...]}`` (the step losses since the last line, in
  order), ``{"epoch": {...}}`` (an epoch's history row) and ``{"status":
  ..., "message": ...}`` (the run ended, or a stopped run continues).

So the network is written once and an epoch costs one short line, however
large the network.  :func:`load_runs` reads back the runs made from one
project file, so they are listed again, compared and loaded after a
restart; a run whose last status is ``running`` ended with the program and
is listed as ``interrupted``.  A ``run.json`` of version 1 (history and step
losses inside it) is still read.  Plain JSON only: no torch here.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

from graph.project import Project, ProjectLoadError, project_from_dict, project_to_dict

from .runs import RunRecord

RUN_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"
KIND = "netcanvas-run"
VERSION = 2


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
    """What ``run.json`` holds for a run (its metrics go to ``metrics.jsonl``)."""
    network = rec.network
    if network is None:  # a record made without the Start snapshot's document
        network = project_to_dict(Project(rec.name, rec.graph, rec.training, {}, None))
    return {"format": KIND, "version": VERSION, "id": rec.id, "started": rec.started,
            "project_file": rec.project_file, "init_weights": rec.init_weights,
            "network": network}


def _new_lines(rec: RunRecord, written: dict) -> list[dict]:
    """The metrics.jsonl lines of what ``rec`` holds beyond ``written``."""
    lines = []
    losses = rec.metrics.series.get("loss")
    if losses is not None and len(losses) > written["steps"]:
        lines.append({"step_losses": losses.y[written["steps"]:].tolist()})
    lines += [{"epoch": row} for row in rec.history[written["rows"]:]]
    if (rec.status, rec.message) != written["status"]:
        lines.append({"status": rec.status, "message": rec.message})
    return lines


def save_run(rec: RunRecord) -> Path | None:
    """Keep the run on disk: ``run.json`` the first time, then append to
    ``metrics.jsonl`` what the record measured since the last call (nothing
    when nothing changed).  None when the run has no folder.

    Raises:
        OSError: a file cannot be written.
    """
    if rec.out_dir is None:
        return None
    folder = Path(rec.out_dir)
    path = folder / RUN_FILE
    written = rec.on_disk
    if written is None or not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        # write-and-rename without fsync: a torn file costs one run's record, and an
        # fsync on the window's thread would make the window late
        tmp = path.with_name(f".{RUN_FILE}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(run_to_dict(rec), default=_jsonable), encoding="utf-8")
        os.replace(tmp, path)
        (folder / METRICS_FILE).write_text("", encoding="utf-8")
        written = {"steps": 0, "rows": 0, "status": None}
    lines = _new_lines(rec, written)
    if lines:
        # one write of whole lines: a crash in between loses the last lines, and
        # a torn last line is skipped when read
        text = "".join(json.dumps(ln, default=_jsonable) + "\n" for ln in lines)
        with open(folder / METRICS_FILE, "a", encoding="utf-8") as f:
            f.write(text)
    rec.on_disk = {"steps": rec.metrics.steps_done, "rows": len(rec.history),
                   "status": (rec.status, rec.message)}
    return path


def discard_run(rec: RunRecord) -> None:
    """Remove a run's ``run.json`` and ``metrics.jsonl``, and its folder when nothing else is in it
    (a Start refused before training leaves no run behind).

    Raises:
        OSError: the file cannot be removed.
    """
    if rec.out_dir is None:
        return
    folder = Path(rec.out_dir)
    (folder / RUN_FILE).unlink(missing_ok=True)
    (folder / METRICS_FILE).unlink(missing_ok=True)
    rec.on_disk = None
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
        # a copy: reading migrates the dict in place, and the run keeps it as written
        project = project_from_dict(copy.deepcopy(d.get("network")), str(path))
    except ProjectLoadError as exc:
        raise RunFileError(f"{path}: its network cannot be read ({exc})") from None
    status, message = d.get("status") or "running", str(d.get("message") or "")
    history = [h for h in d.get("history") or [] if isinstance(h, dict)]
    losses = [float(v) for v in d.get("step_losses") or []]
    if d.get("version", 1) >= 2:
        status, message = _read_metrics(path.with_name(METRICS_FILE), history, losses)
    if status == "running":  # the program ended while it trained
        status = "interrupted"
    rec = RunRecord(str(d.get("id") or path.parent.name), project.training, project.graph,
                    path.parent, status=status, history=history, message=message,
                    step_losses=losses, project_file=d.get("project_file"), name=project.name,
                    started=str(d.get("started") or ""), init_weights=d.get("init_weights"),
                    network=d.get("network"))
    # what is on disk now: the next save appends to it (a resumed run)
    rec.on_disk = {"steps": len(losses), "rows": len(history), "status": (status, message)}
    return rec


def _read_metrics(path: Path, history: list, losses: list) -> tuple[str, str]:
    """Add the lines of a ``metrics.jsonl`` to ``history`` and ``losses``; the
    last status and message (``running`` when the run never said it ended).
    Unreadable lines (a torn last line) are skipped."""
    status, message = "running", ""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:  # no metrics yet: the program ended before the first epoch
        return status, message
    for line in text.splitlines():
        try:
            d = json.loads(line)
        except ValueError:
            continue
        if not isinstance(d, dict):
            continue
        if isinstance(d.get("epoch"), dict):
            history.append(d["epoch"])
        elif isinstance(d.get("step_losses"), list):
            losses.extend(float(v) for v in d["step_losses"] if isinstance(v, (int, float)))
        elif "status" in d:
            status, message = str(d["status"] or "running"), str(d.get("message") or "")
    return status, message


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
