"""What one run measured, held once in the window's process (numpy only, no Qt).

:class:`RunMetrics` belongs to a run's :class:`~gui.training.runs.RunRecord`:
the per-epoch history rows (what the run list summarises and the run folder
keeps) and the plotted series, keyed by metric (``"loss"`` by step,
``"val_accuracy"`` by epoch, ``"grad_norm/<layer>"`` ...).  The plots draw
these very series (their curves are views of them), so a metric is stored
once, whether it came live from the training process or from a run folder.
"""

from __future__ import annotations

from gui.training.series import GrowingSeries


class RunMetrics:
    """A run's history rows and plotted series.

    Attributes:
        rows: one dict per finished epoch (the engine's metrics of that epoch).
        series: metric key → its points.
    """

    def __init__(self, rows: list | None = None, step_losses=None):
        self.rows: list[dict] = list(rows or [])
        self.series: dict[str, GrowingSeries] = {}
        if step_losses is not None and len(step_losses):
            self.series_of("loss").append(range(1, len(step_losses) + 1), step_losses)

    def series_of(self, key: str) -> GrowingSeries:
        """The series of one metric (made empty on first use)."""
        s = self.series.get(key)
        if s is None:
            s = self.series[key] = GrowingSeries()
        return s

    @property
    def step_losses(self) -> list[float]:
        """Every step's training loss received so far."""
        s = self.series.get("loss")
        return s.y.tolist() if s is not None else []

    @property
    def steps_done(self) -> int:
        """How many step losses are stored."""
        s = self.series.get("loss")
        return len(s) if s is not None else 0
