"""Application start-up: ``run_app(path)`` for ``main.py``.

Start-up budget (architecture rule 7): only PySide6 and ``graph/`` are
imported before the main window is painted.  The code panel imports the code
generator from a timer after the first paint; torch is never needed to show
the editor.  The theme follows the system colour scheme (light or dark,
Qt 6's ``styleHints().colorScheme()``), and Qt 6 scales for high-DPI screens
by itself (fractional factors passed through, so 150 % looks right).
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleFactory

EXAMPLE = Path(__file__).resolve().parents[1] / "resources" / "templates" / "lenet_digits.json"


def is_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


DARK = {"base": QColor(35, 37, 41), "window": QColor(48, 50, 55), "text": QColor(225, 225, 225),
        "disabled": QColor(120, 122, 128), "outline": QColor(150, 153, 160)}


_STYLES: list = []


class _DarkStyle(QProxyStyle):
    """Fusion, with check-box and radio outlines that show on a dark window
    (Fusion draws them a shade darker than the window: invisible there)."""

    def drawPrimitive(self, element, option, painter, widget=None) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if element in (QStyle.PrimitiveElement.PE_IndicatorCheckBox,
                       QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck):
            self._outline(painter, False,
                          lambda: painter.drawRect(option.rect.adjusted(0, 0, -1, -1)))
        elif element == QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            self._outline(painter, True,
                          lambda: painter.drawEllipse(option.rect.adjusted(1, 1, -1, -1)))

    @staticmethod
    def _outline(painter, antialias: bool, draw) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, antialias)
        painter.setPen(DARK["outline"])
        painter.setBrush(Qt.BrushStyle.NoBrush)
        draw()
        painter.restore()


def dark_palette() -> QPalette:
    """The dark palette, with a Disabled group so that greyed-out actions
    (Pause and Stop while nothing trains) look greyed out."""
    p = QPalette()
    base, window, text = DARK["base"], DARK["window"], DARK["text"]
    R, G = QPalette.ColorRole, QPalette.ColorGroup
    for role, color in ((R.Window, window), (R.WindowText, text), (R.Base, base),
                        (R.AlternateBase, window), (R.Text, text), (R.Button, window),
                        (R.ButtonText, text), (R.ToolTipBase, window), (R.ToolTipText, text),
                        (R.BrightText, QColor(255, 90, 80)),
                        (R.Light, QColor(75, 78, 85)), (R.Midlight, QColor(62, 65, 71)),
                        (R.Mid, QColor(40, 42, 46)), (R.Dark, QColor(28, 29, 32)),
                        (R.Shadow, QColor(15, 15, 17)),
                        (R.Highlight, QColor(42, 130, 218)), (R.HighlightedText, QColor(255, 255, 255)),
                        (R.PlaceholderText, QColor(140, 140, 140)), (R.Link, QColor(90, 160, 240))):
        p.setColor(role, color)
    off = DARK["disabled"]
    for role in (R.WindowText, R.Text, R.ButtonText, R.PlaceholderText):
        p.setColor(G.Disabled, role, off)
    p.setColor(G.Disabled, R.Highlight, QColor(70, 74, 82))
    p.setColor(G.Disabled, R.HighlightedText, off)
    p.setColor(G.Disabled, R.Base, window)
    return p


def apply_theme(app: QApplication, dark: bool | None = None) -> bool:
    """Fusion style with a light or dark palette following the system.

    Args:
        app: the application.
        dark: force a scheme (None: follow the system).

    Returns:
        Whether the dark palette is in use.
    """
    dark = is_dark() if dark is None else dark
    if dark:
        style = _DarkStyle(QStyleFactory.create("Fusion"))
        _STYLES[:] = [style]  # held here too: a style collected under Qt would crash
        app.setStyle(style)
        app.setPalette(dark_palette())
    else:
        app.setStyle("Fusion")
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
    window.show()  # first, so the network is laid out for the real canvas size
    if path:
        window.open_path(path)
        try:
            cleanup_stale_temps(Path(path).resolve().parent)
        except OSError:
            pass
    else:
        try:
            from .document import Document
            window.set_document(Document(load_project(EXAMPLE), None), fresh_layout=True)
        except (ProjectLoadError, OSError) as exc:
            window.set_document(Document(Project.new()))
            window.statusBar().showMessage(f"The example network is not available: {exc}", 10000)
    app.aboutToQuit.connect(window.recovery.shutdown)
    QTimer.singleShot(0, window.view.show_network)
    # the window's own objects live as long as it does: no full collection
    # should walk them again (a pause while dragging or training)
    QTimer.singleShot(0, gc.freeze)
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
