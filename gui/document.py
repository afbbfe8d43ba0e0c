"""The open document: project, analyzer, undo stack, file path and loaded weights.

A :class:`Document` is the one place the views reach the model from.  It owns
no model state of its own beyond what :class:`graph.project.Project` holds
(and the trained weights loaded from a run).  It announces its own changes
as Qt signals, and the views listen to those, never to the undo stack:

- ``graph_changed``: the network changed (nodes, edges, parameters, names,
  units, positions), however it was changed: an undo-stack step, or a call
  of the graph API (an auto-layout at open, a script);
- ``training_changed``, ``weights_changed``, ``path_changed``, ``name_changed``;
- ``analysed``: the (incremental) analysis is up to date after any of the
  changes that affect it, so no view analyses on paint.

The graph's events are collected and announced once per undo-stack step
(the end of a macro of a hundred nodes is one announcement), or on the next
turn of the event loop for changes made outside the stack.

:meth:`Document.push` is the one way to take an undoable edit: an edit the
graph refuses (``GraphEditError`` from the command's ``redo``) leaves the
undo stack as it was and raises with the graph's message.

The canvas shows one *level* at a time: the project's network, or the
definition of a unit opened from one of its instances (and so on, nested).
:attr:`Document.current_graph` is the graph of that level and
:attr:`Document.view_analyzer` its shapes and problems
(:class:`gui.unit_level.LevelAnalysis`: the opened instance's inner results).
"""

from __future__ import annotations

import weakref

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from graph.analysis import Analyzer
from graph.project import Project
from runtime.data.catalog import training_samples

from .training.dataset_probe import DatasetFeeder


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


def _done() -> None:
    """The ``redo`` of a command whose first step :meth:`Document.push` took."""


def dataset_samples(training: dict | None) -> int | None:
    """Training samples of the settings' built-in dataset (None: unknown until read)."""
    return training_samples((training or {}).get("dataset"))


class Document(QObject):
    """A project being edited.

    Args:
        project: the project (graph, training section, name).
        path: the file it came from, or None for a new one.

    Signals:
        graph_changed: the network changed (see the module docstring).
        training_changed: the training settings were replaced.
        weights_changed: trained weights were loaded or forgotten.
        path_changed(object): the file the document saves to (a str, or None).
        name_changed(str): the project was renamed.
        modified_changed(bool): the document now has (True) or no longer has
            unsaved changes.
        edited: an edit was made, undone or redone (the unsaved state changed).
        analysed: the analysis was brought up to date after a change.
        level_changed: the canvas level changed (a unit opened, Back, or the
            opened unit went away).
    """

    graph_changed = Signal()
    training_changed = Signal()
    weights_changed = Signal()
    path_changed = Signal(object)
    name_changed = Signal(str)
    modified_changed = Signal(bool)
    edited = Signal()
    analysed = Signal()
    level_changed = Signal()

    def __init__(self, project: Project, path: str | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self._path = path
        self.graph = project.graph
        self.analyzer = Analyzer(self.graph, project.training,
                                 dataset_samples(project.training))
        self.undo = QUndoStack(self)
        # not at exit: the interpreter is being torn down, Qt cleans up itself
        weakref.finalize(self, _empty_stack, self.undo).atexit = False
        self.undo.indexChanged.connect(self._index_changed)
        self.undo.cleanChanged.connect(self._clean_changed)
        self._weights = None
        #: the opened units, outermost first: (unit name, its UnitDef, the id
        #: of the instance it was opened from, in the level above, or None)
        self.levels: list[tuple[str, object, str | None]] = []
        # what changed since the last announcement (see the module docstring)
        self._graph_dirty = self._training_dirty = False
        self._closed = False
        self._announce = QTimer(self, singleShot=True, interval=0)
        self._announce.timeout.connect(self.flush)
        ev = self.graph.events
        ev.changed.connect(self._graph_edited)
        ev.node_moved.connect(self._graph_edited)
        #: tells the analysis what the chosen dataset gives (read off this thread)
        self.dataset_feed = DatasetFeeder(self)
        self.dataset_feed.update()

    # ------------------------------------------------------------ edits
    def push(self, command: QUndoCommand) -> None:
        """Take an undoable edit: run the command and put it on the undo stack.

        The first ``redo`` runs here, not inside ``QUndoStack.push``: an
        exception raised in a Python method that Qt calls is not seen by
        the caller (PySide reports it later, prefixed, from whatever Python
        code Qt runs next) and Qt keeps the failed command on the stack.

        Raises:
            GraphEditError: the graph refused the edit (the graph's message).
                The command is not on the stack and the graph is as it was
                (a macro takes back the steps it took).
        """
        command.redo()
        # Qt's push calls redo once more: a method set on the instance stands in
        # for the class's (PySide looks there first) until the push is done
        command.redo = _done
        try:
            self.undo.push(command)
        finally:
            del command.redo

    def _graph_edited(self, *_args) -> None:
        if not self._graph_dirty:  # (once: a paste of a thousand nodes sends thousands)
            self._graph_dirty = True
            self._announce.start()  # an undo-stack step announces it sooner, in flush

    def _clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)

    def flush(self) -> None:
        """Announce what changed since the last announcement, with the analysis
        brought up to date first (called after every undo-stack step; changes
        made outside the stack are announced on the next event-loop turn)."""
        self._announce.stop()
        graph, training = self._graph_dirty, self._training_dirty
        self._graph_dirty = self._training_dirty = False
        self.analyzer.refresh()
        if graph:
            self.graph_changed.emit()
        if training:
            self.training_changed.emit()
        self.analysed.emit()

    def _index_changed(self, _index: int) -> None:
        self._check_levels()
        self.flush()
        self.edited.emit()

    def refresh(self) -> None:
        """Bring the analysis up to date and notify the views now."""
        self.flush()

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

    # ------------------------------------------------------------ the rest of the model
    def set_training(self, training: dict) -> None:
        """Take new training settings (validation warns of a model far too large
        for the dataset's size, so the analysis needs them too); announced as
        ``training_changed`` with the undo step (or on the next event-loop turn)."""
        self.project.training = training
        self.analyzer.set_training(training, dataset_samples(training))
        self.dataset_feed.update()
        self._training_dirty = True
        self._announce.start()

    @property
    def weights(self):
        """Trained weights loaded from a run
        (:class:`gui.training.weights.LoadedWeights`), or None."""
        return self._weights

    def set_weights(self, weights) -> None:
        """Carry trained weights (None: the next run starts from fresh ones)."""
        self._weights = weights
        self.weights_changed.emit()

    @property
    def path(self) -> str | None:
        """The file the document saves to (None: never saved)."""
        return self._path

    @path.setter
    def path(self, path: str | None) -> None:
        self.set_path(path)

    def set_path(self, path: str | None) -> None:
        """Save to ``path`` from now on (Save As)."""
        path = str(path) if path else None
        if path != self._path:
            self._path = path
            self.dataset_feed.update()  # relative dataset paths are read from its folder
            self.path_changed.emit(path)

    @property
    def name(self) -> str:
        return self.project.name

    def set_name(self, name: str) -> None:
        """Rename the project (the title and the exported class follow)."""
        self.project.name = name
        self.name_changed.emit(name)
        self.analysed.emit()  # the code names its class after the project

    def is_modified(self) -> bool:
        return not self.undo.isClean()

    def close(self) -> None:
        """Stop listening to the graph (the document is being replaced)."""
        if self._closed:
            return
        self._closed = True
        self._announce.stop()
        ev = self.graph.events
        ev.changed.disconnect(self._graph_edited)
        ev.node_moved.disconnect(self._graph_edited)
        self.analyzer.close()
