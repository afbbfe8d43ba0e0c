"""A live, read-only view of the generated PyTorch code, syntax highlighted.

Code generation is imported lazily (after the first paint) and re-run at most
every ~200 ms after edits; an invalid graph shows its errors instead.
"""

from __future__ import annotations

import keyword
import re

from PySide6.QtCore import QRegularExpression, QTimer
from PySide6.QtGui import QColor, QFont, QFontDatabase, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import QPlainTextEdit

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
        self.timer.timeout.connect(self.regenerate)
        self.doc = None
        self.setPlainText("# loading the code generator…")

    def set_dark(self, dark: bool) -> None:
        """Switch the syntax colours (the theme changed)."""
        self.highlighter.setDocument(None)
        self.highlighter.deleteLater()
        self.highlighter = PythonHighlighter(self.document(), dark)

    def set_document(self, doc) -> None:
        if self.doc is not None:
            try:
                self.doc.analysed.disconnect(self.schedule)
            except (RuntimeError, TypeError):
                pass
        self.doc = doc
        doc.analysed.connect(self.schedule)
        self.schedule()

    def schedule(self) -> None:
        self.timer.start()

    def regenerate(self) -> None:
        """Generate now (the debounce timer calls this)."""
        if self.doc is None:
            return
        from codegen import CodegenError, generate  # lazy: not needed for the first paint

        errors = self.doc.analyzer.model_errors()  # the training settings' are not the code's
        if errors:
            lines = [f"# The network has {len(errors)} error(s); fix them to see its code:", "#"]
            lines += [f"# - {p.message}" for p in errors[:20]]
            text = "\n".join(lines)
        else:
            try:
                text = generate(self.doc.graph, self.doc.name, self.doc.project.training).source
            except CodegenError as exc:
                text = "\n".join("# " + line for line in str(exc).splitlines())
        wrap = QPlainTextEdit.LineWrapMode
        self.setLineWrapMode(wrap.WidgetWidth if errors else wrap.NoWrap)
        if text != self.toPlainText():
            bar = self.verticalScrollBar().value()
            self.setPlainText(text)
            self.verticalScrollBar().setValue(bar)
