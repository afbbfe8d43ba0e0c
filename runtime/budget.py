"""Time budgets for work done beside training on the training thread.

A live view's extras (the decision map's grid pass, the watched node's
histograms: :mod:`runtime.remote_child`) cost what the model and the tensor
make them cost, which a fixed period cannot know: a grid pass that is nothing
for a small network can outlast a wide network's whole epoch.  A
:class:`Budget` times each run and spaces the next by that cost, so the extra
takes at most a set share of the time whatever it costs (``quality.md`` B4:
the window trains at the command line's speed).
"""

from __future__ import annotations

import math
import time

#: Most of the run's time each live extra (the decision map, the histograms) may take.
EXTRAS_SHARE = 0.02


class Budget:
    """Spaces a costly extra so that it takes at most ``share`` of the time.

    Each run is timed (:meth:`spend`); the next is due once ``cost / share``
    seconds have passed since the last one began, and never sooner than
    ``every`` seconds.  The first is due at once, before anything is known.

    Args:
        share: the most of the time the extra may take, in (0, 1].
        every: the shortest spacing, seconds.
        clock: seconds, monotonic (tests pass their own).
    """

    def __init__(self, share: float = EXTRAS_SHARE, every: float = 0.0,
                 clock=time.perf_counter):
        self.share, self.every, self.clock = share, every, clock
        self.next_at = -math.inf
        #: how many runs were spent
        self.runs = 0

    def due(self) -> bool:
        """Whether the extra may run now."""
        return self.clock() >= self.next_at

    def spend(self, began: float) -> None:
        """A run that began at ``began`` (this clock's time) has just ended."""
        cost = self.clock() - began
        self.next_at = began + max(self.every, cost / self.share)
        self.runs += 1

    def charge(self, seconds: float) -> None:
        """Add work done later for the last run (a gradient binned in backward)."""
        self.next_at += seconds / self.share
