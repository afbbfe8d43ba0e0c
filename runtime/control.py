"""Stop and pause of a run, asked from any thread, read by the training loop.

One condition variable guards both requests, so a stop can never be lost
behind a pause: :meth:`RunControl.stop` wakes a paused loop, and a resume
never undoes a stop.  The loop reads one plain flag per step (:attr:`hold`)
and only takes the lock when it is set, so the hot path costs one attribute
read.
"""

from __future__ import annotations

import threading
import time


class RunControl:
    """The stop/pause requests of one run.

    Attributes:
        hold: True while a stop or pause is asked: the one flag the loop reads per step.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._stopping = False
        self._paused = False
        self.hold = False

    def stop(self) -> None:
        """Stop before the next batch (also wakes a paused run)."""
        with self._cond:
            self._stopping = True
            self.hold = True
            self._cond.notify_all()

    def pause(self) -> None:
        """Hold before the next batch until :meth:`resume` (or :meth:`stop`)."""
        with self._cond:
            if not self._stopping:
                self._paused = True
                self.hold = True

    def resume(self) -> None:
        """Continue after :meth:`pause`; a stop already asked stays asked."""
        with self._cond:
            self._paused = False
            self.hold = self._stopping
            self._cond.notify_all()

    def wait_while_paused(self) -> float:
        """Block while paused, until :meth:`resume` or :meth:`stop`; seconds waited."""
        with self._cond:
            if not self._paused or self._stopping:
                return 0.0
            t0 = time.perf_counter()
            while self._paused and not self._stopping:
                self._cond.wait()
            return time.perf_counter() - t0

    @property
    def paused(self) -> bool:
        """Paused and not stopping."""
        return self._paused and not self._stopping

    @property
    def stopping(self) -> bool:
        """A stop was asked."""
        return self._stopping
