"""The main window's panels: the docks, their default arrangement, and the
View → Panels menu that brings a closed panel back.

Default arrangement: the block palette on the left and the inspector on the
right, both full height (the inspector has room for inferred values and the
documentation); Problems and Code side by side in a band under the canvas,
so both are in sight while editing.  The Training dock, once opened, is
tabbed with Problems.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu

Area = Qt.DockWidgetArea

#: key, title and default area of each panel, in menu order
PANELS = (("palette", "Blocks", Area.LeftDockWidgetArea),
          ("inspector", "Inspector", Area.RightDockWidgetArea),
          ("problems", "Problems", Area.BottomDockWidgetArea),
          ("code", "Code", Area.BottomDockWidgetArea))
PALETTE_WIDTH = 256  # "DepthwiseSeparableConv2d" with its icon, unclipped
INSPECTOR_WIDTH = 340
BOTTOM_HEIGHT = 190
PROBLEMS_SHARE = 45  # percent of the band under the canvas; Code gets the rest


def make_docks(window: QMainWindow, widgets: dict) -> dict[str, QDockWidget]:
    """One dock per panel of :data:`PANELS`, holding ``widgets[key]``."""
    window.setCorner(Qt.Corner.TopLeftCorner, Area.LeftDockWidgetArea)
    window.setCorner(Qt.Corner.BottomLeftCorner, Area.LeftDockWidgetArea)
    window.setCorner(Qt.Corner.TopRightCorner, Area.RightDockWidgetArea)
    window.setCorner(Qt.Corner.BottomRightCorner, Area.RightDockWidgetArea)
    docks = {}
    for key, title, _area in PANELS:
        dock = QDockWidget(title, window)
        dock.setObjectName(key)
        dock.setWidget(widgets[key])
        docks[key] = dock
    return docks


def default_layout(window: QMainWindow, docks: dict[str, QDockWidget],
                   training: QDockWidget | None = None) -> None:
    """Put every panel where it starts (also "Reset Layout"); the Training
    dock, if open, is tabbed beside Problems."""
    for key, _title, area in PANELS:
        dock = docks[key]
        dock.setFloating(False)
        window.addDockWidget(area, dock)
        dock.show()
    window.splitDockWidget(docks["problems"], docks["code"], Qt.Orientation.Horizontal)
    if training is not None and training.isVisible():
        training.setFloating(False)
        window.addDockWidget(Area.BottomDockWidgetArea, training)
        window.tabifyDockWidget(docks["problems"], training)
        docks["problems"].raise_()
    window.resizeDocks([docks["palette"], docks["inspector"]], [PALETTE_WIDTH, INSPECTOR_WIDTH],
                       Qt.Orientation.Horizontal)
    window.resizeDocks([docks["problems"], docks["code"]], [PROBLEMS_SHARE, 100 - PROBLEMS_SHARE],
                       Qt.Orientation.Horizontal)
    window.resizeDocks([docks["problems"]], [BOTTOM_HEIGHT], Qt.Orientation.Vertical)


def fill_panels_menu(menu: QMenu, docks: list[QDockWidget]) -> None:
    """Each dock's show/hide toggle, above what ``menu`` already holds."""
    first = menu.actions()[0] if menu.actions() else None
    for dock in docks:
        action = dock.toggleViewAction()
        action.setStatusTip(f"Show or hide the {dock.windowTitle()} panel")
        menu.insertAction(first, action)
    if first is not None:
        menu.insertSeparator(first)
