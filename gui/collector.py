"""Cyclic garbage collection at safe points of the event loop.

Python's collector runs whenever enough objects have been allocated, which
can be in the middle of a Qt call.  When that call holds one of Qt's
signal-slot locks (``QObject::disconnect``, as pyqtgraph does each time a
plot item changes parent, asks Python whether ``disconnectNotify`` is
overridden and so allocates), and the garbage holds a ``QObject`` whose
destructor needs the same lock (a closed window's plots, a replaced
document's scene), the window freezes for good: the thread waits for a lock
it holds itself.  :class:`SafeCollector` switches automatic collection off
and collects from a timer instead, by the collector's own thresholds, where
no Qt call is under way.  Reference counting still frees everything that is
not in a cycle at once.

pyqtgraph ships the same idea (``pyqtgraph.util.garbage_collector``), but
importing it imports pyqtgraph, which the editor loads only with the
training view (start-up budget, architecture rule 7).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

#: Milliseconds between two checks of the collector's counts.
CHECK_MS = 500


def collect_due() -> int:
    """Collect the oldest generation whose count is over its threshold, as
    Python's automatic collection would; returns the generation (-1: none due)."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    for generation in (2, 1, 0):
        if thresholds[generation] and counts[generation] > thresholds[generation]:
            gc.collect(generation)
            return generation
    return -1


class SafeCollector(QObject):
    """Automatic collection off while it runs; :func:`collect_due` on a timer.

    Args:
        parent: the object it lives as long as (the application).
        interval_ms: time between two checks.
    """

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_MS):
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(collect_due)
        self._was_enabled = gc.isenabled()

    def start(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Back to Python's automatic collection (as it was before :meth:`start`)."""
        self._timer.stop()
        if self._was_enabled:
            gc.enable()

    def running(self) -> bool:
        return self._timer.isActive()
