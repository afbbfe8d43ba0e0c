"""The dialog that says what loading pretrained weights did: which tensors
loaded, which did not and why (missing in the file, shape mismatch with both
shapes), and what the file holds that the network does not use.

It shows a :class:`runtime.weight_transfer.TransferReport` (made by the
runtime, as the command line's report is): one tree, a group per outcome.
"""

from __future__ import annotations

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout)


class WeightsReportDialog(QDialog):
    """What a weights file gave the network.

    Args:
        report: the transfer's report.
        parent: the window.

    Attributes:
        tree: one top-level item per group (``Loaded (n)``, ``Not loaded (n)``,
            ``In the file, unused (n)``), one child per tensor (key, reason).
    """

    def __init__(self, report, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Pretrained weights")
        self.resize(640, 420)
        lay = QVBoxLayout(self)
        self.summary = QLabel(report.summary()[0].upper() + report.summary()[1:] + ".")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Tensor", "Why"])
        self.tree.setColumnWidth(0, 280)
        groups = [
            ("Loaded", [(k, s) for k, s in report.loaded]),
            ("Not loaded (kept their initialisation)",
             [(k, f"shape mismatch: the network has {a}, the file {b}")
              for k, a, b in report.mismatched]
             + [(k, "missing in the file") for k in report.missing]),
            ("In the file, unused", [(k, "unexpected key: the network has no such tensor")
                                     for k in report.unexpected]),
        ]
        for title, rows in groups:
            if not rows:
                continue
            top = QTreeWidgetItem([f"{title} ({len(rows)})", ""])
            for key, why in rows:
                top.addChild(QTreeWidgetItem([key, why]))
            self.tree.addTopLevelItem(top)
            # the surprises open; a long list of what loaded stays folded
            top.setExpanded(title != "Loaded" or len(rows) <= 12)
        lay.addWidget(self.tree, 1)
        note = QLabel("The next Start trains from these weights; frozen blocks keep them.")
        note.setWordWrap(True)
        lay.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        lay.addWidget(buttons)

    def rows(self) -> dict[str, list[tuple[str, str]]]:
        """Group title → its (tensor, why) rows, as shown (for a reader or a test)."""
        out = {}
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            out[top.text(0)] = [(top.child(j).text(0), top.child(j).text(1))
                                for j in range(top.childCount())]
        return out
