"""The training area: settings, Start/Pause/Stop, live view and runs, wired to a worker.

:class:`TrainingArea` is what the main window shows in its "Training" dock.
It owns no model state: Start takes a snapshot of the document's graph and
training settings and hands it to a :class:`~gui.training.worker.TrainingWorker`
(which trains in a child process; it is imported, and the processes' fork
server started, in the background when this area is built, so the first Start
does not freeze the window); the worker's signals feed the plots and panels.  Each run becomes a
:class:`~gui.training.runs.RunRecord` whose curves stay on the plots for
comparison, kept on disk with its folder (:mod:`gui.training.run_ops`: runs
are listed again when the project reopens, and a run's weights can be loaded
back into the model).  Faults never raise here: they end the run with a
message naming the cause and the node, and the metrics so far stay on screen (R5).
A Start that cannot train (:mod:`gui.training.start_checks`, or a refusal by
the training process) keeps no run: the reason is said once and its block is
selected on the canvas.
"""

from __future__ import annotations

import copy
import gc
import importlib
import threading
import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QScrollArea, QSplitter, QTabWidget, QVBoxLayout, QWidget)

from . import run_store
from .dataset_probe import dataset_base
from .exports import TrainingExports
from .live_ops import LiveOps
from .progress import estimate_eta, format_end
from .run_ops import RunOps
from .run_store import run_folder_name, runs_folder
from .runs import RunRecord, RunsPanel
from .settings import TrainingSettings
from .start_checks import node_named_in, start_problem
from .view import TrainingView

WORKER = "gui.training.worker"
#: Milliseconds between two updates of the progress bar and line.  Not one per
#: step batch: ``QProgressBar.setValue`` repaints at once (not at the next
#: paint), which made the window paint in the middle of handling a batch; four
#: updates a second are plenty for a bar (quality.md B4).
PROGRESS_MS = 250
BANNER = ("The network or settings changed since Start: this run keeps training the "
          "network as it was at Start; your edits apply to the next run.")


class _Loader(QObject):
    """On a plain thread: imports the worker, starts the training processes' fork
    server and lists the devices (which loads torch); reports the devices."""

    loaded = Signal(list, dict)

    def start(self) -> None:
        threading.Thread(target=self._load, name="netcanvas-torch-loader", daemon=True).start()

    def _load(self) -> None:
        try:
            mod = importlib.import_module(WORKER)
            mod.warm_up()  # the training processes' fork server loads torch meanwhile
            devices = mod.available_devices()
            memory = {d: mod.device_total_memory(d) for d in devices}
        except Exception:  # noqa: BLE001 (torch missing or broken, or the app quitting
            # mid-import): the CPU is always there, and Start says what is wrong
            devices, memory = ["auto", "cpu"], {}
        try:
            self.loaded.emit(devices, memory)
        except RuntimeError:  # the window is gone (quit while torch was loading)
            pass


def _freeze_heap(*_args) -> None:
    """Move every object alive now out of the garbage collector's sight.

    Listing the devices imports torch into this process: hundreds of thousands
    of long-lived objects that a full collection then walks, a ≈ 0.2 s freeze
    of the window in the middle of a run (quality.md B4).  Frozen objects are
    never scanned again; what the window makes later is collected as usual.
    """
    gc.freeze()


class TrainingArea(LiveOps, RunOps, TrainingExports, QWidget):
    """Settings and runs on the left; controls, progress and live plots on the right.

    Signals:
        running_changed(bool): a run started or ended.
        fault_node(str): a run ended with a fault located at this node, or Start
            was refused because of it (the window shows the node).
    """

    running_changed = Signal(bool)
    fault_node = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = None
        self.worker = None
        self.record: RunRecord | None = None
        #: (status of a resumed run or None for a new one, the previous record):
        #: what a refusal by the training process puts back
        self._before: tuple[str | None, RunRecord | None] = (None, None)
        self.info: dict = {}
        self.watched: str | None = None
        self.runs_made = 0
        self.started_at = 0.0
        self._pending_progress: dict | None = None
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(PROGRESS_MS)
        self._progress_timer.timeout.connect(self._show_progress)
        self.settings = TrainingSettings()
        self.runs = RunsPanel()
        self.view = TrainingView()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.settings)
        self.side = QTabWidget()
        self.side.addTab(scroll, "Settings")
        self.side.addTab(self.runs, "Runs")

        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Train the network with these settings (F5)")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.stop_button = QPushButton("Stop")
        self.png_button = QPushButton("Export PNG…")
        self.csv_button = QPushButton("Export CSV…")
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.bar.setFormat("idle")
        self.bar.setValue(0)
        self.banner = QLabel(BANNER)
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #fff3cd; color: #664d03; padding: 4px;")
        self.banner.hide()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        controls = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            controls.addWidget(b)
        controls.addWidget(self.bar, 1)
        controls.addWidget(self.png_button)
        controls.addWidget(self.csv_button)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addLayout(controls)
        rl.addWidget(self.banner)
        rl.addWidget(self._weights_row())
        rl.addWidget(self.message)
        rl.addWidget(self.view, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.side)
        split.addWidget(right)
        split.setStretchFactor(1, 3)
        split.setSizes([330, 900])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(split)

        # clicked(bool) would land in start's ``resume_from``: connect without arguments
        self.start_button.clicked.connect(lambda: self.start())
        self.pause_button.toggled.connect(self._pause_toggled)
        self.stop_button.clicked.connect(lambda: self.stop())
        self.png_button.clicked.connect(self._export_png_clicked)
        self.csv_button.clicked.connect(self._export_csv_clicked)
        self.runs.visibility_changed.connect(self._visible_runs)
        self.runs.resume_requested.connect(self.resume_run)
        self.runs.export_requested.connect(self._export_weights_clicked)
        self.runs.load_requested.connect(self.load_weights)
        self._update_buttons()
        self.loader = _Loader(self)
        self.loader.loaded.connect(self.settings.set_devices)
        self.loader.loaded.connect(_freeze_heap)
        self.loader.start()

    # ------------------------------------------------------------ document
    def set_document(self, doc) -> None:
        """Show another document (a running run keeps its snapshot)."""
        self.doc = doc
        self.settings.set_document(doc)
        doc.undo.indexChanged.connect(self._edited)
        doc.analysed.connect(self.update_weights_line)
        if not self.running:  # a running run stays listed until it ends
            self.show_saved_runs()
        self.update_weights_line()

    def _edited(self, _index: int) -> None:
        if self.running:
            self.banner.show()

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
            found = start_problem(self.doc, self.settings)
            if found is not None:  # refused before any run exists: no record is made
                problem, node = found
                self._show_message(f"Cannot start: {problem}")
                if node is not None:
                    self.fault_node.emit(node)
                return False
            problem = self.weights_problem()
            if problem:
                self._show_message(f"Cannot start: the weights of {self.weights.describe()} no "
                                   f"longer fit the network: {problem}. Undo the edit, or "
                                   "forget the weights to start from fresh ones.")
                return False
            self.runs_made += 1
            rid = f"run {self.runs_made}"
            while rid in self.runs.records:
                self.runs_made += 1
                rid = f"run {self.runs_made}"
            stamp = time.strftime("%Y%m%d-%H%M%S")
            out = runs_folder(self.doc) / run_folder_name(self.doc.name, stamp, self.runs_made)
            rec = RunRecord(rid, copy.deepcopy(self.doc.project.training), self.doc.graph.copy(),
                            out, project_file=self.doc.path, name=self.doc.name,
                            started=time.strftime("%Y-%m-%d %H:%M:%S"),
                            init_weights=self.weights.describe() if self.weights else None)
            self.runs.add(rec)
            self.view.plots.add_run(rid)
            resume = None
            init = self.weights.path if self.weights else None
            self._before = (None, self.record)  # what a refusal by the process restores
        else:
            rec = resume_from
            self._before = (rec.status, self.record)
            rec.status = "running"
            resume = rec.checkpoint("last")
            init = None
        self.record = rec
        from graph.project import project_to_dict

        mod = importlib.import_module(WORKER)
        base = dataset_base(self.doc)
        w = mod.TrainingWorker(rec.graph, rec.training, name=self.doc.name, out_dir=rec.out_dir,
                               base_dir=base, resume=resume, init_weights=init,
                               project=project_to_dict(self.doc.project),
                               # tests only: a fault for the training process to inject
                               fault=getattr(self, "inject_fault", None), parent=self)
        w.run_started.connect(self._run_started)
        w.steps_done.connect(self._steps)
        w.epoch_done.connect(self._epoch)
        w.points_ready.connect(self._points)
        w.grid_ready.connect(self.view.decision_map.set_grid)
        w.histogram_ready.connect(self._histogram)
        w.run_ended.connect(self._run_ended)
        w.refused.connect(self._refused)
        w.finished.connect(self._thread_finished)
        w.watch(self.watched)
        self.worker = w
        self.banner.hide()
        self.pause_button.setChecked(False)
        self.bar.setFormat("preparing…")
        self.view.diagnosis.waiting()
        self.save_record(rec)
        self.started_at = time.perf_counter()
        w.start()
        self._update_buttons()
        self.running_changed.emit(True)
        return True

    def pause(self) -> None:
        if self.running:
            self.pause_button.setChecked(True)

    def resume(self) -> None:
        if self.running:
            self.pause_button.setChecked(False)

    def stop(self) -> None:
        """Stop before the next batch; metrics and the last checkpoint are kept."""
        if self.running:
            self.worker.stop()
            self.bar.setFormat("stopping…")

    def _pause_toggled(self, on: bool) -> None:
        if not self.running:
            return
        if on:
            self.worker.pause()
            self.pause_button.setText("Resume")
            self.bar.setFormat("paused · " + self.bar.format())
        else:
            self.worker.resume()
            self.pause_button.setText("Pause")

    @property
    def paused(self) -> bool:
        return self.running and self.pause_button.isChecked()

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
        if rec.id not in self.view.plots.runs:
            self.view.plots.add_run(rec.id)
        return self.start(resume_from=rec)

    def _update_buttons(self) -> None:
        run = self.running
        self.start_button.setEnabled(not run)
        self.pause_button.setEnabled(run)
        self.stop_button.setEnabled(run)
        self.runs.update_buttons(busy=run)
        if not run:
            self.pause_button.setText("Pause")

    def _visible_runs(self, ids: list) -> None:
        self.view.plots.set_visible_runs([i for i in ids if i in self.view.plots.runs])

    # ------------------------------------------------------------ worker signals
    def _run_started(self, info: dict) -> None:
        self.info = info
        self.view.show_map(False)  # until the run sends 2-D points
        self.view.set_task(info["task"])
        self._explain_watch()
        notes = info.get("notes") or []
        if notes:
            self._show_message("; ".join(notes), error=False)
        self.bar.setRange(0, max(1, info["epochs"] * info["steps_per_epoch"]))
        self.bar.setFormat(f"epoch {info['start_epoch'] + 1}/{info['epochs']} on {info['device']}")

    def _steps(self, b: dict) -> None:
        rid = self.record.id
        steps, losses = b["steps"], b["losses"]
        self.view.plots.add_steps(steps, losses, run_id=rid)
        lrs = b.get("lrs")  # per step, where the engine sends them
        if lrs is not None and len(lrs) == len(steps):
            self.view.plots.runs[rid].curves["lr"].append(steps, lrs)
        elif steps and b.get("lr") is not None:  # one value per batch: a point, not a stair
            self.view.plots.runs[rid].curves["lr"].append([steps[-1]], [b["lr"]])
        self._pending_progress = b
        if not self._progress_timer.isActive():
            self._progress_timer.start()

    def _show_progress(self) -> None:
        """Show the latest step batch's progress (at most every PROGRESS_MS)."""
        b, self._pending_progress = self._pending_progress, None
        if b is None:
            return
        info = self.info
        total = info.get("epochs", 1) * info.get("steps_per_epoch", 1)
        done = b["step"]
        rate = b.get("samples_per_s")
        eta = None
        if rate:
            eta = (total - done) * info.get("batch_size", 1) / rate
        elif done:
            eta = estimate_eta(done, total, time.perf_counter() - self.started_at)
        self.view.set_progress(b["epoch"], info.get("epochs", 1), done, total, eta, rate)
        self.bar.setValue(min(done, total))
        pre = "paused · " if self.paused else ""
        self.bar.setFormat(f"{pre}epoch {b['epoch']}/{info.get('epochs', 1)} · %p%")

    def _epoch(self, row: dict) -> None:
        rid = self.record.id
        self.view.plots.add_epoch(row["epoch"], step=row.get("step"), val_loss=row.get("val_loss"),
                                  train_accuracy=row.get("train_accuracy"),
                                  val_accuracy=row.get("val_accuracy"),
                                  val_mae=row.get("val_mae"), grad_norms=row.get("grad_norms"),
                                  run_id=rid)
        self.record.history.append({k: v for k, v in row.items()
                                    if k not in ("confusion", "diagnosis")})
        self.runs.refresh(rid)
        self._live_diagnosis(row)
        self.save_record(self.record)

    def _run_ended(self, result) -> None:
        self._progress_timer.stop()
        self._show_progress()  # the last steps' progress, before the end state
        rec = self.record
        rec.result = result
        rec.status = result.stopped
        findings = [dict(f, node=self._node_name(f.get("node"))) for f in result.diagnosis]
        if result.fault is not None:
            f = result.fault
            findings.insert(0, {"kind": {"nan": "nan_loss", "oom": "out_of_memory"}.get(f.kind, f.kind),
                                "message": f.message, "severity": "error",
                                "node": self._node_name(f.node)})
            rec.message = f.message
            kept = f"{len(rec.history)} epoch(s) of metrics kept"
            if result.checkpoints.get("last"):
                kept += " with the last checkpoint"
            self._show_message(f"Training stopped: {f.message} ({kept}).")
            if f.node:
                self.fault_node.emit(f.node)
        elif result.stopped == "stopped":
            self._show_message(f"Stopped after {result.epochs} epoch(s); Resume continues from "
                               "the last checkpoint (Runs tab).", error=False)
        elif result.stopped == "early_stopping":
            self._show_message(f"Early stopping after {result.epochs} epochs: "
                               f"{self.info.get('monitor')} stopped improving.", error=False)
        self.view.diagnosis.set_epoch_findings(findings, result.epochs, final=True)
        if result.confusion:
            names = result.class_names
            if names is not None and len(names) != len(result.confusion):
                names = None
            self.view.confusion.set_matrix(result.confusion, names)
            self.view.class_accuracy.set_matrix(result.confusion, names)
        self._plot_unsent_steps(result)
        self.view.plots.flush()
        self.runs.refresh(rec.id)
        rec.step_losses = list(result.step_losses or [])
        self.save_record(rec)
        self.view.progress.setText(format_end(
            rec.status, result.epochs, self.info.get("epochs", result.epochs),
            self.bar.value(), self.bar.maximum(), time.perf_counter() - self.started_at))

    def _refused(self, message: str) -> None:
        """The training process refused before training: no run is kept (a new
        run's record, curves and folder go; a resumed run keeps its old state),
        and the reason is said once, on the message line."""
        rec = self.record
        status, previous = self._before
        self._before = (None, None)
        note = ""
        if rec is not None and status is None:
            self.view.plots.remove_run(rec.id)
            self.runs.remove(rec.id)
            try:
                run_store.discard_run(rec)
            except OSError as exc:
                note = f" (its folder {rec.out_dir} could not be removed: {exc})"
            self.runs_made -= 1
            self.record = previous
        elif rec is not None:
            rec.status = status
            self.runs.refresh(rec.id)
            self.save_record(rec)
        self.bar.setFormat("refused")
        self._show_message(f"Cannot start: {message}{note}")
        node = node_named_in(message, rec.graph) if rec is not None else None
        if node is not None and self.doc is not None and node in self.doc.graph.nodes:
            self.fault_node.emit(node)

    def _thread_finished(self) -> None:
        w, self.worker = self.worker, None
        if w is not None:
            w.wait()
            w.deleteLater()
        if self.bar.format() != "refused":
            self.bar.setFormat(f"{self.record.status if self.record else 'idle'} · %p%")
        self._update_buttons()
        self.running_changed.emit(False)

    def _show_message(self, text: str, error: bool = True) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #d22;" if error else "")
