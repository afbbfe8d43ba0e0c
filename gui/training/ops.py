"""The main window's Train menu: a mixin like :mod:`gui.file_ops` and :mod:`gui.edit_ops`.

The "Training" dock is created empty with the window and filled with a
:class:`~gui.training.controller.TrainingArea` the first time it is shown
(or on Start), because the area imports pyqtgraph (≈ 0.6–1 s) and starts
loading torch in the background (architecture rule 7: neither before the
window is painted).  This module imports neither.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel


class TrainOps:
    """Train menu handlers; expects ``self.doc``, ``self.scene`` and ``reveal_node``."""

    training = None  # the TrainingArea, once built

    def init_training(self) -> None:
        """Create the (hidden, empty) Training dock; call from the window's ``__init__``."""
        dock = QDockWidget("Training", self)
        dock.setObjectName("training")
        dock.setWidget(QLabel("Loading the training view…"))
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        dock.hide()
        dock.visibilityChanged.connect(lambda shown: shown and self.training_area())
        self.training_dock = dock
        self._update_train_actions(False)

    def training_area(self):
        """The training area (built on first use) with the current document."""
        if self.training is None:
            from .controller import TrainingArea

            self.training = TrainingArea()
            self.training_dock.setWidget(self.training)
            self.training.running_changed.connect(self._update_train_actions)
            self.training.fault_node.connect(self.reveal_node)
            if self.doc is not None:
                self.training.set_document(self.doc)
        return self.training

    def training_set_document(self, doc) -> None:
        """Called by ``set_document``: the area follows the open document."""
        if self.training is not None:
            self.training.set_document(doc)

    def training_selection_changed(self) -> None:
        """One selected edge → its live histograms (when the area exists)."""
        if self.training is None or self.scene is None:
            return
        edges = self.scene.selected_edges()
        if len(edges) == 1 and not self.scene.selected_node_ids():
            e = edges[0]
            g = self.doc.graph
            label = f"{g.node(e.source).name} → {g.node(e.target).name}"
            self.training.watch_edge(e.source, label)

    def show_training(self) -> None:
        """Show the Training dock: full width, in a tab beside Problems, over half the height."""
        dock = self.training_dock
        first = not getattr(self, "_training_placed", False)
        problems = getattr(self, "docks", {}).get("problems")
        if first and problems is not None and not problems.isFloating():
            self.tabifyDockWidget(problems, dock)
        if first:
            # the band under the canvas spans the window while training is shown: four live
            # plots and the settings do not fit between the palette and the inspector
            for corner in (Qt.Corner.BottomLeftCorner, Qt.Corner.BottomRightCorner):
                self.setCorner(corner, Qt.DockWidgetArea.BottomDockWidgetArea)
        dock.show()
        dock.raise_()
        if first:
            self._training_placed = True
            self.resizeDocks([dock], [int(self.height() * 0.6)], Qt.Orientation.Vertical)
            code = getattr(self, "docks", {}).get("code")
            if problems is not None and code is not None and code.isVisible() \
                    and not code.isFloating():
                self.resizeDocks([problems, code], [int(self.width() * 0.74),
                                                    int(self.width() * 0.26)],
                                 Qt.Orientation.Horizontal)
        self.training_area()

    def train_start(self) -> None:
        self.show_training()
        self.training.start()

    def train_pause(self) -> None:
        if self.training is not None:
            if self.training.paused:
                self.training.resume()
            else:
                self.training.pause()

    def train_stop(self) -> None:
        if self.training is not None:
            self.training.stop()

    def training_shutdown(self) -> None:
        if self.training is not None:
            self.training.shutdown()

    def _update_train_actions(self, running: bool) -> None:
        acts = getattr(self, "actions", {})
        for key, on in (("train_start", not running), ("train_pause", running),
                        ("train_stop", running)):
            if key in acts:
                acts[key].setEnabled(on)
