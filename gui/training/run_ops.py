"""The training area's runs on disk and weights loaded back into the model.

- :class:`RunFiles`: every run is kept in its folder (:mod:`gui.training.run_store`:
  ``run.json`` once at Start, its metrics appended after each epoch and at its
  end); opening a project lists the runs made from its file again, with their
  curves on the plots;
- :class:`WeightsControl`: Runs → Load weights puts a run's best or last
  checkpoint into the document (``doc.set_weights``, a
  :class:`~gui.training.weights.LoadedWeights`), shown on the weights line
  above the plots; the next Start trains from them, File → Export → Weights
  writes them, and an edit that breaks the match between the weights' layers
  and the network's is said on that line and refused at Start.  Train →
  Load Pretrained Weights… takes a checkpoint of another network
  (pretraining): its tensors load by name and shape
  (:mod:`runtime.weight_transfer`) and a dialog lists what loaded, what did
  not and why (:class:`~gui.training.weights_dialog.WeightsReportDialog`).
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from graph.analysis import Analyzer

from . import run_store
from .live_ops import LiveDispatcher
from .message import MessageLine
from .runs import RunRecord, RunsPanel
from .view import TrainingView
from .weights import LoadedWeights, checkpoint_problem, mismatches, weight_layout


class WeightsControl:
    """The weights line and the weights a document carries.

    Args:
        runs: the run list (whose checkpoints are loaded).
        message: the message line.

    Attributes:
        box: the line's widget (shown while the document carries weights).
    """

    def __init__(self, runs: RunsPanel, message: MessageLine):
        self.runs, self.message = runs, message
        self.doc = None
        self.report_dialog = None  # the last file's report
        self.box = QWidget()
        lay = QHBoxLayout(self.box)
        lay.setContentsMargins(0, 0, 0, 0)
        self.line = QLabel()
        self.line.setWordWrap(True)
        self.forget_button = QPushButton("Forget weights")
        self.forget_button.setToolTip("Start the next run from freshly initialised weights")
        self.forget_button.clicked.connect(self.forget)
        lay.addWidget(self.line, 1)
        lay.addWidget(self.forget_button)
        self.box.hide()

    def bind(self, doc) -> None:
        self.doc = doc
        self.update_line()

    @property
    def weights(self) -> LoadedWeights | None:
        """The weights the document carries (None: fresh initialisation)."""
        return self.doc.weights if self.doc is not None else None

    def load(self, run_id: str, which: str = "best") -> bool:
        """Put a run's checkpoint (``"best"`` or ``"last"``) into the document."""
        rec = self.runs.records.get(run_id)
        path = rec.checkpoint(which) if rec is not None else None
        if path is None or self.doc is None:
            self.message.show_message(f"{run_id} has no {which} checkpoint to load.")
            return False
        problem = checkpoint_problem(path)
        if problem:
            self.message.show_message(f"Cannot load the weights of {run_id} from {path.name}: "
                                      f"{problem}")
            return False
        an = Analyzer(rec.graph, rec.training)
        try:
            layout = weight_layout(rec.graph, an.refresh())
        finally:
            an.close()
        self.doc.set_weights(LoadedWeights(run_id, which, rec.epoch_of(which), path, layout))
        self.message.show_message(f"Loaded the weights of {self.doc.weights.describe()}: the "
                                  "next Start trains from them; File → Export → Weights "
                                  "writes them.", error=False)
        self.update_line()
        return True

    def load_file(self, path, parent=None) -> bool:
        """Carry a checkpoint file's weights into the blocks whose names and shapes
        match, and show what loaded in a dialog (:attr:`report_dialog`)."""
        from pathlib import Path

        from codegen import CodegenError, build_model
        from runtime.checkpoint import load_checkpoint
        from runtime.weight_transfer import compare

        path = Path(path)
        if self.doc is None:
            return False
        problem = checkpoint_problem(path)
        if problem:
            self.message.show_message(f"Cannot load weights from {path.name}: {problem}")
            return False
        try:
            model, _code = build_model(self.doc.graph, self.doc.name, self.doc.project.training)
        except CodegenError as exc:
            self.message.show_message(f"Cannot load weights into the network yet: {exc}")
            return False
        ck = load_checkpoint(path)
        report = compare(model.state_dict(), ck["model"], str(path))
        if not report.loaded:
            self.message.show_message(f"None of the weights in {path.name} fit this network: "
                                      "no block has the same name and shape.")
            return False
        epoch = ck.get("epoch") if isinstance(ck.get("epoch"), int) else None
        self.doc.set_weights(LoadedWeights(path.name, "file", epoch, path, report=report))
        self.message.show_message(report.summary() + ": the next Start trains from them.",
                                  error=False)
        self.update_line()
        from .weights_dialog import WeightsReportDialog

        self.report_dialog = WeightsReportDialog(report, parent)
        self.report_dialog.open()  # (window-modal, not a nested event loop)
        return True

    def forget(self) -> None:
        if self.doc is not None:
            self.doc.set_weights(None)
        self.update_line()

    def problem(self) -> str | None:
        """Why the loaded weights do not fit the network as it is now (None: they fit)."""
        w = self.weights
        if w is None:
            return None
        if not w.path.is_file():
            return f"the checkpoint {w.path} is gone"
        if w.partial:  # by name and shape: what no longer matches is left out
            return None
        bad = mismatches(w.layout, weight_layout(self.doc.graph, self.doc.analyzer))
        if not bad:
            return None
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        return "; ".join(bad[:3]) + more

    def update_line(self, *_args) -> None:
        """Say which weights the model carries, and whether they still fit."""
        w = self.weights
        self.box.setVisible(w is not None)
        if w is None:
            self.line.setText("")
            return
        problem = self.problem()
        text = f"weights: {w.describe()}"
        if problem:
            self.line.setText(f"⛔ {text} — they no longer fit the network: {problem}. "
                              "Undo the edit or forget the weights.")
            self.line.setStyleSheet("color: #d22;")
        else:
            self.line.setText(f"{text} — the next Start trains from them")
            self.line.setStyleSheet("")
        self.line.setToolTip(str(w.path))


class RunFiles:
    """Runs kept in their folders, and listed again when their project reopens.

    Args:
        runs: the run list.
        view: the plots and panels (emptied for another document).
        live: shows a run read back (:meth:`LiveDispatcher.replay`).
        message: the message line (a file that cannot be written is said there).
    """

    def __init__(self, runs: RunsPanel, view: TrainingView, live: LiveDispatcher,
                 message: MessageLine):
        self.runs, self.view, self.live, self.message = runs, view, live, message

    def save(self, rec: RunRecord) -> None:
        """Keep the run on disk (a failure is said, never raised)."""
        try:
            run_store.save_run(rec)
        except OSError as exc:
            self.message.show_message(f"Could not keep {rec.id} on disk: {exc}")

    def discard(self, rec: RunRecord) -> str:
        """Remove a run's files; a note on what could not be removed ("" when all went)."""
        try:
            run_store.discard_run(rec)
        except OSError as exc:
            return f" (its folder {rec.out_dir} could not be removed: {exc})"
        return ""

    def show_saved(self, doc) -> int:
        """Forget the runs shown and list those made from ``doc``'s file.

        Returns:
            the highest run number among them (0: none).
        """
        self.runs.clear()
        self.view.clear()
        if doc is None or not doc.path:
            return 0
        saved = run_store.load_runs(run_store.runs_folder(doc), doc.path)
        made = 0
        for rec in saved:
            self.runs.add(rec, select=False)
            self.live.replay(rec)
            made = max(made, run_store.run_number(rec.id))
        if saved:
            self.runs.select(saved[-1].id)
            self.view.set_task(_task_of(saved[-1]))
        return made


def _task_of(rec: RunRecord) -> str:
    last = rec.history[-1] if rec.history else {}
    return "regression" if "val_mae" in last else "classification"
