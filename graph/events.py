"""A tiny Qt-free observer: views subscribe to a model's events.

``graph.events.node_added.connect(callback)``; the model calls ``emit``.
"""

from __future__ import annotations

from typing import Any, Callable


class Signal:
    """A list of callbacks called in subscription order."""

    __slots__ = ("_subs",)

    def __init__(self) -> None:
        self._subs: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> None:
        if callback not in self._subs:
            self._subs.append(callback)

    def disconnect(self, callback: Callable[..., Any]) -> None:
        if callback in self._subs:
            self._subs.remove(callback)

    def emit(self, *args: Any) -> None:
        subs = self._subs
        if subs:  # most signals of a file being loaded have no subscriber yet
            for cb in subs[:]:
                cb(*args)


class GraphEvents:
    """The events a :class:`graph.graph.Graph` emits.

    node_added(node), node_removed(node), edge_added(edge), edge_removed(edge),
    param_changed(node, name), node_renamed(node), node_moved(node),
    node_frozen(node) (frozen set or cleared);
    unit_defined(name), unit_changed(name) (its definition, or a unit it
    uses, was edited) and unit_removed(name) for the project's units; and
    changed() after each of these that can change validation (all but a
    move), for a listener that only needs to know that something did (the
    GUI's document: one re-analysis per undo step).  Project-level settings
    (the training section, the name) are not the graph's: the GUI's
    document announces those.
    """

    def __init__(self) -> None:
        self.node_added = Signal()
        self.node_removed = Signal()
        self.edge_added = Signal()
        self.edge_removed = Signal()
        self.param_changed = Signal()
        self.node_renamed = Signal()
        self.node_moved = Signal()
        self.node_frozen = Signal()
        self.unit_defined = Signal()
        self.unit_changed = Signal()
        self.unit_removed = Signal()
        self.changed = Signal()  # any edit that can change validation
