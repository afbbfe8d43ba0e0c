"""What the training area shows while a run goes: :class:`LiveDispatcher`.

The worker relays the training process's events as one ``event(kind,
payload)`` signal (kinds and payloads of :mod:`runtime.protocol`);
:meth:`LiveDispatcher.dispatch` hands each to its handler through one table
keyed by those kinds.  The handlers put the metrics into the run's record
(:class:`~gui.training.runs.RunRecord`, whose series the plots draw) through
the plots' methods, and update the progress line, the decision map, the
watched edge's histograms, the diagnosis and the run list.  Adding a live
metric is a field of the payload (:mod:`runtime.protocol`) and one plot call
in the handler of its kind.

Also here: a clicked edge's histograms, with a note under each panel when
nothing can be drawn and why (an ``Input`` gives data, not gradients; a block
computed in ``forward()`` has no layer module to sample).
"""

from __future__ import annotations

import time
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QProgressBar

from runtime.protocol import Epoch, Grid, Histogram, Kind, Paused, Points, Refused, RunStart, \
    Steps

from .histograms import WAITING
from .message import MessageLine
from .progress import estimate_eta, format_end
from .runs import RunRecord, RunsPanel
from .view import TrainingView

#: Under the gradients panel for an edge leaving an Input.
INPUT_NO_GRADIENTS = "input data: no gradients (nothing before the Input learns from them)"
BEFORE_START = "Sampled while training: press Start to see this edge's values."
#: Milliseconds between two updates of the progress bar and line.  Not one per
#: step batch: ``QProgressBar.setValue`` repaints at once (not at the next
#: paint), which made the window paint in the middle of handling a batch; four
#: updates a second are plenty for a bar (quality.md B4).
PROGRESS_MS = 250


class LiveDispatcher(QObject):
    """A run's events → its record, the plots and the panels.

    Args:
        view: the plots and panels.
        runs: the run list (its summary lines follow the epochs).
        bar: the progress bar.
        message: the message line.
        save: keeps a record on disk (called after each epoch and at the end).

    Attributes:
        record: the run the events belong to (set by :meth:`begin`).
        info: the run's start (None until the process sent it).
        watched: the node whose output's histograms are shown (None: none).
        on_refused: called with the reason when the process refused the run
            (the run controller takes the run back).

    Signals:
        fault_node(str): the run ended with a fault located at this node.
    """

    fault_node = Signal(str)

    def __init__(self, view: TrainingView, runs: RunsPanel, bar: QProgressBar,
                 message: MessageLine, save: Callable[[RunRecord], None],
                 parent: QObject | None = None):
        super().__init__(parent)
        self.view, self.plots, self.runs = view, view.plots, runs
        self.bar, self.message, self.save = bar, message, save
        self.doc = None
        self.record: RunRecord | None = None
        self.info: RunStart | None = None
        self.watched: str | None = None
        self.worker = None
        self.paused = False
        self.started_at = 0.0
        self.on_refused: Callable[[str], None] = lambda _message: None
        self._pending: Steps | None = None
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(PROGRESS_MS)
        self._progress_timer.timeout.connect(self._show_progress)
        #: the one table: each kind of :mod:`runtime.protocol` → its handler
        self.handlers: dict[Kind, Callable] = {
            Kind.RUN_START: self._run_started,
            Kind.POINTS: self._points,
            Kind.STEPS: self._steps,
            Kind.EPOCH: self._epoch,
            Kind.GRID: self._grid,
            Kind.HISTOGRAM: self._histogram,
            Kind.PAUSED: self._paused,
            Kind.RUN_END: self._run_ended,
            Kind.REFUSED: self._refused,
        }

    def bind(self, doc) -> None:
        """The document whose nodes the watched edge and the faults name."""
        self.doc = doc

    # ------------------------------------------------------------ a run
    def begin(self, record: RunRecord, worker) -> None:
        """Events from ``worker`` belong to ``record`` from now on."""
        self.record, self.worker, self.info = record, worker, None
        self.paused = False
        self._pending = None
        self.started_at = time.perf_counter()
        self.view.diagnosis.waiting()

    def finish(self) -> None:
        """The run's thread ended: no more events, no more watching."""
        self.worker = None

    def dispatch(self, kind, payload) -> None:
        """Show one event (the worker's ``event`` signal lands here)."""
        self.handlers[kind](payload)

    # ------------------------------------------------------------ handlers
    def _run_started(self, info: RunStart) -> None:
        self.info = info
        self.view.show_map(False)  # until the run sends 2-D points
        self.view.set_task(info.task)
        self.plots.plan(self.record.id, info.epochs, info.epochs * info.steps_per_epoch)
        if info.per_output():  # several outputs: a curve (and a name) each
            self.plots.set_outputs(self.record.id, info.per_output())
        self.explain_watch()
        notes = list(info.notes) + self._untrained(info)
        if notes:
            self.message.show_message("; ".join(notes), error=False)
        self.bar.setRange(0, max(1, info.epochs * info.steps_per_epoch))
        self.bar.setFormat(f"epoch {info.start_epoch + 1}/{info.epochs} on {info.device}")

    def _untrained(self, info: RunStart) -> list[str]:
        """A note per Output of a network with several that the run does not train
        (its dataset has no ``y_<id>`` for it: no loss, no curves)."""
        trained = {o.get("id") for o in info.per_output()}
        if not trained or self.record is None:
            return []
        return [f"{node.label()} has no target array (y_{node.id}) in the dataset and is "
                "not trained" for node in self.record.graph.ends("output")
                if node.id not in trained]

    def _points(self, p: Points) -> None:
        """The data points of a 2-D classification run: its decision map is shown."""
        self.view.decision_map.set_points(p.x, p.y, p.labels, p.num_classes)
        self.view.show_map(True)

    def _steps(self, b: Steps) -> None:
        rid = self.record.id
        self.plots.add_steps(b.steps, b.losses, run_id=rid)
        if b.lrs is not None and len(b.lrs) == len(b.steps):  # per step, where sent
            self.plots.append_lr(rid, b.steps, b.lrs)
        elif b.steps and b.lr is not None:  # one value per batch: a point, not a stair
            self.plots.append_lr(rid, [b.steps[-1]], [b.lr])
        self._pending = b
        if not self._progress_timer.isActive():
            self._progress_timer.start()

    def _epoch(self, e: Epoch) -> None:
        rec = self.record
        rec.history.append(e.row())
        self.plot_epoch(rec.id, e)
        self.runs.refresh(rec.id)
        findings = [dict(f, node=self._name(f.get("node"))) for f in e.diagnosis]
        self.view.diagnosis.set_epoch_findings(findings, e.epoch)
        # a seq2seq run's greedy decodes; any other run's epoch clears the section
        names = self.info.class_names if self.info is not None else None
        self.view.diagnosis.set_samples(e.samples, e.epoch, names)
        self.save(rec)

    def _grid(self, g: Grid) -> None:
        self.view.decision_map.set_grid(g.probabilities, g.extent)

    def _histogram(self, h: Histogram) -> None:
        if h.node == self.watched:
            self.view.histograms.set_histogram(h.quantity, h.edges, h.counts)

    def _paused(self, p: Paused) -> None:
        """The process applied a pause or resume: the bar says so at once."""
        fmt = self.bar.format().removeprefix("paused · ")
        self.bar.setFormat(("paused · " if p.paused else "") + fmt)

    def _run_ended(self, result) -> None:
        self._progress_timer.stop()
        self._show_progress()  # the last steps' progress, before the end state
        rec = self.record
        rec.result = result
        rec.status = result.stopped
        findings = [dict(f, node=self._name(f.get("node"))) for f in result.diagnosis]
        info = self.info or RunStart(epochs=result.epochs)
        if result.fault is not None:
            f = result.fault
            findings.insert(0, {"kind": {"nan": "nan_loss", "oom": "out_of_memory"}.get(f.kind,
                                                                                        f.kind),
                                "message": f.message, "severity": "error",
                                "node": self._name(f.node)})
            rec.message = f.message
            kept = f"{len(rec.history)} epoch(s) of metrics kept"
            if result.checkpoints.get("last"):
                kept += " with the last checkpoint"
            self.message.show_message(f"Training stopped: {f.message} ({kept}).")
            if f.node:
                self.fault_node.emit(f.node)
        elif result.stopped == "stopped":
            self.message.show_message(f"Stopped after {result.epochs} epoch(s); Resume "
                                      "continues from the last checkpoint (Runs tab).",
                                      error=False)
        elif result.stopped == "early_stopping":
            self.message.show_message(f"Early stopping after {result.epochs} epochs: "
                                      f"{info.monitor} stopped improving.", error=False)
        self.view.diagnosis.set_epoch_findings(findings, result.epochs, final=True)
        if result.confusion:
            names = result.class_names
            if names is not None and len(names) != len(result.confusion):
                names = None
            self.view.confusion.set_matrix(result.confusion, names)
            self.view.class_accuracy.set_matrix(result.confusion, names)
        self._plot_unsent_steps(result)
        self.plots.flush()
        self.runs.refresh(rec.id)
        self.save(rec)
        self.view.progress.setText(format_end(
            rec.status, result.epochs, info.epochs, self.bar.value(), self.bar.maximum(),
            time.perf_counter() - self.started_at))

    def _refused(self, r: Refused) -> None:
        self._progress_timer.stop()
        self.on_refused(r.message)

    def plot_epoch(self, run_id: str, e: Epoch) -> None:
        """Draw an epoch's metrics: live, and for a run read back from its folder."""
        self.plots.add_epoch(e.epoch, step=e.step, val_loss=e.val_loss,
                             train_accuracy=e.train_accuracy, val_accuracy=e.val_accuracy,
                             train_mae=e.train_mae, val_mae=e.val_mae,
                             grad_norms=e.grad_norms, run_id=run_id, outputs=e.outputs)
        if e.train_loss is not None and e.step is not None:
            self.plots.add_points(run_id, "train_loss", e.step, e.train_loss, panel="loss",
                                  label="train (epoch mean)")

    def replay(self, rec: RunRecord) -> None:
        """Show a run read back from its folder: its step losses are drawn from the
        record, its epochs through :meth:`plot_epoch` as if they had just come."""
        self.plots.add_run(rec.id, metrics=rec.metrics)
        outputs = rec.outputs()
        if outputs:
            self.plots.set_outputs(rec.id, outputs)
        ids = [o["id"] for o in outputs]
        for row in rec.history:
            e = Epoch.from_row(row, ids)
            self.plot_epoch(rec.id, e)
            if e.step is not None and e.lr is not None:
                self.plots.append_lr(rec.id, [e.step], [e.lr])

    # ------------------------------------------------------------ helpers
    def _plot_unsent_steps(self, result) -> None:
        """Draw the step losses a run ended before sending (a fault mid-batch)."""
        losses = list(result.step_losses or [])
        done = self.plots.steps_done(self.record.id)
        if len(losses) > done:
            self.plots.add_steps(list(range(done + 1, len(losses) + 1)), losses[done:],
                                 run_id=self.record.id)

    def _show_progress(self) -> None:
        """Show the latest step batch's progress (at most every PROGRESS_MS)."""
        b, self._pending = self._pending, None
        if b is None or self.info is None:
            return
        info = self.info
        total = info.epochs * info.steps_per_epoch
        done = b.step
        eta = None
        if b.samples_per_s:
            eta = (total - done) * info.batch_size / b.samples_per_s
        elif done:
            eta = estimate_eta(done, total, time.perf_counter() - self.started_at)
        self.view.set_progress(b.epoch, info.epochs, done, total, eta, b.samples_per_s)
        self.bar.setValue(min(done, total))
        pre = "paused · " if self.paused else ""
        self.bar.setFormat(f"{pre}epoch {b.epoch}/{info.epochs} · %p%")

    def _name(self, nid) -> str | None:
        if nid is None:
            return None
        return self.info.name_of(nid) if self.info is not None else nid

    # ------------------------------------------------------------ watched edge
    def watch_edge(self, source: str | None, label: str = "") -> None:
        """Show live histograms of the edge leaving ``source`` (None: none)."""
        self.watched = source
        self.view.histograms.set_edge(label if source else "")
        if source:
            self.view.tabs.setCurrentWidget(self.view.histograms)
            self.explain_watch()
        if self.worker is not None:
            self.worker.watch(source)

    def explain_watch(self) -> None:
        """Say under the histogram panels what the watched edge will (not) show."""
        h, src = self.view.histograms, self.watched
        if not src or self.doc is None or src not in self.doc.graph.nodes:
            return
        node = self.doc.graph.node(src)
        role = node.spec.role if node.spec is not None else ""
        running = self.worker is not None
        modules = (self.info.nodes if self.info is not None else {}) if running else {}
        h.set_note(WAITING if running else BEFORE_START)
        if role == "input":
            h.set_note(INPUT_NO_GRADIENTS, "gradients")
        elif running and modules and src not in modules:
            h.set_note(f"{node.label()} is computed in the model's forward() and has no layer "
                       "module whose values can be sampled; click the edge out of the layer "
                       "before it or after it instead.")
