"""The Problems panel: every error and warning with its node (or "training"
for a problem of the training settings, its message then naming the setting:
``loss: expected an object…``); clicking one selects and centres the node
(or, for the training settings, shows the Training panel).  Messages wrap to
the panel's width (they name shapes and the fix, so they are long), the
node's own "Type "name":" prefix left out since the first column names it."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtWidgets import (QHeaderView, QStyle, QStyledItemDelegate, QTreeWidget,
                               QTreeWidgetItem)

from graph.problems import ERROR

from .binding import DocumentBinding

NODE_ROLE = Qt.ItemDataRole.UserRole
MESSAGE = 1  # the message column


class _WrapDelegate(QStyledItemDelegate):
    """Rows as tall as their message needs at the column's width."""

    def __init__(self, tree: QTreeWidget):
        super().__init__(tree)
        self.tree = tree

    def initStyleOption(self, option, index) -> None:
        super().initStyleOption(option, index)
        option.features |= option.ViewItemFeature.WrapText

    def sizeHint(self, option, index) -> QSize:
        size = super().sizeHint(option, index)
        if index.column() != MESSAGE:
            return size
        width = max(40, self.tree.header().sectionSize(MESSAGE) - 8)
        text = index.data() or ""
        rect = option.fontMetrics.boundingRect(QRect(0, 0, width, 10_000),
                                               int(Qt.TextFlag.TextWordWrap), text)
        return QSize(size.width(), max(size.height(), rect.height() + 6))


class ProblemsPanel(QTreeWidget):
    """Signals:
        node_clicked(str): a problem of that node was clicked.
        training_clicked(): a problem of the training settings was clicked."""

    node_clicked = Signal(str)
    training_clicked = Signal()

    def __init__(self, doc=None, parent=None):
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderLabels(["Node", "Problem"])
        self.setRootIsDecorated(False)
        self.setWordWrap(True)
        self.setUniformRowHeights(False)
        self.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.setItemDelegate(_WrapDelegate(self))
        self.setColumnWidth(0, 110)
        self.header().setSectionResizeMode(MESSAGE, QHeaderView.ResizeMode.Stretch)
        self.header().sectionResized.connect(lambda *_: self.scheduleDelayedItemsLayout())
        self.itemClicked.connect(self._clicked)
        self.doc = None
        self.binding = DocumentBinding(analysed=self.refresh)
        if doc is not None:
            self.bind(doc)

    def bind(self, doc) -> None:
        """List the problems of ``doc`` (see :mod:`gui.binding`)."""
        self.doc = self.binding.bind(doc)
        self.refresh()

    def refresh(self) -> None:
        style = self.style()
        err = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical)
        warn = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        self.clear()
        if self.doc is None:
            return
        graph = self.doc.graph
        for p in self.doc.analyzer.problems():
            node = graph.nodes.get(p.node) if p.node else None
            text = p.message
            prefix = f'{node.type} "{node.name}": ' if node else ""
            if node is None and p.location is not None:
                prefix = "training."  # a training setting: "training" in the first column
            if prefix and text.startswith(prefix):
                text = text[len(prefix):]
            first = node.name if node else ("training" if p.location else "")
            item = QTreeWidgetItem([first, text])
            item.setIcon(0, err if p.severity == ERROR else warn)
            item.setToolTip(1, p.message)
            item.setData(0, NODE_ROLE, p.node)
            item.setData(1, NODE_ROLE, p.location)
            self.addTopLevelItem(item)

    def _clicked(self, item: QTreeWidgetItem, _col: int) -> None:
        nid = item.data(0, NODE_ROLE)
        if nid:
            self.node_clicked.emit(nid)
        elif item.data(1, NODE_ROLE):
            self.training_clicked.emit()
