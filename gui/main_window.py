"""The main window: a thin composition root.

It puts the canvas in the middle and the palette, inspector, problems and
code panels in docks (arranged by :mod:`gui.docks`), builds menus and toolbar
from :mod:`gui.actions`, and binds the panels and the controllers to the open
:class:`~gui.document.Document` (one ``bind(doc)`` each, :mod:`gui.binding`).
What the menus do lives in small controllers that receive what they use:
:class:`~gui.file_ops.FileController` (``files``),
:class:`~gui.edit_ops.EditController` (``edit``),
:class:`~gui.unit_ops.UnitController` (``units``),
:class:`~gui.export_ops.ExportController` (``exports``) and
:class:`~gui.training.ops.TrainingController` (``train``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QToolBar, QVBoxLayout, QWidget

from graph import humanize
from graph.analysis import problem_counts
from graph.project import Project

from . import docks, placement
from .actions import ACTIONS, ActionSpec
from .binding import DocumentBinding
from .canvas.context_menu import reveal_in_code
from .canvas.scene import CanvasScene
from .canvas.view import CanvasView
from .code_view import CodeView
from .document import Document
from .edit_ops import EditController
from .export_ops import ExportController
from .feedback import Feedback
from .file_ops import FileController
from .inspector import Inspector
from .palette import Palette
from .problems import ProblemsPanel
from .recovery import Recovery
from .training.ops import TrainingController
from .unit_ops import UnitController


class MainWindow(QMainWindow):
    """The editor window.

    Args:
        project: the project to show (default: a new, empty one).
        path: its file, if any.
        dark: use dark canvas colours.
        recovery_dir: folder for autosave and lock files (default: app data).
    """

    def __init__(self, project: Project | None = None, path: str | None = None,
                 dark: bool = False, recovery_dir: str | None = None):
        super().__init__()
        self.dark = dark
        self.doc: Document | None = None
        self.scene: CanvasScene | None = None
        self.view = CanvasView()
        self.palette = Palette(dark=dark)
        self.inspector = Inspector()
        self.problems = ProblemsPanel()
        self.code = CodeView(dark)
        self.docks = docks.make_docks(self, {"palette": self.palette, "inspector": self.inspector,
                                             "problems": self.problems, "code": self.code})
        docks.default_layout(self, self.docks)
        self.totals_label = QLabel()
        self.problems_label = QLabel()
        self.statusBar().addPermanentWidget(self.totals_label)
        self.statusBar().addPermanentWidget(self.problems_label)
        self.feedback = Feedback(self, self.statusBar())
        self.recovery = Recovery(self._autosave_state, recovery_dir, self)
        self.recovery.failed.connect(lambda text: self.feedback.status(text, 10000))
        self.binding = DocumentBinding(analysed=self.update_status,
                                       modified_changed=self._modified_changed,
                                       name_changed=self.update_title,
                                       path_changed=self.update_title,
                                       edited=self.recovery.edited)  # autosave soon after
        self.actions: dict[str, QAction] = {}
        self._build_actions()  # (each action finds its handler when triggered)
        self.files = FileController(self, self.feedback, self.recovery, self.set_document,
                                    self.recent_menu, dark)
        self.edit = EditController(self.view, self.feedback)
        self.units = UnitController(self, self.view, self.feedback, self.install_scene,
                                    self.actions["unit_back"])
        self.exports = ExportController(self, self.feedback, self.view, self.files.last_dir)
        self.train = TrainingController(self, self.view, self.actions, self.reveal_node,
                                        self.docks["problems"], self.docks["code"],
                                        self.docks["inspector"])
        self.training_dock = self.train.dock
        # the breadcrumb of an opened unit (Project › BasicBlock) sits above the canvas
        self.breadcrumb = self.units.breadcrumb
        center = QWidget()
        center_lay = QVBoxLayout(center)
        center_lay.setContentsMargins(0, 0, 0, 0)
        center_lay.setSpacing(0)
        center_lay.addWidget(self.breadcrumb)
        center_lay.addWidget(self.view, 1)
        self.setCentralWidget(center)
        self.palette.activated.connect(self.add_block_at_center)
        self.view.menus.window_actions = self.actions
        self.view.menus.block_choices = self._block_choices
        self.view.show_in_code.connect(self.show_in_code)
        self.problems.node_clicked.connect(self.reveal_node)
        self.problems.training_clicked.connect(self.train.show_training)
        docks.fill_panels_menu(self.menus["&View/&Panels"],
                               [*self.docks.values(), self.training_dock])
        self.resize(1280, 800)
        self.set_document(Document(project or Project.new(), path))

    @property
    def training(self):
        """The training area (None until the Training dock is first shown)."""
        return self.train.area

    # ------------------------------------------------------------ actions
    def _handler(self, name: str):
        """The callable an action names: ``"files.file_open"`` or a window method."""
        owner, _, method = name.rpartition(".")
        return getattr(getattr(self, owner) if owner else self, method)

    def _build_actions(self) -> None:
        self.menus: dict[str, QMenu] = {}
        menus = self.menus
        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("main_toolbar")
        self.addToolBar(toolbar)
        for spec in ACTIONS:
            name = spec.menu if isinstance(spec, ActionSpec) else spec[0]
            if name not in menus:
                parent, _, sub = name.rpartition("/")
                menus[name] = menus[parent].addMenu(sub) if parent else self.menuBar().addMenu(name)
            menu = menus[name]
            if not isinstance(spec, ActionSpec):
                menu.addSeparator()
                continue
            if spec.key == "recent":
                self.recent_menu = menu.addMenu(spec.text)
                continue
            action = QAction(spec.text, self)
            if spec.shortcut is not None:
                action.setShortcut(QKeySequence(spec.shortcut))
            if spec.tip:
                action.setStatusTip(spec.tip)
            if spec.handler:
                action.triggered.connect(lambda _=False, h=spec.handler: self._handler(h)())
            menu.addAction(action)
            if spec.toolbar:
                toolbar.addAction(action)
            self.actions[spec.key] = action
        self.actions["delete"].setShortcuts([QKeySequence(QKeySequence.StandardKey.Delete),
                                             QKeySequence(Qt.Key.Key_Backspace)])
        redo = QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)
        for extra in ("Ctrl+Shift+Z", "Ctrl+Y"):
            if QKeySequence(extra) not in redo:
                redo.append(QKeySequence(extra))
        self.actions["redo"].setShortcuts(redo)
        self.actions["unit_back"].setShortcuts([QKeySequence("Esc"), QKeySequence("Alt+Left")])
        self.actions["unit_back"].setEnabled(False)
        self.actions["minimap"].setCheckable(True)
        self.actions["minimap"].setChecked(self.view.minimap.enabled)  # as last left
        placement.init_actions(self.actions)
        self.actions["undo"].triggered.connect(lambda: self.doc.undo.undo())
        self.actions["redo"].triggered.connect(lambda: self.doc.undo.redo())

    # ------------------------------------------------------------ document
    def set_document(self, doc: Document, fresh_layout: bool = False) -> None:
        """Show a document (the previous one is closed).

        Args:
            doc: the document.
            fresh_layout: lay the network out to fit the window even if it has
                positions (a template or the example: nobody arranged it yet).
                A network without positions is always laid out.
        """
        old_doc = self.doc
        self.doc = doc
        if fresh_layout or any(n.pos is None for n in doc.graph.nodes.values()):
            from .canvas.edge_item import label_widths
            from .canvas.layout import layered_positions
            widths = label_widths(doc.graph, doc.analyzer)
            for nid, pos in layered_positions(doc.graph, widths, self.layout_view()).items():
                doc.graph.move(nid, pos)
            doc.flush()  # announced now, while nothing listens yet, not again once shown
        self.binding.bind(doc)
        for part in (self.files, self.edit, self.units, self.exports, self.train,
                     self.inspector, self.problems, self.code):
            part.bind(doc)
        self.install_scene()
        if old_doc is not None:
            old_doc.close()
            old_doc.deleteLater()
        self.update_status()
        if not doc.is_modified():
            self.recovery.clear()
        self.view.show_network()

    def install_scene(self) -> None:
        """Show the document's current level in a new canvas scene."""
        old_scene = self.scene
        self.scene = CanvasScene(self.doc, self.dark, self)
        self.scene.message.connect(lambda text: self.feedback.status(text, 6000))
        self.scene.selectionChanged.connect(self._selection_changed)
        # after the click's event handling: opening replaces the scene and its items
        self.scene.node_double_clicked.connect(
            lambda nid: QTimer.singleShot(0, self, lambda: self._block_double_clicked(nid)))
        self.view.setScene(self.scene)
        if old_scene is not None:
            old_scene.close()
            old_scene.deleteLater()
        self.inspector.show_node(None)

    def layout_view(self) -> tuple[float, float]:
        """The canvas size an auto-layout should fit (an estimate while the
        window is not shown yet and its panels have no geometry)."""
        vp = self.view.viewport()
        if self.isVisible():
            return float(vp.width()), float(vp.height())
        return (float(self.width() - docks.PALETTE_WIDTH - docks.INSPECTOR_WIDTH - 30),
                float(self.height() - docks.BOTTOM_HEIGHT - 130))

    def reset_layout(self) -> None:
        """View → Panels → Reset Layout: every panel back in its place."""
        docks.default_layout(self, self.docks, self.training_dock)

    def set_dark(self, dark: bool) -> None:
        """Follow a light/dark theme change without reopening anything."""
        self.dark = self.files.dark = dark
        if self.scene is not None:
            self.scene.set_dark(dark)
        self.code.set_dark(dark)
        self.palette.set_dark(dark)

    def _modified_changed(self, modified: bool) -> None:
        self.update_title()
        if not modified:  # saved, or undone back to the saved state: nothing to recover
            self.recovery.clear()

    def update_title(self, *_args) -> None:
        name = self.doc.name if self.doc else ""
        star = "*" if self.doc and self.doc.is_modified() else ""
        self.setWindowTitle(f"{name}{star} — NetCanvas")

    def update_status(self) -> None:
        an = self.doc.analyzer
        t = an.totals()
        self.totals_label.setText(humanize.status_totals(t))
        frozen = t.get("frozen_params", 0)
        apart = f" ({t['params'] - frozen:,} trainable, {frozen:,} frozen)" if frozen else ""
        self.totals_label.setToolTip(f"{t['params']:,} parameters{apart}, {t['flops']:,} FLOPs "
                                     f"per sample, {t['size_bytes']:,} bytes of float32 weights")
        errors, warnings = problem_counts(an.problems())
        self.problems_label.setText(f"{errors} error{'s' * (errors != 1)}, "
                                    f"{warnings} warning{'s' * (warnings != 1)}")
        self.problems_label.setStyleSheet("color: #d22;" if errors else "")
        self.palette.set_units(self.doc.graph.units)
        self.update_title()

    def _selection_changed(self) -> None:
        ids = self.scene.selected_node_ids()
        self.inspector.show_node(ids[0] if len(ids) == 1 else None)
        self.train.selection_changed()

    def reveal_node(self, node_id: str) -> None:
        """Select a node and centre the view on it (from the Problems panel)."""
        if self.doc.levels and node_id not in self.scene.nodes:
            self.doc.leave_to(0)  # the panel lists the project's network
        node_id = self.units.open_dotted(node_id)  # a block inside an instance: open its unit
        item = self.scene.nodes.get(node_id)
        if item is None:
            return
        self.scene.select_nodes([node_id])
        self.view.center_on_node(item)

    def add_block_at_center(self, type_name: str) -> str | None:
        return placement.add_from_palette(self, type_name)

    # ------------------------------------------------------------ view actions
    def view_zoom_in(self) -> None:
        self.view.zoom(1.25)

    def view_zoom_out(self) -> None:
        self.view.zoom(0.8)

    def view_fit(self) -> None:
        self.view.fit_all()

    def view_zoom_selection(self) -> None:
        if not self.view.zoom_to_selection():
            self.feedback.status("Select blocks to zoom to", 4000)

    def _block_double_clicked(self, node_id: str) -> None:
        """A unit instance opens its unit; any other block puts the cursor in
        its first setting in the inspector (shown if it was hidden)."""
        if self.units.open_instance(node_id):
            return
        dock = self.docks["inspector"]
        dock.show()
        dock.raise_()
        self.inspector.focus_first(node_id)

    def _block_choices(self) -> list[tuple[str, str, str]]:
        """The palette's entries (units included) for the canvas's Add Block Here."""
        return [(t, item.text(0), item.parent().text(0)) for t, item in self.palette.items.items()]

    def show_in_code(self, node_id: str) -> None:
        """A block's context menu → Show in Code: the Code panel, at its line."""
        dock = self.docks["code"]
        dock.show()
        dock.raise_()
        if not reveal_in_code(self.code, self.doc, node_id):
            self.feedback.status("The code does not show this block (fix the network's "
                                 "errors, or the block makes no code of its own)", 6000)

    def view_toggle_minimap(self) -> None:
        self.view.minimap.set_enabled(self.actions["minimap"].isChecked())

    def edit_find(self) -> None:
        self.view.open_find()

    def view_layout(self) -> None:
        self.scene.auto_layout(self.layout_view())
        self.view.fit_all()

    def view_toggle_direction(self) -> None:
        placement.toggle_direction(self)

    def view_toggle_auto_connect(self) -> None:
        placement.set_auto_connect(self.actions["auto_connect"].isChecked())

    # ------------------------------------------------------------ closing
    def _autosave_state(self):
        return self.doc.project, self.doc.is_modified(), self.doc.path

    def closeEvent(self, event) -> None:
        if not self.files.maybe_save():
            event.ignore()
            return
        self.recovery.shutdown()
        self.train.shutdown()
        if self.scene is not None:
            self.view.setScene(None)
            self.scene.close()
        event.accept()
