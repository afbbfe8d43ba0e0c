"""The open document: project, analyzer, undo stack and file path.

A :class:`Document` is the one place the views reach the model from.  It owns
no model state of its own beyond what :class:`graph.project.Project` holds;
it re-runs the (incremental) analysis after every undo-stack step and tells
the views through the ``analysed`` signal, so no view analyses on paint.
"""

from __future__ import annotations

import weakref

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from graph.analysis import Analyzer
from graph.project import Project
from runtime.data.catalog import training_samples


def _empty_stack(stack: QUndoStack) -> None:
    """Delete a stack's commands while their Python halves are alive.

    A ``QUndoStack`` holding Python commands crashes the process when the
    garbage collector frees it as part of a reference cycle (PySide6 6.11
    clears the commands' wrappers before the stack deletes them), and a
    document is always in cycles (views and the analyzer listen to it).
    """
    try:
        stack.blockSignals(True)  # the document listening to it is half gone
        stack.clear()
    except RuntimeError:  # the C++ stack is gone already (deleteLater): nothing left
        pass


def dataset_samples(training: dict | None) -> int | None:
    """Training samples of the settings' built-in dataset (None: unknown until read)."""
    return training_samples((training or {}).get("dataset"))


class Document(QObject):
    """A project being edited.

    Args:
        project: the project (graph, training section, name).
        path: the file it came from, or None for a new one.
    """

    #: the analysis was brought up to date after an edit
    analysed = Signal()

    def __init__(self, project: Project, path: str | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self.path = path
        self.graph = project.graph
        self.analyzer = Analyzer(self.graph, project.training,
                                 dataset_samples(project.training))
        self.undo = QUndoStack(self)
        # not at exit: the interpreter is being torn down, Qt cleans up itself
        weakref.finalize(self, _empty_stack, self.undo).atexit = False
        self.undo.indexChanged.connect(self._index_changed)
        #: trained weights loaded from a run (:class:`gui.training.weights.LoadedWeights`)
        self.weights = None

    def set_training(self, training: dict) -> None:
        """Take new training settings (validation warns of a model far too large
        for the dataset's size, so the analysis needs them too)."""
        self.project.training = training
        self.analyzer.set_training(training, dataset_samples(training))

    @property
    def name(self) -> str:
        return self.project.name

    def set_name(self, name: str) -> None:
        """Rename the project (the title and the exported class follow; views hear
        of it through ``analysed``)."""
        self.project.name = name
        self.analysed.emit()

    def _index_changed(self, _index: int) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Bring the analysis up to date and notify the views."""
        self.analyzer.refresh()
        self.analysed.emit()

    def is_modified(self) -> bool:
        return not self.undo.isClean()

    def close(self) -> None:
        self.analyzer.close()
