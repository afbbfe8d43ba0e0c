"""Application start-up: ``run_app(path)`` for ``main.py``.

Start-up budget (architecture rule 7): only PySide6 and ``graph/`` are
imported before the main window is painted.  The code panel imports the code
generator from a timer after the first paint; torch is never needed to show
the editor.  The theme follows the system colour scheme (light or dark,
Qt 6's ``styleHints().colorScheme()``), and Qt 6 scales for high-DPI screens
by itself (fractional factors passed through, so 150 % looks right).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

EXAMPLE = Path(__file__).resolve().parents[1] / "resources" / "templates" / "lenet_digits.json"


def is_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, dark: bool | None = None) -> bool:
    """Fusion style with a light or dark palette following the system.

    Args:
        app: the application.
        dark: force a scheme (None: follow the system).

    Returns:
        Whether the dark palette is in use.
    """
    app.setStyle("Fusion")
    dark = is_dark() if dark is None else dark
    if dark:
        p = QPalette()
        base, window, text = QColor(35, 37, 41), QColor(48, 50, 55), QColor(225, 225, 225)
        R = QPalette.ColorRole
        for role, color in ((R.Window, window), (R.WindowText, text), (R.Base, base),
                            (R.AlternateBase, window), (R.Text, text), (R.Button, window),
                            (R.ButtonText, text), (R.ToolTipBase, window), (R.ToolTipText, text),
                            (R.Highlight, QColor(42, 130, 218)), (R.HighlightedText, QColor(255, 255, 255)),
                            (R.PlaceholderText, QColor(140, 140, 140)), (R.Link, QColor(90, 160, 240))):
            p.setColor(role, color)
        app.setPalette(p)
    else:
        app.setPalette(app.style().standardPalette())
    return dark


class _ThemeFollower(QObject):
    """A child of the window, so the connection ends when the window is deleted."""

    def __init__(self, app: QApplication, window):
        super().__init__(window)
        self.app, self.window = app, window

    def changed(self, _scheme) -> None:
        self.window.set_dark(apply_theme(self.app))


def follow_theme(app: QApplication, window) -> None:
    """Re-style the app and the window's canvas live when the system scheme changes."""
    follower = _ThemeFollower(app, window)
    app.styleHints().colorSchemeChanged.connect(follower.changed)


def make_app(argv: list[str] | None = None) -> QApplication:
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    QCoreApplication.setOrganizationName("NetCanvas")
    QCoreApplication.setApplicationName("NetCanvas")
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    return app


def open_window(path: str | None):
    """Create and show the main window with ``path`` or the example network."""
    from graph.fileio import cleanup_stale_temps
    from graph.project import Project, ProjectLoadError, load_project

    from .main_window import MainWindow

    app = QApplication.instance()
    dark = apply_theme(app)
    window = MainWindow(dark=dark)
    follow_theme(app, window)
    if path:
        window.open_path(path)
        try:
            cleanup_stale_temps(Path(path).resolve().parent)
        except OSError:
            pass
    else:
        try:
            from .document import Document
            window.set_document(Document(load_project(EXAMPLE), None))
        except (ProjectLoadError, OSError) as exc:
            window.set_document(Document(Project.new()))
            window.statusBar().showMessage(f"The example network is not available: {exc}", 10000)
    app.aboutToQuit.connect(window.recovery.shutdown)
    window.show()
    QTimer.singleShot(0, window.view.show_network)
    QTimer.singleShot(0, window.offer_recovery)
    return window


def run_app(path: str | None = None) -> int:
    """Run the editor; returns the process exit code."""
    app = make_app()
    window = open_window(path)  # noqa: F841  (kept alive for the event loop)
    if os.environ.get("NETCANVAS_STARTUP_PROBE"):  # bench/startup.py: report the first paint
        def probe() -> None:
            print(f"netcanvas-shown torch={'torch' in sys.modules} "
                  f"codegen={'codegen' in sys.modules}", flush=True)
            window.doc.undo.setClean()
            app.quit()
        QTimer.singleShot(0, probe)
    elif os.environ.get("NETCANVAS_QUIT_AFTER_SHOW"):  # smoke test
        QTimer.singleShot(int(os.environ["NETCANVAS_QUIT_AFTER_SHOW"]), app.quit)
    return app.exec()
