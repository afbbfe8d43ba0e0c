"""The open document: project, analyzer, undo stack and file path.

A :class:`Document` is the one place the views reach the model from.  It owns
no model state of its own beyond what :class:`graph.project.Project` holds;
it re-runs the (incremental) analysis after every undo-stack step and tells
the views through the ``analysed`` signal, so no view analyses on paint.

The canvas shows one *level* at a time: the project's network, or the
definition of a unit opened from one of its instances (and so on, nested).
:attr:`Document.current_graph` is the graph of that level and
:attr:`Document.view_analyzer` its shapes and problems
(:class:`gui.unit_level.LevelAnalysis`: the opened instance's inner results).
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
    #: the canvas level changed (a unit opened, Back, or the opened unit went away)
    level_changed = Signal()

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
        #: the opened units, outermost first: (unit name, its UnitDef, the id
        #: of the instance it was opened from, in the level above, or None)
        self.levels: list[tuple[str, object, str | None]] = []

    # ------------------------------------------------------------ levels
    @property
    def current_graph(self):
        """The graph the canvas shows: the project's, or an opened unit's."""
        return self.levels[-1][1].graph if self.levels else self.graph

    @property
    def view_analyzer(self):
        """Shapes and problems of :attr:`current_graph`'s nodes (the analyzer
        itself at the top level)."""
        if not self.levels:
            return self.analyzer
        from .unit_level import LevelAnalysis
        return LevelAnalysis(self)

    def enter_unit(self, name: str, instance_id: str | None = None) -> None:
        """Show a unit's definition (opened from ``instance_id`` of the current level)."""
        self.levels.append((name, self.graph.units[name], instance_id))
        self.level_changed.emit()

    def leave_to(self, depth: int) -> None:
        """Go back to the level ``depth`` (0: the project's network)."""
        if depth < len(self.levels):
            del self.levels[depth:]
            self.level_changed.emit()

    def _check_levels(self) -> None:
        """Leave opened units that are gone or were replaced (an undo of the
        grouping that made one, a paste that redefined it)."""
        for k, (name, unit, _inst) in enumerate(self.levels):
            if self.graph.units.get(name) is not unit:
                self.leave_to(k)
                return

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
        self._check_levels()
        self.refresh()

    def refresh(self) -> None:
        """Bring the analysis up to date and notify the views."""
        self.analyzer.refresh()
        self.analysed.emit()

    def is_modified(self) -> bool:
        return not self.undo.isClean()

    def close(self) -> None:
        self.analyzer.close()
