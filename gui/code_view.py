"""A live, read-only view of the generated PyTorch code, syntax highlighted.

Code generation is imported lazily (after the first paint) and re-run at most
every ~200 ms after the document's analysis changed, from that analysis (the
network is not analysed again); an invalid graph shows its errors instead.
A document just bound is generated only once the event loop has run again
(its canvas painted first: generating a 5,000-node network takes a second),
and a hidden panel generates when it is shown, not on every edit.
"""

from __future__ import annotations

import keyword
import re

from PySide6.QtCore import QRegularExpression, QTimer
from PySide6.QtGui import QColor, QFont, QFontDatabase, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import QPlainTextEdit

from .binding import DocumentBinding

DEBOUNCE_MS = 200


def _fmt(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    f = QTextCharFormat()
    f.setForeground(QColor(color))
    if bold:
        f.setFontWeight(QFont.Weight.Bold)
    f.setFontItalic(italic)
    return f


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, builtins, numbers, strings (incl. triple-quoted) and comments."""

    def __init__(self, document, dark: bool = False):
        super().__init__(document)
        kw = _fmt("#c678dd" if dark else "#0033b3", bold=True)
        # (pattern, format, group): only that group of a match is coloured
        rules = [(r"\b(" + "|".join(keyword.kwlist) + r")\b", kw, 0),
                 (r"\b(self|super|len|range|tuple|list|dict|int|float)\b",
                  _fmt("#e5c07b" if dark else "#871094"), 0),
                 (r"\b[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?\b", _fmt("#d19a66" if dark else "#1750eb"), 0),
                 (r"\b(?:def|class)\s+(\w+)", _fmt("#61afef" if dark else "#00627a", bold=True), 1),
                 (r"\"[^\"\n]*\"|'[^'\n]*'", _fmt("#98c379" if dark else "#067d17"), 0),
                 (r"#[^\n]*", _fmt("#7f848e" if dark else "#8c8c8c", italic=True), 0)]
        self.rules = [(QRegularExpression(p), f, g) for p, f, g in rules]
        self.doc_fmt = _fmt("#98c379" if dark else "#067d17", italic=True)

    def highlightBlock(self, text: str) -> None:
        for rx, fmt, group in self.rules:
            it = rx.globalMatch(text)
            while it.hasNext():
                m = it.next()
                self.setFormat(m.capturedStart(group), m.capturedLength(group), fmt)
        # triple-quoted strings across lines
        self.setCurrentBlockState(0)
        start = 0 if self.previousBlockState() == 1 else -1
        pos = 0
        while True:
            if start < 0:
                m = re.search(r'"""', text[pos:])
                if not m:
                    break
                start = pos + m.start()
                pos = start + 3
            m = re.search(r'"""', text[pos:])
            if m:
                end = pos + m.end()
                self.setFormat(start, end - start, self.doc_fmt)
                start, pos = -1, end
            else:
                self.setFormat(start, len(text) - start, self.doc_fmt)
                self.setCurrentBlockState(1)
                break


class CodeView(QPlainTextEdit):
    """Read-only generated code of a document, refreshed after edits."""

    def __init__(self, dark: bool = False, parent=None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.highlighter = PythonHighlighter(self.document(), dark)
        self.timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self.timer.timeout.connect(self._due)
        self.doc = None
        self._opening = False  # a document was just bound: wait for the event loop
        self._stale = False  # the shown code is older than the document (panel hidden)
        self._binds = 0  # documents bound so far (a wait for an older one's paint is void)
        self.binding = DocumentBinding(analysed=self.schedule)
        self.setPlainText("# loading the code generator…")

    def set_dark(self, dark: bool) -> None:
        """Switch the syntax colours (the theme changed)."""
        self.highlighter.setDocument(None)
        self.highlighter.deleteLater()
        self.highlighter = PythonHighlighter(self.document(), dark)

    def bind(self, doc) -> None:
        """Show the code of ``doc`` (see :mod:`gui.binding`)."""
        self.doc = self.binding.bind(doc)
        self.timer.stop()
        # the debounce starts once the window has painted the new canvas: the
        # analysis announced while the document opens must not start it sooner
        self._opening = True
        self._binds += 1
        binds = self._binds
        QTimer.singleShot(0, self, lambda: self._painted(binds))

    def _painted(self, binds: int) -> None:
        # the first pass of the event loop painted the window (its update was
        # asked for before this call was posted); the next one starts the debounce
        QTimer.singleShot(0, self, lambda: self._opened(binds))

    def _opened(self, binds: int) -> None:
        if binds != self._binds:
            return  # a document bound since waits for its own paint
        self._opening = False
        self.schedule()

    def schedule(self) -> None:
        """Regenerate after the debounce (not while a document is opening)."""
        self._stale = True
        if not self._opening:
            self.timer.start()

    def pending(self) -> bool:
        """Whether the shown code may be older than the document."""
        return self._stale or self._opening or self.timer.isActive()

    def _due(self) -> None:
        if not self.isVisible():
            return  # stays stale: showEvent regenerates
        self.regenerate()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale and not self._opening and not self.timer.isActive():
            self.timer.start()

    def regenerate(self) -> None:
        """Generate now (the debounce timer calls this)."""
        if self.doc is None:
            return
        self._stale = False
        from codegen import CodegenError, generate  # lazy: not needed for the first paint

        # incremental: nothing left to do unless the graph changed after ``analysed``
        an = self.doc.analyzer.refresh()
        errors = an.model_errors()  # the training settings' are not the code's
        if errors:
            lines = [f"# The network has {len(errors)} error(s); fix them to see its code:", "#"]
            lines += [f"# - {p.message}" for p in errors[:20]]
            text = "\n".join(lines)
        else:
            try:
                # the document's analysis, not a second one of the whole network
                text = generate(self.doc.graph, self.doc.name, self.doc.project.training,
                                analyzer=an).source
            except CodegenError as exc:
                text = "\n".join("# " + line for line in str(exc).splitlines())
        wrap = QPlainTextEdit.LineWrapMode
        self.setLineWrapMode(wrap.WidgetWidth if errors else wrap.NoWrap)
        if text != self.toPlainText():
            bar = self.verticalScrollBar().value()
            self.setPlainText(text)
            self.verticalScrollBar().setValue(bar)
