"""The block palette: blocks grouped by family from the registry, a search
box that filters as you type, tooltips with formula and doc, drag onto the
canvas or double-click to add.  Its last family, "Units", lists the open
project's units and then the built-in library's (:mod:`graph.unit_library`,
added as ``library:NAME``: the definition is copied into the project)."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from graph import block_search, blocks, unit_library

from .canvas.style import family_color
from .canvas.view import MIME_BLOCK
from .commands import LIBRARY_PREFIX

TYPE_ROLE = Qt.ItemDataRole.UserRole
UNITS_FAMILY = "Units"


def block_icon(family: str, type_name: str, dark: bool = False, size: int = 16) -> QIcon:
    """A rounded square in the block family's canvas colour with the type's initial."""
    pm = QPixmap(size * 2, size * 2)  # drawn at 2× so it stays sharp on high-DPI screens
    pm.setDevicePixelRatio(2.0)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = family_color(family, dark)
    p.setPen(QPen(color.darker(150), 1))
    p.setBrush(color)
    p.drawRoundedRect(QRectF(1.5, 1.5, size - 3, size - 3), 3, 3)
    font = p.font()
    font.setPixelSize(int(size * 0.62))
    font.setBold(True)
    p.setFont(font)
    p.setPen(QColor(245, 245, 245) if dark else QColor(30, 30, 30))
    p.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, type_name[:1])
    p.end()
    return QIcon(pm)


class _Tree(QTreeWidget):
    def mimeData(self, items):
        data = QMimeData()
        types = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        if types:
            data.setData(MIME_BLOCK, types[0].encode())
            data.setText(types[0])
        return data

    def mimeTypes(self):
        return [MIME_BLOCK]


class Palette(QWidget):
    """Signals:
        activated(str): a block type was double-clicked (add it)."""

    activated = Signal(str)

    def __init__(self, parent=None, dark: bool = False):
        super().__init__(parent)
        self.dark = dark
        self.search = QLineEdit(placeholderText="Search blocks…")
        self.search.setClearButtonEnabled(True)
        self.tree = _Tree()
        self.tree.setHeaderHidden(True)
        self.tree.setIndentation(14)  # room for the long names (DepthwiseSeparableConv2d)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a narrowed dock keeps both ends
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QTreeWidget.DragDropMode.DragOnly)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.search)
        lay.addWidget(self.tree)
        self.project_units: list[str] = []
        self.search.textChanged.connect(self.filter)
        self.tree.itemDoubleClicked.connect(self._double_clicked)
        self.reload()

    def reload(self) -> None:
        """Rebuild from the registry (blocks registered later appear too)."""
        self.tree.clear()
        self.items: dict[str, QTreeWidgetItem] = {}
        for family, specs in blocks.by_family().items():
            if not specs:
                continue
            top = QTreeWidgetItem(self.tree, [family.capitalize()])
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for spec in specs:
                item = QTreeWidgetItem(top, [spec.type])
                item.setData(0, TYPE_ROLE, spec.type)
                item.setIcon(0, block_icon(family, spec.type, self.dark))
                tip = f"<b>{spec.type}</b>"
                if spec.formula:
                    tip += f"<br><code>{spec.formula}</code>"
                tip += f"<br>{spec.doc}"
                item.setToolTip(0, tip)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsDragEnabled)
                self.items[spec.type] = item
        self._add_units()
        self.tree.expandAll()
        self.filter(self.search.text())

    def set_units(self, names: list[str]) -> None:
        """Show the open project's units (after every edit: cheap when unchanged)."""
        names = list(names)
        if names != self.project_units:
            self.project_units = names
            self.reload()

    def _add_units(self) -> None:
        top = QTreeWidgetItem(self.tree, [UNITS_FAMILY])
        top.setFlags(Qt.ItemFlag.ItemIsEnabled)
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | \
            Qt.ItemFlag.ItemIsDragEnabled
        entries = [(name, name, f"<b>{name}</b><br>A unit of this project: drag in or "
                    "double-click to add an instance; double-click an instance to edit it.")
                   for name in self.project_units]
        entries += [(name, LIBRARY_PREFIX + name,
                     f"<b>{name}</b> (built-in)<br>{unit_library.library_doc(name)}<br>"
                     "Added, its definition is copied into the project.")
                    for name in unit_library.library_names()]
        heading = False
        for text, type_name, tip in entries:
            if type_name.startswith(LIBRARY_PREFIX) and not heading:
                # the library after the project's own units, under a heading
                heading = True
                head = QTreeWidgetItem(top, ["built-in library"])
                head.setFlags(Qt.ItemFlag.NoItemFlags)
                head.setToolTip(0, "Ready-made units: added, a copy of the definition goes "
                                "into the project")
            item = QTreeWidgetItem(top, [text])
            item.setData(0, TYPE_ROLE, type_name)
            item.setIcon(0, block_icon("units", text, self.dark))
            item.setToolTip(0, tip)
            item.setFlags(flags)
            if type_name.startswith(LIBRARY_PREFIX):
                font = item.font(0)
                font.setItalic(True)
                item.setFont(0, font)
            self.items[type_name] = item

    def set_dark(self, dark: bool) -> None:
        if dark != self.dark:
            self.dark = dark
            self.reload()

    def filter(self, text: str) -> None:
        """Show the blocks matching ``text``: by type, family or synonym
        (``dense`` finds Linear), and by a word of the description when
        nothing matches otherwise (:mod:`graph.block_search`; ``ident``
        shows Identity, not every block whose description says identity)."""
        needle = text.strip()
        ranks: dict[tuple[int, int], int | None] = {}
        for k in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(k)
            for j in range(top.childCount()):
                child = top.child(j)
                type_name = child.data(0, TYPE_ROLE)
                ranks[k, j] = (block_search.rank(needle, child.text(0), type_name, top.text(0))
                                    if needle and type_name else None)
        found = [r for r in ranks.values() if r is not None]
        cutoff = block_search.DESCRIPTION if found and min(found) < block_search.DESCRIPTION \
            else block_search.DESCRIPTION + 1
        for k in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(k)
            shown = 0
            for j in range(top.childCount()):
                child = top.child(j)
                r = ranks[k, j]
                hide = bool(needle) and (r is None or r >= cutoff)
                child.setHidden(hide)
                shown += not hide
            top.setHidden(shown == 0)

    def visible_types(self) -> list[str]:
        return [t for t, i in self.items.items() if not i.isHidden() and not i.parent().isHidden()]

    def _double_clicked(self, item: QTreeWidgetItem, _col: int) -> None:
        t = item.data(0, TYPE_ROLE)
        if t:
            self.activated.emit(t)
