"""Exports of the training area: plots as PNG, metrics as CSV, a run's weights."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from .message import MessageLine
from .plots import TrainingPlots
from .runs import RunsPanel


class ExportsControl:
    """What the export buttons do, with their file dialogs.

    Args:
        plots: the plots (images and metrics).
        runs: the run list (whose checkpoints are exported).
        message: the message line.
        dialog_parent: the widget the file dialogs belong to.
    """

    def __init__(self, plots: TrainingPlots, runs: RunsPanel, message: MessageLine,
                 dialog_parent: QWidget | None = None):
        self.plots, self.runs, self.message = plots, runs, message
        self.dialog_parent = dialog_parent

    def export_png(self, folder) -> list[Path]:
        return self.plots.export_png(folder)

    def export_csv(self, path) -> Path:
        return self.plots.export_csv(path)

    def export_weights(self, run_id: str, path) -> Path:
        """Copy a run's trained weights (best, else last) to ``path``.

        ``.safetensors`` gets the plain weights where they were written; any
        other name gets the full checkpoint (read it with
        ``torch.load(path, weights_only=True)["model"]``).

        Raises:
            FileNotFoundError: the run wrote no checkpoint.
        """
        rec = self.runs.records[run_id]
        src = rec.checkpoint("best") or rec.checkpoint("last")
        if src is None:
            raise FileNotFoundError(f"{run_id} wrote no checkpoint")
        path = Path(path)
        if path.suffix == ".safetensors" and src.with_suffix(".safetensors").is_file():
            src = src.with_suffix(".safetensors")
        shutil.copyfile(src, path)
        return path

    def png_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.dialog_parent, "Folder for the plot images")
        if folder:
            paths = self.export_png(folder)
            self.message.show_message(f"Saved {len(paths)} images to {folder}", error=False)

    def csv_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.dialog_parent, "Metrics as CSV",
                                              "metrics.csv", "CSV files (*.csv)")
        if path:
            self.export_csv(path)
            self.message.show_message(f"Saved the metrics to {path}", error=False)

    def weights_clicked(self, run_id: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self.dialog_parent, "Export weights",
                                              f"{run_id}.safetensors",
                                              "Weights (*.safetensors *.pt)")
        if path:
            try:
                self.export_weights(run_id, path)
                self.message.show_message(f"Saved the weights of {run_id} to {path}",
                                          error=False)
            except OSError as exc:
                self.message.show_message(f"Could not export the weights: {exc}")
