"""File handling of the main window: new, open, save, save as, recent files,
asking before unsaved changes are lost, and restoring an autosave.

:class:`FileController` works on the document it is bound to and hands a
document it opened to the ``open_document`` callable it was given (the
window shows it and binds every panel, this controller included).

Save As under a new file name names the project after the file (the window
title and the class of exported code follow the project's name): an
untitled project at once, a named one when the user agrees.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from graph.fileio import FileSaveError, cleanup_stale_temps
from graph.project import Project, ProjectLoadError, ProjectSaveError, load_project, save_project

from .document import Document
from .feedback import Feedback
from .recovery import Recovery, data_dir

FILTER = "NetCanvas projects (*.json);;All files (*)"
MAX_RECENT = 8
#: The name of a project nobody named yet (``Project.new``'s default).
UNTITLED = Project.new().name
Btn = QMessageBox.StandardButton


def _loosely(name: str) -> str:
    """A name as a file name may spell it: case, spaces, ``_`` and ``-`` aside."""
    return re.sub(r"[\s_-]+", "", name).casefold()


def settings() -> QSettings:
    return QSettings(str(data_dir() / "settings.ini"), QSettings.Format.IniFormat)


class FileController:
    """New, Open, Save, Save As, Open Recent, Import and the autosave offer.

    Args:
        parent: the window dialogs belong to.
        feedback: where messages go.
        recovery: the autosave of the open document.
        open_document: shows a document in place of the open one;
            ``open_document(doc, fresh_layout)`` (see
            :meth:`gui.main_window.MainWindow.set_document`).
        recent_menu: the File → Open Recent menu (filled by this controller).
        dark: the template gallery's colours.
    """

    def __init__(self, parent: QWidget, feedback: Feedback, recovery: Recovery,
                 open_document: Callable[..., None], recent_menu: QMenu, dark: bool = False):
        self.parent = parent
        self.feedback = feedback
        self.recovery = recovery
        self.open_document = open_document
        self.recent_menu = recent_menu
        self.dark = dark
        self.doc: Document | None = None
        self.template_dialog = self.import_dialog = None
        self._importer = None
        self._import_source = ""
        self.update_recent_menu()

    def bind(self, doc: Document) -> None:
        """Work on ``doc`` (nothing to listen to: every action reads it when taken)."""
        self.doc = doc

    # ------------------------------------------------------------ asking
    def ask_save(self) -> Btn:
        """Ask what to do with unsaved changes: Save, Discard or Cancel."""
        return QMessageBox.question(
            self.parent, "Unsaved changes",
            f"“{self.doc.name}” has unsaved changes. Save them before closing?",
            Btn.Save | Btn.Discard | Btn.Cancel, Btn.Save)

    def maybe_save(self) -> bool:
        """True if the current document may be closed."""
        if not self.doc.is_modified():
            return True
        answer = self.ask_save()
        if answer == Btn.Save:
            return self.file_save()
        return answer == Btn.Discard

    # ------------------------------------------------------------ actions
    def file_new(self) -> None:
        if self.maybe_save():
            self.open_document(Document(Project.new()))

    def file_new_from_template(self):
        """Show the template gallery; the chosen template opens as a new document."""
        from .templates import TemplateGallery

        dialog = TemplateGallery(self.parent, dark=self.dark)
        dialog.setModal(True)
        dialog.chosen.connect(self.new_from_template)
        dialog.finished.connect(dialog.deleteLater)
        self.template_dialog = dialog
        dialog.open()
        return dialog

    def file_import_model(self):
        """File → Import PyTorch Model: the dialog, then the import off the window's thread."""
        from .import_dialog import ImportDialog

        dialog = ImportDialog(self.parent, self.last_dir())
        dialog.setModal(True)
        dialog.requested.connect(self.import_model)
        dialog.finished.connect(dialog.deleteLater)
        self.import_dialog = dialog
        dialog.open()
        return dialog

    def import_model(self, path: str, class_name=None, shapes=None, dtypes=None) -> None:
        """Import a model file; the result arrives in :meth:`_model_imported`."""
        from .import_dialog import ModelImporter

        if self._importer is not None:
            self.feedback.status("An import is already running…", 4000)
            return
        self._importer = ModelImporter(self.parent)
        self._importer.done.connect(self._model_imported)
        self._import_source = path
        self.feedback.status(f"Importing {Path(path).name} (loading PyTorch, tracing)…")
        self.parent.setCursor(Qt.CursorShape.BusyCursor)
        self._importer.start(path, class_name, shapes, dtypes)

    def _model_imported(self, project, error: str) -> None:
        importer, self._importer = self._importer, None
        if importer is not None:
            importer.deleteLater()
        self.parent.unsetCursor()
        self.feedback.clear_status()
        source = self._import_source
        if project is None:
            self.feedback.show_error("Cannot import the model", f"{source}:\n{error}")
            return
        if not self.maybe_save():
            return
        self.open_document(Document(project), fresh_layout=True)
        self.doc.undo.resetClean()  # work not saved anywhere yet: closing asks, autosave keeps it
        self.feedback.status(
            f"Imported {project.name} from {Path(source).name}: {len(project.graph)} blocks "
            "(not saved yet)", 8000)

    def new_from_template(self, path: str) -> bool:
        """Open a copy of a template as an untitled document (the file stays untouched)."""
        from .templates import open_template

        if not self.maybe_save():
            return False
        try:
            project = open_template(path)
        except ProjectLoadError as exc:
            self.feedback.show_error("Cannot open template", f"{path}:\n{exc}")
            return False
        except OSError as exc:
            self.feedback.show_error("Cannot open template", f"{path}:\n{exc.strerror or exc}")
            return False
        self.open_document(Document(project, None), fresh_layout=True)
        return True

    def file_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open project", self.last_dir(),
                                              FILTER)
        if path and self.maybe_save():
            self.open_path(path)

    def open_path(self, path: str | os.PathLike) -> bool:
        """Open a project file; a broken file leaves the current document as it is
        (with a message).  Mistakes in the training section do not stop it: the
        network opens, and the problems are listed and marked.

        Temporary files that a save killed midway left next to it are removed
        first (from the command line, File → Open and Open Recent alike).
        """
        try:
            cleanup_stale_temps(Path(path).resolve().parent)
        except (OSError, RuntimeError, ValueError):  # a path that cannot be resolved:
            pass  # the load below says what is wrong with it
        try:
            project = load_project(path)
        except ProjectLoadError as exc:
            self.feedback.show_error("Cannot open project", f"{path}:\n{exc}")
            return False
        except OSError as exc:
            self.feedback.show_error("Cannot open project", f"{path}:\n{exc.strerror or exc}")
            return False
        doc = Document(project, str(path))
        # Analysed before the switch: whatever the file holds (a training section
        # written by hand, say) is met while the open document is still whole.
        doc.analyzer.refresh()
        self.open_document(doc)
        self.add_recent(str(path))
        return True

    def file_save(self) -> bool:
        if not self.doc.path:
            return self.file_save_as()
        return self.save_to(self.doc.path)

    def file_save_as(self) -> bool:
        start = self.doc.path or str(Path(self.last_dir()) / f"{self.doc.name}.json")
        path, _ = QFileDialog.getSaveFileName(self.parent, "Save project as", start, FILTER)
        if not path:
            return False
        old = self.doc.name
        self.name_after_file(path)
        if self.save_to(path):
            return True
        if self.doc.name != old:  # not saved: the project keeps its name too
            self.doc.set_name(old)
        return False

    def name_after_file(self, path: str | os.PathLike) -> bool:
        """Name the project after the file it is saved as (see the module docstring).

        Returns:
            Whether the project was renamed.
        """
        stem, name = Path(path).stem, self.doc.name
        if not stem or _loosely(stem) == _loosely(name):
            return False  # "LeNet on digits" saved as lenet_on_digits.json keeps its name
        if name.strip() not in ("", UNTITLED) and not self.ask_rename(name, stem):
            return False
        self.doc.set_name(stem)
        return True

    def ask_rename(self, name: str, stem: str) -> bool:
        """Ask whether to rename the project ``name`` to ``stem`` (its new file's name)."""
        return QMessageBox.question(
            self.parent, "Rename the project?",
            f"Rename the project “{name}” to “{stem}”, after its new file?\n\n"
            "The window title and the class name of exported code follow the project's name.",
            Btn.Yes | Btn.No, Btn.Yes) == Btn.Yes

    def save_to(self, path: str | os.PathLike) -> bool:
        try:
            save_project(self.doc.project, path)
        except (ProjectSaveError, FileSaveError, OSError) as exc:
            self.feedback.show_error("Cannot save project", str(exc))
            return False
        self.doc.set_path(str(path))
        self.doc.undo.setClean()
        self.recovery.clear()  # the project file is now the newest state (R4)
        self.add_recent(str(path))
        self.feedback.status(f"Saved {path}", 4000)
        return True

    # ------------------------------------------------------------ recent files
    def recent_files(self) -> list[str]:
        value = settings().value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [v for v in (value or []) if isinstance(v, str)]

    def add_recent(self, path: str) -> None:
        path = str(Path(path).resolve())
        files = [path] + [p for p in self.recent_files() if p != path]
        settings().setValue("recent", files[:MAX_RECENT])
        self.update_recent_menu()

    def update_recent_menu(self) -> None:
        menu = self.recent_menu
        for action in menu.actions():  # not clear(): the entry being triggered may be one
            menu.removeAction(action)
            action.deleteLater()
        files = self.recent_files()
        for p in files:
            menu.addAction(Path(p).name, lambda p=p: self.maybe_save() and self.open_path(p)) \
                .setToolTip(p)
        menu.setEnabled(bool(files))

    def last_dir(self) -> str:
        """Where file dialogs start: the folder of the last file opened or saved."""
        files = self.recent_files()
        return str(Path(files[0]).parent) if files else str(Path.home())

    # ------------------------------------------------------------ recovery
    def restore_recovery(self) -> bool:
        """Open the autosaved project as an unsaved document (after a crash)."""
        try:
            project = self.recovery.restore()
        except (ProjectLoadError, OSError) as exc:
            self.feedback.show_error("Cannot restore",
                                     f"The recovery file is unreadable: {exc}")
            return False
        # the document saves where it came from (None: it was never saved)
        doc = Document(project, str(project.path) if project.path else None)
        self.open_document(doc)
        # mark as modified so the user is asked to save what was recovered
        doc.undo.resetClean()
        self.recovery.resolved()
        self.recovery.autosave()  # the restored work is still only in memory
        return True

    def offer_recovery(self) -> None:
        """At start-up: offer to restore the autosave of a crashed session."""
        if self.recovery.pending() is None:
            return
        if os.environ.get("NETCANVAS_NO_AUTOSAVE_PROMPT") == "1":
            return
        answer = QMessageBox.question(
            self.parent, "Restore unsaved work?",
            "NetCanvas did not close properly last time. Restore the autosaved network?",
            Btn.Yes | Btn.No, Btn.Yes)
        if answer == Btn.Yes:
            self.restore_recovery()
        else:
            self.recovery.discard()
