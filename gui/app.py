"""Application start-up: ``run_app(path)`` for ``main.py``.

Start-up budget (architecture rule 7): only PySide6 and ``graph/`` are
imported before the main window is painted.  The code panel imports the code
generator from a timer after the first paint; torch is never needed to show
the editor.  The theme follows the system colour scheme (light or dark,
Qt 6's ``styleHints().colorScheme()``), and Qt 6 scales for high-DPI screens
by itself (fractional factors passed through, so 150 % looks right).

An exception that reaches the top of the event loop (a slot, a Qt virtual
method, a plain thread) is never lost on a terminal nobody reads:
:func:`install_excepthook` logs it (``logging``, to ``netcanvas.log`` in the
application data folder) and shows it in the window, a status-bar line and a
non-modal notice with the traceback, and the window keeps running.
"""

from __future__ import annotations

import gc
import logging
import logging.handlers
import os
import sys
import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox, QProxyStyle, QStyle, QStyleFactory

from .collector import SafeCollector

EXAMPLE = Path(__file__).resolve().parents[1] / "resources" / "templates" / "lenet_digits.json"
LOG = logging.getLogger("netcanvas")
LOG_FILE = "netcanvas.log"


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
    from graph.project import Project, ProjectLoadError, load_project

    from .main_window import MainWindow

    app = QApplication.instance()
    dark = apply_theme(app)
    window = MainWindow(dark=dark)
    follow_theme(app, window)
    window.show()  # first, so the network is laid out for the real canvas size
    if path:
        window.files.open_path(path)  # also removes temporary files a killed save left there
    else:
        try:
            from .document import Document
            window.set_document(Document(load_project(EXAMPLE), None), fresh_layout=True)
        except (ProjectLoadError, OSError) as exc:
            window.set_document(Document(Project.new()))
            window.feedback.status(f"The example network is not available: {exc}", 10000)
    app.aboutToQuit.connect(window.recovery.shutdown)
    QTimer.singleShot(0, window.view.show_network)
    # the window's own objects live as long as it does: no full collection
    # should walk them again (a pause while dragging or training)
    QTimer.singleShot(0, gc.freeze)
    QTimer.singleShot(0, window.files.offer_recovery)
    return window


# ---------------------------------------------------------------------- errors
class ErrorReporter(QObject):
    """Logs an unhandled exception and shows it in the window (see the module docstring).

    Install with :func:`install_excepthook`.  :meth:`excepthook` may run on any
    thread; the window is updated on its own thread through :attr:`reported`.
    One notice serves every error: a second one updates it rather than
    stacking boxes (an exception in a paint handler repeats on every paint).

    Args:
        window: the main window (its status bar and the notice's parent).
        log_file: where the log goes, named in the notice (None: not to a file).
    """

    reported = Signal(str, str)  # one line, the traceback

    def __init__(self, window, log_file: Path | None = None):
        super().__init__(window)
        self.window = window
        self.log_file = log_file
        self.count = 0
        self.notice: QMessageBox | None = None
        self.reported.connect(self._show)

    def excepthook(self, exc_type, exc, tb) -> None:
        """``sys.excepthook``: log, then show (never raises)."""
        if issubclass(exc_type, KeyboardInterrupt):  # Ctrl+C in the terminal still quits
            sys.__excepthook__(exc_type, exc, tb)
            return
        LOG.error("Unhandled exception", exc_info=(exc_type, exc, tb))
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        summary = f"{exc_type.__name__}: {exc}" if str(exc) else exc_type.__name__
        try:
            self.reported.emit(summary, text)
        except RuntimeError:  # the window is gone (an error while quitting): logged
            pass

    def thread_excepthook(self, args) -> None:
        """``threading.excepthook``: the same for a plain thread."""
        if args.exc_type is SystemExit:
            return
        self.excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    def _show(self, summary: str, details: str) -> None:
        self.count += 1
        self.window.statusBar().showMessage(
            f"Internal error: {summary} (the action did not finish; your work is kept)", 20000)
        more = f"{self.count} internal errors so far; the latest:\n\n" if self.count > 1 else ""
        where = (f" The details are also in {self.log_file}." if self.log_file else "")
        if self.notice is None:
            box = QMessageBox(QMessageBox.Icon.Warning, "NetCanvas: internal error", "",
                              QMessageBox.StandardButton.Close, self.window)
            # non-modal: the window stays usable, and nothing waits for an answer
            box.setWindowModality(Qt.WindowModality.NonModal)
            box.setModal(False)
            box.finished.connect(self._closed)
            self.notice = box
        self.notice.setText(f"{more}{summary}")
        self.notice.setInformativeText(
            "What you just did was not completed, and NetCanvas keeps running. Your network "
            "is as it was; save it under a new name if in doubt, and please report this "
            f"error with its details.{where}")
        self.notice.setDetailedText(details)
        self.notice.show()

    def _closed(self, _result: int) -> None:
        self.notice = None


def install_excepthook(window, log_file: Path | None = None) -> ErrorReporter:
    """Route unhandled exceptions (Qt slots, virtual methods, threads) to ``window``.

    Returns:
        The reporter (kept alive by the window).
    """
    reporter = ErrorReporter(window, log_file)
    window.error_reporter = reporter
    sys.excepthook = reporter.excepthook
    threading.excepthook = reporter.thread_excepthook
    return reporter


def setup_logging() -> Path | None:
    """Log warnings and errors to stderr and to ``netcanvas.log`` in the data folder.

    Returns:
        The log file, or None where it cannot be written (stderr only then).
    """
    from .recovery import data_dir

    LOG.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    err = logging.StreamHandler()
    err.setLevel(logging.WARNING)
    err.setFormatter(fmt)
    LOG.addHandler(err)
    try:
        path = data_dir() / LOG_FILE
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=1,
                                                       encoding="utf-8", delay=True)
    except OSError:
        return None
    handler.setFormatter(fmt)
    LOG.addHandler(handler)
    return path


def run_app(path: str | None = None) -> int:
    """Run the editor; returns the process exit code."""
    app = make_app()
    log_file = setup_logging()
    window = open_window(path)
    install_excepthook(window, log_file)
    # cycles are collected between events, never inside a Qt call (gui/collector.py)
    SafeCollector(app).start()
    if os.environ.get("NETCANVAS_STARTUP_PROBE"):  # bench/startup.py: report the first paint
        def probe() -> None:
            print(f"netcanvas-shown torch={'torch' in sys.modules} "
                  f"codegen={'codegen' in sys.modules} "
                  f"auto-gc={'on' if gc.isenabled() else 'off'}", flush=True)
            window.doc.undo.setClean()
            app.quit()
        QTimer.singleShot(0, probe)
    elif os.environ.get("NETCANVAS_QUIT_AFTER_SHOW"):  # smoke test
        QTimer.singleShot(int(os.environ["NETCANVAS_QUIT_AFTER_SHOW"]), app.quit)
    return app.exec()
