"""The main window's Train menu and Training dock: :class:`TrainingController`.

The "Training" dock is created empty with the window and filled with a
:class:`~gui.training.controller.TrainingArea` the first time it is shown
(or on Start), because the area imports pyqtgraph (≈ 0.6–1 s) and starts
loading torch in the background (architecture rule 7: neither before the
window is painted).  This module imports neither.

Layout while training: the dock is a tab of the band under the canvas (with
Problems and Code, so the plots get the window's whole width), and that band
is a splitter with the canvas whose position is remembered per user
(``training/band_share`` in the app's settings file).  The canvas never gets
less than :data:`MIN_CANVAS_HEIGHT` while the dock is open (at 1280×800 the
old default left it a 140 px strip), and an empty inspector narrows to
:data:`COMPACT_INSPECTOR` so the canvas keeps its width too.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow

from gui.docks import BOTTOM_HEIGHT
from gui.recovery import data_dir

#: The canvas's least height while the Training dock is open (a network stays readable).
MIN_CANVAS_HEIGHT = 300
#: The band's default share of the window's height (the rest: canvas, menus, status bar).
DEFAULT_BAND_SHARE = 0.5
#: An empty inspector's width while training ("Select one block…" wraps).
COMPACT_INSPECTOR = 180
#: The inspector's width again once it shows a block.
INSPECTOR_WIDTH = 340
SETTING = "training/band_share"


def _settings() -> QSettings:
    # the app's one settings file (as gui.file_ops.settings opens it)
    return QSettings(str(data_dir() / "settings.ini"), QSettings.Format.IniFormat)


def saved_band_share() -> float:
    """The user's last band height as a share of the window (the default if none or bad)."""
    try:
        share = float(_settings().value(SETTING, DEFAULT_BAND_SHARE))
    except (TypeError, ValueError):
        return DEFAULT_BAND_SHARE
    return share if 0.1 <= share <= 0.9 else DEFAULT_BAND_SHARE


class TrainingController:
    """Train menu handlers and the Training dock.

    Args:
        window: the main window the dock is added to (and placed in).
        view: the canvas (one selected edge → its live histograms).
        actions: the Train menu's actions (``train_start``, ``train_pause``,
            ``train_stop``), enabled as a run starts and ends.
        reveal_node: selects and shows a node (a fault located at it).
        problems_dock: the Problems dock the Training dock is tabbed with,
            and ``code_dock`` the Code dock (tabbed there too; None: not there).
        inspector_dock: narrowed while training when it shows no block.
    """

    def __init__(self, window: QMainWindow, view, actions: dict[str, QAction],
                 reveal_node: Callable[[str], None], problems_dock: QDockWidget | None = None,
                 code_dock: QDockWidget | None = None, inspector_dock: QDockWidget | None = None):
        self.window = window
        self.view = view
        self.actions = actions
        self.reveal_node = reveal_node
        self.problems_dock, self.code_dock = problems_dock, code_dock
        self.inspector_dock = inspector_dock
        self._inspector_compact = False
        self.doc = None
        self.area = None  # the TrainingArea, once built
        self._placed = False
        dock = QDockWidget("Training", window)
        dock.setObjectName("training")
        dock.setWidget(QLabel("Loading the training view…"))
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        dock.hide()
        dock.visibilityChanged.connect(lambda shown: shown and self.training_area())
        self.dock = dock
        self._band_watch = _BandWatch(self)
        dock.installEventFilter(self._band_watch)
        self._update_train_actions(False)

    def bind(self, doc) -> None:
        """Follow ``doc``; the area (once built) binds to it too."""
        self.doc = doc
        if self.area is not None:
            self.area.bind(doc)

    def training_area(self):
        """The training area (built on first use) with the current document."""
        if self.area is None:
            from .controller import TrainingArea

            self.area = TrainingArea()
            self.dock.setWidget(self.area)
            self.area.running_changed.connect(self._update_train_actions)
            self.area.fault_node.connect(self.reveal_node)
            if self.doc is not None:
                self.area.bind(self.doc)
        return self.area

    def selection_changed(self) -> None:
        """One selected edge → its live histograms (when the area exists)."""
        scene = self.view.scene()
        self.fit_inspector()
        if self.area is None or scene is None:
            return
        edges = scene.selected_edges()
        if len(edges) == 1 and not scene.selected_node_ids():
            e = edges[0]
            g = self.doc.graph
            label = f"{g.node(e.source).name} → {g.node(e.target).name}"
            self.area.watch_edge(e.source, label)

    def show_training(self) -> None:
        """Show the Training dock: a full-width tab under the canvas (with Problems and Code),
        as tall as the user left it, the canvas at least :data:`MIN_CANVAS_HEIGHT` high."""
        dock, window = self.dock, self.window
        first = not self._placed
        share = saved_band_share()  # before the dock's first layout resizes it
        self._band_watch.quiet = True  # that layout is ours, not the user's drag
        if first:
            # one band of tabs: the plots get the whole width, not what Code leaves them
            band = [d for d in (self.problems_dock, self.code_dock)
                    if d is not None and not d.isFloating() and not d.isHidden()
                    and window.dockWidgetArea(d) == Qt.DockWidgetArea.BottomDockWidgetArea]
            for other in band[1:] + [dock] if band else []:
                window.tabifyDockWidget(band[0], other)
            # the band spans the window while training is shown: four live plots and
            # the settings do not fit between the palette and the inspector
            for corner in (Qt.Corner.BottomLeftCorner, Qt.Corner.BottomRightCorner):
                window.setCorner(corner, Qt.DockWidgetArea.BottomDockWidgetArea)
        try:
            dock.show()
            dock.raise_()
            self.training_area()
            self._hold_canvas(True)
            if first:
                self._placed = True
                self.resize_band(share)
                # again once the window has laid the new dock out (a resize just before,
                # the area's first layout): the first measure can be a pass behind
                self._band_watch.quiet = True
                QTimer.singleShot(0, self.window, lambda: self.resize_band(share))
            self.fit_inspector()
        finally:
            if not first:
                self._band_watch.quiet = False

    def resize_band(self, share: float) -> None:
        """Make the band under the canvas ``share`` of the window's height (the canvas
        keeps its least height whatever the share)."""
        window = self.window
        if window.layout() is not None:
            window.layout().activate()  # the dock just shown: measure the layout as it will be
        height = max(0, min(int(window.height() * share), self._most_band()))
        self._band_watch.quiet = True  # our own resize is not the user's choice
        try:
            window.resizeDocks([self.dock], [height], Qt.Orientation.Vertical)
            if window.layout() is not None:
                window.layout().activate()
            # the size asked for is the tab group's; the dock is its tab bar shorter
            short = height - self.dock.height()
            if 0 < short < 80:
                window.resizeDocks([self.dock], [height + short], Qt.Orientation.Vertical)
                window.layout().activate()
        finally:
            self._band_watch.quiet = False

    def _most_band(self) -> int:
        """The tallest band that leaves the canvas :data:`MIN_CANVAS_HEIGHT` (estimated from
        the window's other parts: menus, toolbar, status bar, the canvas's own siblings)."""
        window, center = self.window, self.window.centralWidget()
        if center is None or not window.isVisible() or self.dock.isHidden():
            return window.height()
        canvas = self.view.height()
        return max(0, self.dock.height() + canvas - MIN_CANVAS_HEIGHT)

    def _hold_canvas(self, on: bool) -> None:
        """While the dock is open the canvas cannot be squeezed below its least height."""
        center = self.window.centralWidget()
        if center is not None:
            extra = center.height() - self.view.height() if center.height() else 0
            center.setMinimumHeight(MIN_CANVAS_HEIGHT + max(0, extra) if on else 0)

    def band_moved(self) -> None:
        """The user dragged the band's edge: remember its share for the next window."""
        if self.dock.isFloating() or self.dock.isHidden() or not self.window.isVisible():
            return
        share = self.dock.height() / max(1, self.window.height())
        if 0.1 <= share <= 0.9:
            _settings().setValue(SETTING, round(share, 3))

    def band_closed(self) -> None:
        """The Training dock was closed: the band under the canvas back to its editing height."""
        others = [d for d in (self.problems_dock, self.code_dock)
                  if d is not None and not d.isHidden() and not d.isFloating()]
        if others:
            self.window.resizeDocks(others[:1], [BOTTOM_HEIGHT], Qt.Orientation.Vertical)

    def fit_inspector(self) -> None:
        """Narrow an empty inspector while training is shown; widen it for a block."""
        dock = self.inspector_dock
        if dock is None or dock.isFloating() or dock.isHidden():
            return
        empty = getattr(dock.widget(), "node_id", None) is None
        compact = empty and not self.dock.isHidden()
        if compact != self._inspector_compact:
            self._inspector_compact = compact
            width = COMPACT_INSPECTOR if compact else INSPECTOR_WIDTH
            self.window.resizeDocks([dock], [width], Qt.Orientation.Horizontal)

    def train_start(self) -> None:
        self.show_training()
        self.area.start()

    def load_pretrained(self, path: str | None = None) -> bool:
        """Train → Load Pretrained Weights…: a checkpoint (asked for when not
        given) whose matching blocks start the next run; a dialog says what loaded."""
        if path is None:
            from PySide6.QtWidgets import QFileDialog

            path, _ = QFileDialog.getOpenFileName(self.window, "Load Pretrained Weights", "",
                                                  "Checkpoints (*.pt);;All files (*)")
            if not path:
                return False
        self.show_training()
        return self.area.weights_control.load_file(path, self.window)

    def train_pause(self) -> None:
        if self.area is not None:
            if self.area.paused:
                self.area.resume()
            else:
                self.area.pause()

    def train_stop(self) -> None:
        if self.area is not None:
            self.area.stop()

    def shutdown(self) -> None:
        if self.area is not None:
            self.area.shutdown()

    def _update_train_actions(self, running: bool) -> None:
        for key, on in (("train_start", not running), ("train_pause", running),
                        ("train_stop", running)):
            if key in self.actions:
                self.actions[key].setEnabled(on)


class _BandWatch(QObject):
    """Tells the controller when the Training dock is resized (by the user: our
    own resizes set ``quiet``) and when it is closed (the canvas let go)."""

    def __init__(self, owner: TrainingController):
        super().__init__()
        self.owner = owner
        self.quiet = False

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt override)
        kind = event.type()
        if kind == QEvent.Type.Resize and not self.quiet and event.oldSize().height() > 0 \
                and event.oldSize().height() != event.size().height() \
                and event.oldSize().width() == event.size().width():
            self.owner.band_moved()
        elif kind in (QEvent.Type.Hide, QEvent.Type.Show):
            # closed (not just behind the Problems tab): the canvas may shrink again
            self.owner._hold_canvas(not obj.isHidden())
            self.owner.fit_inspector()
            if kind == QEvent.Type.Hide and obj.isHidden():
                self.owner.band_closed()
        return False
