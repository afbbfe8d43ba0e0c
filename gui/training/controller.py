"""The training area: settings, Start/Pause/Stop, live view and runs.

:class:`TrainingArea` is what the main window shows in its "Training" dock:
the widgets, laid out, and the small objects that do the work, each given
what it uses and testable on its own:

- :class:`~gui.training.run_controller.RunController`: Start (a snapshot of
  the document handed to a :class:`~gui.training.worker.TrainingWorker`, which
  trains in a child process), pause, resume, stop, and a refusal's undoing;
- :class:`~gui.training.live_ops.LiveDispatcher`: the run's events, through
  one table keyed by the kinds of :mod:`runtime.protocol`, into the run's
  record, the plots and the panels;
- :class:`~gui.training.run_ops.RunFiles` and
  :class:`~gui.training.run_ops.WeightsControl`: runs kept in their folders
  and listed again when the project reopens; a run's weights loaded back
  into the document;
- :class:`~gui.training.exports.ExportsControl`: plots as PNG, metrics as
  CSV, a run's weights.

It owns no model state.  The worker module is imported, and the training
processes' fork server started, in the background when this area is built,
so the first Start does not freeze the window.  Faults never raise here: they
end the run with a message naming the cause and the node, and the metrics so
far stay on screen (R5).
"""

from __future__ import annotations

import gc
import importlib
import threading

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QProgressBar, QPushButton, QScrollArea,
                               QSplitter, QTabWidget, QVBoxLayout, QWidget)

from ..binding import DocumentBinding
from .exports import ExportsControl
from .live_ops import LiveDispatcher
from .message import MessageLine
from .run_controller import WORKER, RunController
from .run_ops import RunFiles, WeightsControl
from .runs import RunRecord, RunsPanel
from .settings import TrainingSettings
from .view import TrainingView

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


class TrainingArea(QWidget):
    """Settings and runs on the left; controls, progress and live plots on the right.

    Attributes:
        live: the run's events → record, plots and panels.
        run: start, pause, resume, stop.
        files: runs on disk.
        weights_control: weights loaded from a run.
        exports: the export buttons' work.

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
        self.settings = TrainingSettings()
        self.runs = RunsPanel()
        self.view = TrainingView()
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
        self.message = MessageLine()

        self.weights_control = WeightsControl(self.runs, self.message)
        self.live = LiveDispatcher(self.view, self.runs, self.bar, self.message,
                                   save=lambda rec: self.files.save(rec), parent=self)
        self.files = RunFiles(self.runs, self.view, self.live, self.message)
        self.run = RunController(self.settings, self.runs, self.live, self.weights_control,
                                 self.files, self.message, self.bar, parent=self)
        self.exports = ExportsControl(self.view.plots, self.runs, self.message, self)
        # the banner says an edit made while running is not in the run
        self.binding = DocumentBinding(graph_changed=self._edited, training_changed=self._edited,
                                       analysed=self.update_weights_line,
                                       weights_changed=self.update_weights_line)
        self._lay_out()

        # clicked(bool) would land in start's ``resume_from``: connect without arguments
        self.start_button.clicked.connect(lambda: self.start())
        self.pause_button.toggled.connect(self._pause_toggled)
        self.stop_button.clicked.connect(lambda: self.stop())
        self.png_button.clicked.connect(self.exports.png_clicked)
        self.csv_button.clicked.connect(self.exports.csv_clicked)
        self.runs.visibility_changed.connect(self._visible_runs)
        self.runs.resume_requested.connect(self.resume_run)
        self.runs.export_requested.connect(self.exports.weights_clicked)
        self.runs.load_requested.connect(self.load_weights)
        self.run.running_changed.connect(self._running_changed)
        self.run.fault_node.connect(self.fault_node)
        self.live.fault_node.connect(self.fault_node)
        self._update_buttons()
        self.loader = _Loader(self)
        self.loader.loaded.connect(self.settings.set_devices)
        self.loader.loaded.connect(_freeze_heap)
        self.loader.start()

    def _lay_out(self) -> None:
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.settings)
        self.side = QTabWidget()
        self.side.addTab(scroll, "Settings")
        self.side.addTab(self.runs, "Runs")
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
        rl.addWidget(self.weights_control.box)
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

    # ------------------------------------------------------------ document
    def bind(self, doc) -> None:
        """Show another document (a running run keeps its snapshot); see :mod:`gui.binding`."""
        self.doc = self.binding.bind(doc)
        self.settings.bind(doc)
        self.live.bind(doc)
        self.weights_control.bind(doc)
        self.run.bind(doc)

    def _edited(self) -> None:
        if self.running:
            self.banner.show()

    # ------------------------------------------------------------ control
    @property
    def running(self) -> bool:
        return self.run.running

    @property
    def paused(self) -> bool:
        return self.running and self.pause_button.isChecked()

    def start(self, resume_from: RunRecord | None = None) -> bool:
        """Start a run (or continue a stopped one); False when refused before starting."""
        return self.run.start(resume_from)

    def pause(self) -> None:
        if self.running:
            self.pause_button.setChecked(True)

    def resume(self) -> None:
        if self.running:
            self.pause_button.setChecked(False)

    def stop(self) -> None:
        """Stop before the next batch; metrics and the last checkpoint are kept."""
        self.run.stop()

    def shutdown(self, wait_ms: int = 3000) -> None:
        """Stop a run and wait for its thread (the window is closing)."""
        self.run.shutdown(wait_ms)

    def resume_run(self, run_id: str) -> bool:
        """Continue a stopped run from its last checkpoint, on the same curves."""
        return self.run.resume_run(run_id)

    def _pause_toggled(self, on: bool) -> None:
        if not self.running:
            return
        if on:
            self.run.pause()
            self.pause_button.setText("Resume")
        else:
            self.run.resume()
            self.pause_button.setText("Pause")

    def _running_changed(self, running: bool) -> None:
        if running:
            self.banner.hide()
            self.pause_button.setChecked(False)
        self._update_buttons()
        self.running_changed.emit(running)

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

    # ------------------------------------------------------------ what the run holds
    @property
    def worker(self):
        """The running run's worker (None: no run)."""
        return self.run.worker

    @property
    def record(self) -> RunRecord | None:
        """The run started last."""
        return self.run.record

    @property
    def info(self):
        """The running run's start (:class:`runtime.protocol.RunStart`; None before)."""
        return self.live.info

    @property
    def inject_fault(self) -> dict | None:
        """Tests only: a fault the next run's process injects."""
        return self.run.inject_fault

    @inject_fault.setter
    def inject_fault(self, fault: dict | None) -> None:
        self.run.inject_fault = fault

    # ------------------------------------------------------------ watched edge
    def watch_edge(self, source: str | None, label: str = "") -> None:
        """Show live histograms of the edge leaving ``source`` (None: none)."""
        self.live.watch_edge(source, label)

    # ------------------------------------------------------------ weights
    @property
    def weights(self):
        """The weights the document carries (None: fresh initialisation)."""
        return self.weights_control.weights

    @property
    def weights_line(self) -> QLabel:
        return self.weights_control.line

    @property
    def weights_box(self) -> QWidget:
        return self.weights_control.box

    @property
    def forget_button(self) -> QPushButton:
        return self.weights_control.forget_button

    def load_weights(self, run_id: str, which: str = "best") -> bool:
        """Put a run's checkpoint (``"best"`` or ``"last"``) into the document."""
        return self.weights_control.load(run_id, which)

    def forget_weights(self) -> None:
        self.weights_control.forget()

    def weights_problem(self) -> str | None:
        """Why the loaded weights do not fit the network as it is now (None: they fit)."""
        return self.weights_control.problem()

    def update_weights_line(self, *_args) -> None:
        self.weights_control.update_line()

    # ------------------------------------------------------------ exports
    def export_png(self, folder):
        return self.exports.export_png(folder)

    def export_csv(self, path):
        return self.exports.export_csv(path)

    def export_weights(self, run_id: str, path):
        """Copy a run's trained weights (best, else last) to ``path``."""
        return self.exports.export_weights(run_id, path)

    def _show_message(self, text: str, error: bool = True) -> None:
        self.message.show_message(text, error)
