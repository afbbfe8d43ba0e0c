"""Start, pause, resume and stop of training runs: :class:`RunController`.

Start takes one snapshot of the document (its project as a dict, and one
copy of its graph for the run's record), makes the run's
:class:`~gui.training.runs.RunRecord` and hands the snapshot to a
:class:`~gui.training.worker.TrainingWorker` (which trains in a child
process); the worker's events go to the
:class:`~gui.training.live_ops.LiveDispatcher`.  A Start that cannot train
(:mod:`gui.training.start_checks`, loaded weights that no longer fit, or a
refusal by the training process) keeps no run: the reason is said once and
its block is named.  The worker module is imported by the training area's
loader in the background, so the first Start does not freeze the window.
"""

from __future__ import annotations

import copy
import importlib
import time

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QProgressBar

from .dataset_probe import dataset_base
from .live_ops import LiveDispatcher
from .message import MessageLine
from .run_ops import RunFiles, WeightsControl
from .run_store import run_folder_name, runs_folder
from .runs import RunRecord, RunsPanel
from .start_checks import node_named_in, start_problem

WORKER = "gui.training.worker"


class RunController(QObject):
    """Runs one training run at a time.

    Args:
        settings: the training settings panel (what Start checks first).
        runs: the run list (a new run is added, a refused one removed).
        live: shows the run's events.
        weights: the weights the document carries (a new run starts from them).
        files: keeps runs on disk.
        message: the message line.
        bar: the progress bar (its text says preparing, stopping, refused).

    Attributes:
        record: the run started last (None: none yet).
        worker: the running run's worker (None: no run).
        inject_fault: tests only: a fault the next run's process injects
            (:func:`runtime.remote_child.inject`).

    Signals:
        running_changed(bool): a run started or ended.
        fault_node(str): Start was refused because of this node.
    """

    running_changed = Signal(bool)
    fault_node = Signal(str)

    def __init__(self, settings, runs: RunsPanel, live: LiveDispatcher, weights: WeightsControl,
                 files: RunFiles, message: MessageLine, bar: QProgressBar,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.settings, self.runs, self.live = settings, runs, live
        self.plots = live.plots
        self.weights, self.files, self.message, self.bar = weights, files, message, bar
        self.doc = None
        self.worker = None
        self.record: RunRecord | None = None
        self.inject_fault: dict | None = None
        self.runs_made = 0
        #: (status of a resumed run or None for a new one, the previous record):
        #: what a refusal by the training process puts back
        self._before: tuple[str | None, RunRecord | None] = (None, None)
        live.on_refused = self._refused

    def bind(self, doc) -> None:
        """Runs of ``doc`` from now on; its saved runs are listed (a running
        run stays listed until it ends)."""
        self.doc = doc
        if not self.running:
            self.runs_made = self.files.show_saved(doc)

    @property
    def running(self) -> bool:
        return self.worker is not None

    # ------------------------------------------------------------ control
    def start(self, resume_from: RunRecord | None = None) -> bool:
        """Start a run (or continue a stopped one); False when refused before starting."""
        if self.running or self.doc is None:
            return False
        self.message.setText("")
        if resume_from is None:
            rec = self._new_record()
            if rec is None:
                return False
            resume, init = None, self.weights.weights.path if self.weights.weights else None
            self._before = (None, self.record)  # what a refusal by the process restores
        else:
            rec = resume_from
            self._before = (rec.status, self.record)
            rec.status = "running"
            if rec.id not in self.plots.runs:
                self.plots.add_run(rec.id, metrics=rec.metrics)
            resume, init = rec.checkpoint("last"), None
        self.record = rec
        network = rec.network if rec.network is not None else self._network_of(rec)
        mod = importlib.import_module(WORKER)
        w = mod.TrainingWorker(network, name=rec.name, out_dir=rec.out_dir,
                               base_dir=dataset_base(self.doc), resume=resume,
                               init_weights=init, fault=self.inject_fault, parent=self)
        w.event.connect(self.live.dispatch)
        w.finished.connect(self._finished)
        w.watch(self.live.watched)
        self.worker = w
        self.live.begin(rec, w)
        self.bar.setFormat("preparing…")
        self.files.save(rec)
        w.start()
        self.running_changed.emit(True)
        return True

    def _new_record(self) -> RunRecord | None:
        """A new run's record from one snapshot of the document, or None (the
        reason said) when it cannot train."""
        found = start_problem(self.doc, self.settings)
        if found is not None:  # refused before any run exists: no record is made
            problem, node = found
            self.message.show_message(f"Cannot start: {problem}")
            if node is not None:
                self.fault_node.emit(node)
            return None
        problem = self.weights.problem()
        if problem:
            self.message.show_message(
                f"Cannot start: the weights of {self.weights.weights.describe()} no longer fit "
                f"the network: {problem}. Undo the edit, or forget the weights to start from "
                "fresh ones.")
            return None
        self.runs_made += 1
        rid = f"run {self.runs_made}"
        while rid in self.runs.records:
            self.runs_made += 1
            rid = f"run {self.runs_made}"
        from graph.project import project_to_dict

        doc = self.doc
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out = runs_folder(doc) / run_folder_name(doc.name, stamp, self.runs_made)
        # the snapshot: one document dict (for the process, the checkpoints and the
        # run's folder) and one graph copy (compared and loaded from in this window)
        network = copy.deepcopy(project_to_dict(doc.project))
        w = self.weights.weights
        rec = RunRecord(rid, network["training"], doc.graph.copy(), out,
                        project_file=doc.path, name=doc.name,
                        started=time.strftime("%Y-%m-%d %H:%M:%S"),
                        init_weights=w.describe() if w else None, network=network)
        self.runs.add(rec)
        self.plots.add_run(rid, metrics=rec.metrics)
        return rec

    @staticmethod
    def _network_of(rec: RunRecord) -> dict:
        from graph.project import Project, project_to_dict

        return project_to_dict(Project(rec.name, rec.graph, rec.training))

    def stop(self) -> None:
        """Stop before the next batch; metrics and the last checkpoint are kept."""
        if self.running:
            self.worker.stop()
            self.bar.setFormat("stopping…")

    def pause(self) -> None:
        if self.running:
            self.worker.pause()
            self.live.paused = True
            self.bar.setFormat("paused · " + self.bar.format().removeprefix("paused · "))

    def resume(self) -> None:
        if self.running:
            self.worker.resume()
            self.live.paused = False

    def shutdown(self, wait_ms: int = 3000) -> None:
        """Stop a run and wait for its thread (the window is closing)."""
        if self.worker is not None:
            self.worker.stop()
            self.worker.wait(wait_ms)

    def resume_run(self, run_id: str) -> bool:
        """Continue a stopped run from its last checkpoint, on the same curves."""
        rec = self.runs.records.get(run_id)
        if rec is None or rec.status not in ("stopped", "interrupted") \
                or rec.checkpoint("last") is None:
            return False
        return self.start(resume_from=rec)

    # ------------------------------------------------------------ the run's end
    def _refused(self, message: str) -> None:
        """The training process refused before training: no run is kept (a new
        run's record, curves and folder go; a resumed run keeps its old state),
        and the reason is said once, on the message line."""
        rec = self.record
        status, previous = self._before
        self._before = (None, None)
        note = ""
        if rec is not None and status is None:
            self.plots.remove_run(rec.id)
            self.runs.remove(rec.id)
            note = self.files.discard(rec)
            self.runs_made -= 1
            self.record = previous
        elif rec is not None:
            rec.status = status
            self.runs.refresh(rec.id)
            self.files.save(rec)
        self.bar.setFormat("refused")
        self.message.show_message(f"Cannot start: {message}{note}")
        node = node_named_in(message, rec.graph) if rec is not None else None
        if node is not None and self.doc is not None and node in self.doc.graph.nodes:
            self.fault_node.emit(node)

    def _finished(self) -> None:
        w, self.worker = self.worker, None
        if w is not None:
            w.wait()
            w.deleteLater()
        self.live.finish()
        if self.bar.format() != "refused":
            self.bar.setFormat(f"{self.record.status if self.record else 'idle'} · %p%")
        self.running_changed.emit(False)
