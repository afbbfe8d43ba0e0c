"""The diagnosis in plain words: a list of findings with severity and advice.

Findings come from :mod:`runtime.diagnose` (objects with ``kind``,
``message``, ``suggestion`` and optionally ``node`` and ``severity``) or as
dicts with the same keys; the panel only displays them.  Everything shown is
HTML-escaped: node names are user text.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTextBrowser

from gui.training import theme

SEVERITIES = ("error", "warning", "info")
#: Severity for findings that do not carry one: these stop training or make it useless.
_ERROR_KINDS = {"nonfinite", "nan_loss", "exploding_gradients", "out_of_memory", "exception"}
_ICONS = {"error": "⛔", "warning": "⚠", "info": "ℹ"}
_COLORS = {"error": theme.SERIES[2], "warning": theme.SERIES[1], "info": theme.SERIES[0]}


def _field(finding, name: str):
    if isinstance(finding, dict):
        return finding.get(name)
    return getattr(finding, name, None)


def severity_of(finding) -> str:
    """The finding's severity, or one derived from its kind."""
    sev = _field(finding, "severity")
    if sev in SEVERITIES:
        return sev
    return "error" if _field(finding, "kind") in _ERROR_KINDS else "warning"


def finding_text(finding) -> str:
    """One finding as a plain sentence (used for copying and tests)."""
    node = _field(finding, "node")
    where = f'"{node}": ' if node else ""
    message = _field(finding, "message") or ""
    suggestion = _field(finding, "suggestion")
    return f"{where}{message}" + (f" — {suggestion}" if suggestion else "")


class DiagnosisPanel(QTextBrowser):
    """Read-only list of findings, the most severe first."""

    EMPTY = "No problems found in the curves so far."

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.findings: list = []
        self.set_findings([])

    def set_findings(self, findings) -> None:
        """Show these findings (replacing the previous ones)."""
        order = {s: i for i, s in enumerate(SEVERITIES)}
        self.findings = sorted(findings, key=lambda f: order[severity_of(f)])
        if not self.findings:
            self.setHtml(f"<p>{html.escape(self.EMPTY)}</p>")
            return
        text = self.palette().color(self.foregroundRole())
        rows = []
        for f in self.findings:
            sev = severity_of(f)
            color = QColor(_COLORS[sev]).name()
            node = _field(f, "node")
            where = f"<b>{html.escape(str(node))}</b>: " if node else ""
            msg = html.escape(str(_field(f, "message") or ""))
            tip = _field(f, "suggestion")
            advice = (f"<br><span style='color:{text.name()}'>→ {html.escape(str(tip))}</span>"
                      if tip else "")
            rows.append(f"<p style='margin:2px 0 6px 0'><span style='color:{color}'>"
                        f"{_ICONS[sev]} {sev}</span> {where}{msg}{advice}</p>")
        self.setHtml("".join(rows))

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "findings"):
            self.set_findings(self.findings)

    def plain_text(self) -> str:
        return "\n".join(f"{severity_of(f)}: {finding_text(f)}" for f in self.findings)
