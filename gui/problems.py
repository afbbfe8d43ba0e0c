"""The Problems panel: every error and warning with its node; clicking one
selects and centres the node."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QStyle, QTreeWidget, QTreeWidgetItem

from graph.problems import ERROR

NODE_ROLE = Qt.ItemDataRole.UserRole


class ProblemsPanel(QTreeWidget):
    """Signals:
        node_clicked(str): a problem of that node was clicked."""

    node_clicked = Signal(str)

    def __init__(self, doc=None, parent=None):
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderLabels(["Node", "Problem"])
        self.setRootIsDecorated(False)
        self.setWordWrap(True)
        self.setColumnWidth(0, 150)
        self.itemClicked.connect(self._clicked)
        self.doc = None
        if doc is not None:
            self.set_document(doc)

    def set_document(self, doc) -> None:
        if self.doc is not None:
            try:
                self.doc.analysed.disconnect(self.refresh)
            except (RuntimeError, TypeError):
                pass
        self.doc = doc
        doc.analysed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        style = self.style()
        err = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical)
        warn = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        graph = self.doc.graph
        self.clear()
        for p in self.doc.analyzer.problems():
            node = graph.nodes.get(p.node) if p.node else None
            item = QTreeWidgetItem([node.name if node else "", p.message])
            item.setIcon(0, err if p.severity == ERROR else warn)
            item.setToolTip(1, p.message)
            item.setData(0, NODE_ROLE, p.node)
            self.addTopLevelItem(item)

    def _clicked(self, item: QTreeWidgetItem, _col: int) -> None:
        nid = item.data(0, NODE_ROLE)
        if nid:
            self.node_clicked.emit(nid)
