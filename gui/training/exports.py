"""Exports of the training area: plots as PNG, metrics as CSV, a run's weights.

A mixin of :class:`~gui.training.controller.TrainingArea` (it uses its
``view``, ``runs`` and ``_show_message``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtWidgets import QFileDialog


class TrainingExports:
    """Export buttons and their file dialogs."""

    def export_png(self, folder) -> list[Path]:
        return self.view.plots.export_png(folder)

    def export_csv(self, path) -> Path:
        return self.view.plots.export_csv(path)

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

    def _export_png_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the plot images")
        if folder:
            paths = self.export_png(folder)
            self._show_message(f"Saved {len(paths)} images to {folder}", error=False)

    def _export_csv_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Metrics as CSV", "metrics.csv",
                                              "CSV files (*.csv)")
        if path:
            self.export_csv(path)
            self._show_message(f"Saved the metrics to {path}", error=False)

    def _export_weights_clicked(self, run_id: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export weights", f"{run_id}.safetensors",
                                              "Weights (*.safetensors *.pt)")
        if path:
            try:
                self.export_weights(run_id, path)
                self._show_message(f"Saved the weights of {run_id} to {path}", error=False)
            except OSError as exc:
                self._show_message(f"Could not export the weights: {exc}")
