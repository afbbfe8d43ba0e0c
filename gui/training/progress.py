"""The one-line training progress text (pure functions, no Qt).

``format_progress(3, 20, 120, 600, 42, 12345)`` gives
``"epoch 3/20 · step 120/600 · ETA 0:42 · 12,345 samples/s"``.
"""

from __future__ import annotations

import math

SEP = " · "


def format_eta(seconds: float | None) -> str:
    """``m:ss`` under an hour, ``h:mm:ss`` above, ``–`` when unknown.

    Args:
        seconds: remaining time; None, negative or non-finite means unknown.
    """
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "–"
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def format_rate(samples_per_s: float | None) -> str:
    """``12,345 samples/s``; one decimal below 10; ``–`` when unknown."""
    if samples_per_s is None or not math.isfinite(samples_per_s) or samples_per_s < 0:
        return "– samples/s"
    if samples_per_s < 10:
        return f"{samples_per_s:.1f} samples/s"
    return f"{samples_per_s:,.0f} samples/s"


def estimate_eta(done: float, total: float, elapsed_s: float) -> float | None:
    """Remaining seconds at the average rate so far, or None before any progress."""
    if done <= 0 or elapsed_s <= 0 or total <= 0:
        return None
    return max(0.0, (total - done) * elapsed_s / done)


def format_progress(epoch: int, epochs: int, step: int, steps: int,
                    eta_s: float | None = None, samples_per_s: float | None = None) -> str:
    """The progress line under the plots.

    Args:
        epoch: current epoch, 1-based.
        epochs: number of epochs.
        step: current step within the run (or epoch; whatever ``steps`` counts).
        steps: total steps.
        eta_s: estimated seconds left (None: unknown).
        samples_per_s: throughput (None: unknown).

    Returns:
        e.g. ``"epoch 3/20 · step 120/600 · ETA 0:42 · 12,345 samples/s"``.
    """
    parts = [f"epoch {epoch}/{epochs}", f"step {step:,}/{steps:,}",
             f"ETA {format_eta(eta_s)}", format_rate(samples_per_s)]
    return SEP.join(parts)


#: How the end of a run reads on the progress line.
ENDINGS = {"completed": "finished", "stopped": "stopped", "early_stopping": "early stopping",
           "error": "stopped by an error", "refused": "refused"}


def format_end(status: str, epoch: int, epochs: int, step: int, steps: int,
               seconds: float | None = None) -> str:
    """The progress line once a run is over: how it ended, where, and how long it ran.

    ``format_end("stopped", 3, 20, 120, 600, 42)`` gives
    ``"stopped after epoch 3/20 · step 120/600 · ran 0:42"`` (no ETA, no rate:
    nothing is running any more).
    """
    parts = [f"{ENDINGS.get(status, status)} after epoch {epoch}/{epochs}",
             f"step {step:,}/{steps:,}"]
    if seconds is not None and seconds >= 0:
        parts.append(f"ran {format_eta(seconds)}")
    return SEP.join(parts)
