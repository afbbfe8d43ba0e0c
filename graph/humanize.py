"""Totals for people: counts, FLOPs and byte sizes with units (``37.8 k``,
``4.9 TFLOPs``, ``1.2 TB``).

One place for these numbers' wording, read by the status bar, the summary
(``python main.py summary`` and File → Export → Summary), the memory
estimates and the warnings of validation, so a size reads the same
everywhere.  Units are decimal (SI): k = 10³, M = 10⁶, G = 10⁹, T = 10¹²,
as for FLOPs and as memory is sold; a value keeps one decimal once it has a
unit (``1.4 k``, ``305.0 G``), so its size shows at a glance.
"""

from __future__ import annotations

from typing import Mapping

_PREFIXES = ("", "k", "M", "G", "T", "P", "E")


def _scaled(n: float) -> tuple[float, str]:
    """``n`` divided down to below 1000 and its SI prefix (rounding first, so
    999,960 is ``1.0 M`` rather than ``1000.0 k``)."""
    value, k = float(n), 0
    while k < len(_PREFIXES) - 1 and round(abs(value), 1) >= 1000:
        value /= 1000
        k += 1
    return value, _PREFIXES[k]


def count(n: float) -> str:
    """A count: ``950``, ``37.8 k``, ``1.2 M``, ``305.0 G``."""
    if abs(n) < 1000:
        return f"{n:,.0f}" if isinstance(n, float) else f"{n}"
    value, prefix = _scaled(n)
    return f"{value:.1f} {prefix}"


def flops(n: float) -> str:
    """Floating-point operations: ``950 FLOPs``, ``12.3 MFLOPs``, ``4.9 TFLOPs``."""
    if abs(n) < 1000:
        return f"{n:,.0f} FLOPs"
    value, prefix = _scaled(n)
    return f"{value:.1f} {prefix}FLOPs"


def size(n_bytes: float) -> str:
    """A size in bytes: ``512 B``, ``151.1 kB``, ``1.2 TB``."""
    if abs(n_bytes) < 1000:
        return f"{n_bytes:,.0f} B"
    value, prefix = _scaled(n_bytes)
    return f"{value:.1f} {prefix}B"


def params(n: int) -> str:
    """A parameter count with its exact value where the short one rounds:
    ``288``, ``37,770 (37.8 k)``."""
    return f"{n:,}" if abs(n) < 1000 else f"{n:,} ({count(n)})"


def summary_totals(totals: Mapping[str, int]) -> list[str]:
    """The totals under a summary table (``Analyzer.totals()``), one line each."""
    return [f"total parameters:  {params(totals['params'])}",
            f"FLOPs per sample:  {flops(totals['flops'])}",
            f"model size:        {size(totals['size_bytes'])} (float32)"]


def status_totals(totals: Mapping[str, int]) -> str:
    """The totals in one line (the editor's status bar); with frozen blocks the
    parameters are counted apart: ``Parameters: 1.2k (200 trainable / 1.0k frozen)``."""
    frozen = totals.get("frozen_params", 0)
    apart = ""
    if frozen:
        apart = (f" ({count(totals['params'] - frozen)} trainable / {count(frozen)} frozen)")
    return (f"Parameters: {count(totals['params'])}{apart}   FLOPs/sample: "
            f"{flops(totals['flops'])}   Size: {size(totals['size_bytes'])}")
