"""The training area's runs on disk and weights loaded back into the model.

A mixin of :class:`~gui.training.controller.TrainingArea` (it uses its
``doc``, ``runs``, ``view``, ``record`` and ``_show_message``):

- every run's ``run.json`` is written when it starts, after each epoch and at
  its end (:mod:`gui.training.run_store`); opening a project lists the runs
  made from its file again, with their curves on the plots;
- Runs → Load weights puts a run's best or last checkpoint into the document
  (``doc.weights``, a :class:`~gui.training.weights.LoadedWeights`), shown
  on the weights line above the plots; the next Start trains from them, File
  → Export → Weights writes them, and an edit that breaks the match between
  the weights' layers and the network's is said on that line and refused at
  Start.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from graph.analysis import Analyzer

from . import run_store
from .runs import RunRecord
from .weights import LoadedWeights, checkpoint_problem, mismatches, weight_layout


class RunOps:
    """Runs kept with their folders; weights loaded from them."""

    # ------------------------------------------------------------ weights line
    def _weights_row(self) -> QWidget:
        """The line that says which trained weights the model starts from."""
        row = QWidget()
        lay = QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        self.weights_line = QLabel()
        self.weights_line.setWordWrap(True)
        self.forget_button = QPushButton("Forget weights")
        self.forget_button.setToolTip("Start the next run from freshly initialised weights")
        self.forget_button.clicked.connect(self.forget_weights)
        lay.addWidget(self.weights_line, 1)
        lay.addWidget(self.forget_button)
        self.weights_box = row
        row.hide()
        return row

    @property
    def weights(self) -> LoadedWeights | None:
        """The weights the document carries (None: fresh initialisation)."""
        return getattr(self.doc, "weights", None) if self.doc is not None else None

    def load_weights(self, run_id: str, which: str = "best") -> bool:
        """Put a run's checkpoint (``"best"`` or ``"last"``) into the document."""
        rec = self.runs.records.get(run_id)
        path = rec.checkpoint(which) if rec is not None else None
        if path is None or self.doc is None:
            self._show_message(f"{run_id} has no {which} checkpoint to load.")
            return False
        problem = checkpoint_problem(path)
        if problem:
            self._show_message(f"Cannot load the weights of {run_id} from {path.name}: "
                               f"{problem}")
            return False
        an = Analyzer(rec.graph, rec.training)
        try:
            layout = weight_layout(rec.graph, an.refresh())
        finally:
            an.close()
        self.doc.weights = LoadedWeights(run_id, which, rec.epoch_of(which), path, layout)
        self._show_message(f"Loaded the weights of {self.doc.weights.describe()}: the next "
                           "Start trains from them; File → Export → Weights writes them.",
                           error=False)
        self.update_weights_line()
        return True

    def forget_weights(self) -> None:
        if self.doc is not None:
            self.doc.weights = None
        self.update_weights_line()

    def weights_problem(self) -> str | None:
        """Why the loaded weights do not fit the network as it is now (None: they fit)."""
        w = self.weights
        if w is None:
            return None
        if not w.path.is_file():
            return f"the checkpoint {w.path} is gone"
        bad = mismatches(w.layout, weight_layout(self.doc.graph, self.doc.analyzer))
        if not bad:
            return None
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        return "; ".join(bad[:3]) + more

    def update_weights_line(self) -> None:
        """Say which weights the model carries, and whether they still fit."""
        w = self.weights
        self.weights_box.setVisible(w is not None)
        if w is None:
            self.weights_line.setText("")
            return
        problem = self.weights_problem()
        text = f"weights: {w.describe()}"
        if problem:
            self.weights_line.setText(f"⛔ {text} — they no longer fit the network: {problem}. "
                                      "Undo the edit or forget the weights.")
            self.weights_line.setStyleSheet("color: #d22;")
        else:
            self.weights_line.setText(f"{text} — the next Start trains from them")
            self.weights_line.setStyleSheet("")
        self.weights_line.setToolTip(str(w.path))

    # ------------------------------------------------------------ runs on disk
    def save_record(self, rec: RunRecord) -> None:
        """Write the run's ``run.json`` (a failure is said, never raised)."""
        try:
            run_store.save_run(rec)
        except OSError as exc:
            self._show_message(f"Could not keep {rec.id} on disk: {exc}")

    def show_saved_runs(self) -> None:
        """Forget the runs shown and list those made from the document's file."""
        self.runs.clear()
        self.view.clear()
        self.runs_made = 0
        if self.doc is None or not self.doc.path:
            return
        saved = run_store.load_runs(run_store.runs_folder(self.doc), self.doc.path)
        for rec in saved:
            self.runs.add(rec, select=False)
            self._plot_saved(rec)
            self.runs_made = max(self.runs_made, run_store.run_number(rec.id))
        if saved:
            self.runs.select(saved[-1].id)
            self.view.set_task(self._task_of(saved[-1]))

    @staticmethod
    def _task_of(rec: RunRecord) -> str:
        last = rec.history[-1] if rec.history else {}
        return "regression" if "val_mae" in last else "classification"

    def _plot_saved(self, rec: RunRecord) -> None:
        plots = self.view.plots
        plots.add_run(rec.id)
        if rec.step_losses:
            plots.add_steps(list(range(1, len(rec.step_losses) + 1)), rec.step_losses,
                            run_id=rec.id)
        for row in rec.history:
            plots.add_epoch(row["epoch"], step=row.get("step"), val_loss=row.get("val_loss"),
                            train_accuracy=row.get("train_accuracy"),
                            val_accuracy=row.get("val_accuracy"), val_mae=row.get("val_mae"),
                            grad_norms=row.get("grad_norms"), run_id=rec.id)
        lrs = [(row["step"], row["lr"]) for row in rec.history
               if row.get("step") is not None and row.get("lr") is not None]
        if lrs:
            plots.runs[rec.id].curves["lr"].append([s for s, _ in lrs], [v for _, v in lrs])
