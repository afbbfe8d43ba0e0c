"""The dataset's rows of the training settings form: the dataset list (the
built-in sets, then a file of each kind, chosen in a file dialog), a line
that describes the choice, the CSV target column and the validation fraction.

:class:`DatasetRows` shows a section's dataset and says what a choice or an
option edit makes of it; the panel pushes the edits (each one undo step).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFileDialog, QLabel, QLineEdit, QWidget

from runtime.data import builtin_catalog

from .settings_data import FILE_KINDS, dataset_text


class DatasetRows:
    """The dataset list, its description, the target column and the validation fraction.

    Attributes:
        dataset: the list; each item's data is ``(kind, name)``: ``("name",
            <built-in set>)`` or ``(<file kind>, None)``.
        dataset_info: what the chosen dataset is (a full-width row).
        target: the target column of a CSV file.
        val_fraction: the fraction of the samples kept for validation.
    """

    def __init__(self):
        self.dataset = QComboBox()
        for name, info in builtin_catalog().items():
            self.dataset.addItem(name, ("name", name))
            self.dataset.setItemData(self.dataset.count() - 1, info.description,
                                     Qt.ItemDataRole.ToolTipRole)
        for kind, label in FILE_KINDS.items():
            self.dataset.addItem(label, (kind, None))
        self.dataset_info = QLabel()
        self.dataset_info.setWordWrap(True)
        self.target = QLineEdit()
        self.target.setPlaceholderText("target column (CSV)")
        self.val_fraction = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=0.9, singleStep=0.05)

    def load(self, t: dict, v: dict) -> None:
        """Show a section's dataset (``v``: what the fields show, see
        :func:`~gui.training.settings_values.shown_values`)."""
        kind, name = v["dataset"]
        for i in range(self.dataset.count()):
            k, item = self.dataset.itemData(i)
            if k == kind and (k != "name" or item == name):
                self.dataset.setCurrentIndex(i)
                break
        else:  # none chosen, or one the list cannot show: blank, not the last one's
            self.dataset.setCurrentIndex(-1)
        self.target.setText(v["target"])
        self.target.setEnabled(kind == "csv")
        self.val_fraction.setValue(float(v["val_fraction"]))
        self.dataset_info.setText(dataset_text(t.get("dataset")))

    @staticmethod
    def replacing(old, spec: dict) -> dict:
        """The dataset ``spec`` chosen in place of ``old`` (the section's dataset):
        the validation fraction is kept."""
        old = old if isinstance(old, dict) else {}
        spec = dict(spec)
        if "val_fraction" in old and "val_fraction" not in spec:
            spec["val_fraction"] = old["val_fraction"]
        return spec

    def chosen(self, index: int, parent: QWidget | None) -> dict | None:
        """The dataset spec of list item ``index``: a built-in set, or a file of
        that kind asked for in a file dialog (None: the dialog was cancelled)."""
        kind, name = self.dataset.itemData(index)
        if kind == "name":
            return {"name": name}
        if kind == "image_folder":
            path = QFileDialog.getExistingDirectory(parent,
                                                    "Image folder (one subfolder per class)")
        else:
            path, _ = QFileDialog.getOpenFileName(parent, FILE_KINDS[kind].rstrip("…"), "",
                                                  f"{kind.upper()} files (*.{kind});;All files (*)")
        if not path:
            return None
        spec = {kind: path}
        if kind == "csv" and self.target.text().strip():
            spec["target"] = self.target.text().strip()
        return spec

    def with_options(self, ds) -> dict | None:
        """``ds`` (the section's dataset) with the validation fraction and target
        the rows show; None where nothing is chosen or the value is malformed
        (the dataset list replaces it)."""
        if not isinstance(ds, dict) or not ds:
            return None
        ds = dict(ds)
        ds["val_fraction"] = round(self.val_fraction.value(), 4)
        if "csv" in ds:
            target = self.target.text().strip()
            if target:
                ds["target"] = target
            else:
                ds.pop("target", None)
        return ds
