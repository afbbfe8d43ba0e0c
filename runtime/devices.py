"""The training devices this machine offers, for the settings panel.

Kept apart from :mod:`runtime.setup` (which resolves a setting when a run
starts) so the GUI can list devices without building anything; torch is
imported on first call, not at import.
"""

from __future__ import annotations


def available_devices() -> list[str]:
    """The device choices this machine offers (``auto`` and ``cpu`` always)."""
    import torch

    out = ["auto", "cpu"]
    if torch.cuda.is_available():
        out.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append("mps")
    return out


def device_total_memory(device: str) -> int | None:
    """Memory of the device a setting resolves to (bytes), via :mod:`runtime.memory`."""
    import torch

    from .memory import device_memory

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return device_memory(device)
