"""The diagnosis in plain words: a list of findings with severity and advice.

Findings come from :mod:`runtime.diagnose` (objects with ``kind``,
``message``, ``suggestion`` and optionally ``node`` and ``severity``) or as
dicts with the same keys; the panel only displays them.  Everything shown is
HTML-escaped: node names are user text.

A sequence-to-sequence run's greedy decodes sit beside the findings, as a
small monospace table (input, target, prediction; a wrong token in red), so
that the panel grows by the table's few lines rather than by a list under
the findings; :attr:`DiagnosisPanel.content_changed` lets the view fit the
panel's height to them (:meth:`DiagnosisPanel.content_height`).
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTextBrowser

from gui.training import theme

SEVERITIES = ("error", "warning", "info")
#: Severity for findings that do not carry one: these stop training or make it useless.
_ERROR_KINDS = {"nonfinite", "nan_loss", "exploding_gradients", "out_of_memory", "exception"}
_ICONS = {"error": "⛔", "warning": "⚠", "info": "ℹ"}
_COLORS = {"error": theme.SERIES[2], "warning": theme.SERIES[1], "info": theme.SERIES[0]}


def _names(ids, names) -> list[str]:
    """Token ids as texts: their class names where the run has names for all."""
    ids = list(ids)
    if names and all(isinstance(i, int) and 0 <= i < len(names) for i in ids):
        return [str(names[i]) for i in ids]
    return [str(i) for i in ids]


def _tokens(ids, names) -> str:
    """Token ids as text: each one's class name where the run has names for all."""
    return " ".join(_names(ids, names))


def sample_table_html(samples, class_names, good: str, bad: str) -> str:
    """Greedy decodes as a monospace table with a header: input, target and
    prediction in aligned columns, each wrong predicted token and the mark
    of a wrong sample in ``bad``, a right sample's mark in ``good``."""
    rows = []
    for s in samples or ():
        target = list(s.get("target", ()))
        pred = list(s.get("prediction", ()))
        rows.append((" ".join(_names(s.get("input", ()), class_names)),
                     " ".join(_names(target, class_names)),
                     [(t, i >= len(target) or pred[i] != target[i])
                      for i, t in enumerate(_names(pred, class_names))],
                     bool(s.get("correct"))))
    w_in = max([len("input")] + [len(r[0]) for r in rows])
    w_tgt = max([len("target")] + [len(r[1]) for r in rows])
    lines = [html.escape(f"{'input'.ljust(w_in)}  {'target'.ljust(w_tgt)}  predicted")]
    for inp, tgt, pred, right in rows:
        tokens = " ".join(f"<span style='color:{bad}'>{html.escape(t)}</span>" if wrong
                          else html.escape(t) for t, wrong in pred)
        mark = f"<span style='color:{good}'>✓</span>" if right else \
            f"<span style='color:{bad}'>✗</span>"
        lines.append(f"{html.escape(inp.ljust(w_in))}  {html.escape(tgt.ljust(w_tgt))}  "
                     f"{tokens} {mark}")
    return "<pre style='margin:0; font-family:monospace'>" + "<br>".join(lines) + "</pre>"


def sample_lines(samples, class_names=None) -> list[str]:
    """Greedy decodes as lines: ``7 3 9 → target 9 3 7 → predicted 9 3 7 ✓``.

    Args:
        samples: dicts with ``input``, ``target``, ``prediction`` (token ids)
            and ``correct``, as :func:`runtime.decode.decode_samples` gives.
        class_names: the target classes' names (token id → its text), or None.
    """
    return [f"{_tokens(s.get('input', ()), class_names)} → target "
            f"{_tokens(s.get('target', ()), class_names)} → predicted "
            f"{_tokens(s.get('prediction', ()), class_names)} "
            f"{'✓' if s.get('correct') else '✗'}" for s in samples or ()]


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
    """Read-only list of findings, the most severe first.

    Signals:
        content_changed: what the panel shows changed (its height to fit may too).
    """

    content_changed = Signal()

    #: Before any run: what is checked, and when.
    EMPTY = ("The curves are checked after each epoch: under- and over-fitting, vanishing "
             "or exploding gradients, dead units, a learning rate that is too high.")
    #: A run has started; no epoch has ended yet.
    WAITING = "Checked after each epoch: nothing to say before the first one ends."

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.findings: list = []
        self.header = ""
        #: A seq2seq run's greedy decodes after the last epoch (lines), or [].
        self.samples: list[str] = []
        self.samples_header = ""
        self._samples_data: list = []
        self._class_names = None
        self.empty_text = self.EMPTY
        self.set_findings([])

    def waiting(self) -> None:
        """A run started: nothing is checked until its first epoch ends."""
        self.samples, self.samples_header = [], ""
        self.set_findings([], empty=self.WAITING)

    def set_samples(self, samples, epoch: int = 0, class_names=None) -> None:
        """Show a sequence-to-sequence run's greedy decodes after ``epoch`` below
        the findings (None or []: no samples section).

        Args:
            samples: dicts with ``input``, ``target``, ``prediction`` and ``correct``.
            epoch: the epoch they were decoded after.
            class_names: the target's class names, to show tokens by name.
        """
        self.samples = sample_lines(samples, class_names)
        self._samples_data, self._class_names = list(samples or ()), class_names
        right = sum(1 for s in samples or () if s.get("correct"))
        self.samples_header = (f"Samples after epoch {epoch} (greedy decoding, "
                               f"{right}/{len(self.samples)} right):") if self.samples else ""
        self.set_findings(self.findings, self.header, self.empty_text)

    def set_epoch_findings(self, findings, epoch: int, final: bool = False) -> None:
        """The findings after ``epoch`` (``final``: the run has ended)."""
        if final:
            when = "at the end of the run" + (f" (epoch {epoch})" if epoch else "")
        else:
            when = f"after epoch {epoch}"
        self.set_findings(findings, header=f"Diagnosis {when}:",
                          empty=f"No problems found in the curves {when}.")

    def set_findings(self, findings, header: str = "", empty: str | None = None) -> None:
        """Show these findings (replacing the previous ones).

        Args:
            findings: finding objects or dicts.
            header: a line above them (e.g. which epoch they are from).
            empty: what to say when there are none (default :attr:`EMPTY`).
        """
        order = {s: i for i, s in enumerate(SEVERITIES)}
        self.findings = sorted(findings, key=lambda f: order[severity_of(f)])
        self.header = header
        self.empty_text = self.EMPTY if empty is None else empty
        if not self.findings:
            self._show(f"<p>{html.escape(self.empty_text)}</p>")
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
        top = f"<p style='margin:2px 0 4px 0'><i>{html.escape(self.header)}</i></p>" \
            if self.header else ""
        self._show(top + "".join(rows))

    def _show(self, findings: str) -> None:
        """The findings' HTML, with the samples' table beside them where there are samples."""
        if self.samples:
            # the samples' column as narrow as its lines (1%), the findings wrap in the rest
            findings = ("<table width='100%' cellspacing='0' cellpadding='0'><tr>"
                        f"<td valign='top'>{findings}</td>"
                        "<td valign='top' width='1%' style='padding-left:12px'>"
                        f"{self._samples_html()}</td></tr></table>")
        self.setHtml(findings)
        self.content_changed.emit()

    def _samples_html(self) -> str:
        good, bad = QColor(theme.SERIES[0]).name(), QColor(theme.SERIES[2]).name()
        return (f"<p style='margin:2px 0 2px 0'><i>{html.escape(self.samples_header)}</i></p>"
                + sample_table_html(self._samples_data, self._class_names, good, bad))

    def content_height(self) -> int:
        """The height that shows everything without scrolling, at the panel's width."""
        doc = self.document()
        doc.setTextWidth(self.viewport().width())
        return int(doc.size().height()) + 2 * self.frameWidth() + 2

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "findings"):
            self.set_findings(self.findings, self.header, self.empty_text)

    def plain_text(self) -> str:
        """What the panel says, as plain lines (the empty text when there are no findings)."""
        extra = [self.samples_header, *self.samples] if self.samples else []
        if not self.findings:
            return "\n".join([self.empty_text, *extra])
        lines = [self.header] if self.header else []
        return "\n".join(lines + [f"{severity_of(f)}: {finding_text(f)}" for f in self.findings]
                         + extra)
