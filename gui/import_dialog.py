"""File → Import PyTorch Model: a model class of a Python file onto the canvas.

The dialog asks for the file, the class (optional when the file names one
model in ``__all__``, as exported files do) and the input shapes (optional
for NetCanvas's own exported code, whose docstring states them).  The import
itself (:func:`codegen.fx_import.import_project`: torch, then the file's code,
then ``torch.fx`` tracing) runs on a plain thread, so the window stays live
while torch loads; :class:`ModelImporter` reports back with a Qt signal.
Running the file is what importing means, so the dialog says so: nothing
else in NetCanvas ever executes code from a file.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget)

PY_FILTER = "Python files (*.py);;All files (*)"


class ImportDialog(QDialog):
    """The import's settings; :attr:`requested` carries them when OK is pressed.

    Signals:
        requested(str, object, object, object): path, class name or None,
            input shapes (list of lists) or None, dtypes (list) or None.
    """

    requested = Signal(str, object, object, object)

    def __init__(self, parent: QWidget | None = None, folder: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Import PyTorch Model")
        self.folder = folder
        self.path = QLineEdit()
        self.path.setPlaceholderText("model.py")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.class_name = QLineEdit()
        self.class_name.setPlaceholderText("the model class in __all__, or the only one")
        self.shapes = QLineEdit()
        self.shapes.setPlaceholderText("from the docstring; e.g. 1, 28, 28  (inputs: a; b)")
        self.shapes.setToolTip("One sample shape per forward() argument, without the batch "
                               "dimension; separate several inputs with ';'. A name such as "
                               "T stands for a variable length.")
        self.dtype = QComboBox()
        self.dtype.addItems(["float32", "int64"])
        self.dtype.setToolTip("int64 for token ids (a model that starts with an Embedding)")
        form = QFormLayout()
        form.addRow("File", row)
        form.addRow("Class", self.class_name)
        form.addRow("Input shape", self.shapes)
        form.addRow("Input type", self.dtype)
        note = QLabel("Importing runs the file's code to build and trace the model "
                      "(torch.fx): import only files you trust.")
        note.setWordWrap(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d22;")
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Import")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(note)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.resize(520, self.sizeHint().height())

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "PyTorch model file", self.folder, PY_FILTER)
        if path:
            self.path.setText(path)

    def say(self, text: str) -> None:
        """Show a problem in the dialog (it stays open to be corrected)."""
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def _accept(self) -> None:
        from pathlib import Path

        from codegen.fx_import import parse_shape

        path = self.path.text().strip()
        if not path:
            self.say("Choose the Python file that defines the model.")
            return
        if not Path(path).is_file():
            self.say(f"There is no file {path!r}.")
            return
        shapes = None
        text = self.shapes.text().strip()
        if text:
            try:
                shapes = [parse_shape(part) for part in text.split(";")]
            except ValueError as exc:
                self.say(f"Input shape {exc}")
                return
        dtypes = [self.dtype.currentText()] * len(shapes) if shapes else None
        if shapes is None and self.dtype.currentText() != "float32":
            self.say("Give the input shape too when the input type is not float32.")
            return
        self.say("")
        self.requested.emit(path, self.class_name.text().strip() or None, shapes, dtypes)
        self.accept()


class ModelImporter(QObject):
    """Runs one import on a plain thread; :attr:`done` brings back the result.

    Signals:
        done(object, str): the :class:`graph.project.Project` (or None) and
            the error message ("" on success).
    """

    done = Signal(object, str)

    def start(self, path: str, class_name, shapes, dtypes) -> None:
        threading.Thread(target=self._run, args=(path, class_name, shapes, dtypes),
                         name="netcanvas-import", daemon=True).start()

    def _run(self, path, class_name, shapes, dtypes) -> None:
        from codegen.errors import CodegenError

        try:
            from codegen.fx_import import import_project

            result = import_project(path, class_name, shapes, dtypes), ""
        except CodegenError as exc:  # ModelImportError: every reason, in words
            result = None, str(exc)
        except Exception as exc:  # noqa: BLE001 (a broken torch install: said, not raised)
            result = None, f"{type(exc).__name__}: {exc}"
        try:
            self.done.emit(*result)
        except RuntimeError:  # the window was closed during the import
            pass
