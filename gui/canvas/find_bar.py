"""Search boxes over the canvas: a line edit with the matches listed under it.

Used twice: to find a block (Ctrl+F: the placed blocks by name or type; Enter
jumps to the chosen one) and to add a block at a point (the context menu's
"Add Block Here…": the block types by type or family, like the palette's
search).  Matching is case-insensitive: an exact name ranks first, then a
name that starts with the text, then a kind that does, then any entry
containing it.  Up/Down choose, Enter or a click takes the chosen entry, Esc
closes.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

MAX_SHOWN = 12  # more matches than this: the list scrolls
WIDTH = 320


def rank_matches(entries, text: str) -> list[tuple[str, str, str]]:
    """The ``(key, name, kind)`` entries matching ``text``, best first.

    Args:
        entries: ``(key, name, kind)`` triples (a node: id, name, type; a
            block type: type, type, family).
        text: what the user typed; empty matches nothing.
    """
    q = text.strip().lower()
    if not q:
        return []
    ranked = []
    for key, name, kind in entries:
        low, typ = name.lower(), kind.lower()
        if low == q:
            rank = 0
        elif low.startswith(q):
            rank = 1
        elif typ.startswith(q):
            rank = 2
        elif q in low or q in typ:
            rank = 3
        else:
            continue
        ranked.append((rank, low, key, name, kind))
    ranked.sort()
    return [(key, name, kind) for _r, _n, key, name, kind in ranked]


class SearchBox(QFrame):
    """A search box (a child of the canvas view; hidden until asked for).

    Args:
        placeholder: the hint in the empty line edit.
        list_all: list every entry while the text is empty.

    Signals:
        chosen(str): the key of the chosen entry.
    """

    chosen = Signal(str)

    def __init__(self, parent=None, placeholder: str = "Find a block by name or type…",
                 list_all: bool = False):
        super().__init__(parent)
        self.setObjectName("search_box")
        self.list_all = list_all
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText(placeholder)
        self.edit.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # typing stays in the box
        self.list.itemClicked.connect(lambda _item: self._choose())
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.setSpacing(2)
        box.addWidget(self.edit)
        box.addWidget(self.list)
        self.edit.textChanged.connect(self._refilter)
        self.edit.installEventFilter(self)
        self._entries: list[tuple[str, str, str]] = []
        self.hide()

    def open(self, entries) -> None:
        """Show the box (placed by the caller) for these ``(key, name, kind)``
        entries, focused."""
        self._entries = list(entries)
        self.edit.selectAll()
        self._refilter(self.edit.text())
        self.show()
        self.raise_()
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def close_bar(self) -> None:
        self.hide()
        if self.parentWidget() is not None:
            self.parentWidget().setFocus()

    def _refilter(self, text: str) -> None:
        self.list.clear()
        matches = self.matches(text)
        if not text.strip() and self.list_all:
            matches = self._entries
        for nid, name, typ in matches:
            item = QListWidgetItem(f"{name}  ·  {typ}")
            item.setData(Qt.ItemDataRole.UserRole, nid)
            self.list.addItem(item)
        if matches:
            self.list.setCurrentRow(0)
        elif text.strip():
            self.list.addItem(QListWidgetItem(f"no block matches “{text.strip()}”"))
            self.list.item(0).setFlags(Qt.ItemFlag.NoItemFlags)
        rows = min(max(self.list.count(), 1), MAX_SHOWN)
        self.list.setVisible(self.list.count() > 0)
        self.list.setFixedHeight(rows * (self.list.sizeHintForRow(0) if self.list.count() else 18) + 6)
        self.adjustSize()
        self.resize(WIDTH, self.sizeHint().height())

    def matches(self, text: str) -> list[tuple[str, str, str]]:
        """The entries matching ``text``, best first (a subclass may search more)."""
        return rank_matches(self._entries, text)

    def _choose(self) -> None:
        item = self.list.currentItem()
        nid = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if nid:
            self.close_bar()
            self.chosen.emit(nid)


    def eventFilter(self, obj, event) -> bool:
        if (obj is self.edit and event.type() == QEvent.Type.ShortcutOverride
                and event.key() == Qt.Key.Key_Escape):
            event.accept()  # Esc closes the box, not a window action (Back to Parent)
            return True
        if obj is self.edit and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key == Qt.Key.Key_Escape:
                self.close_bar()
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._choose()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.list.count():
                step = 1 if key == Qt.Key.Key_Down else -1
                row = max(0, min(self.list.count() - 1, self.list.currentRow() + step))
                self.list.setCurrentRow(row)
                return True
        return super().eventFilter(obj, event)


class FindBar(SearchBox):
    """Ctrl+F: find a placed block by name or type (see the module docstring)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("find_bar")

    def open(self, nodes) -> None:
        """Show the box for these graph nodes."""
        super().open((n.id, n.name, n.type) for n in nodes)
