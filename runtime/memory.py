"""Memory estimate before training: parameters, optimizer state, activations.

The estimate is what a careful person would work out on paper: weights and
their gradients (4 bytes each), the optimizer's per-parameter state (Adam
keeps two moments, SGD with momentum one buffer, ...), and the activations
kept for the backward pass (the graph's per-sample activation count × batch
size × bytes per element, halved under mixed precision), plus a fixed
allowance for the framework (the CUDA context and workspace).  It is an
estimate: allocator fragmentation and temporary buffers come on top, so the
largest batch size that fits leaves a safety margin.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

#: Optimizer state in units of the parameter count.
OPTIMIZER_STATE = {"SGD": 0, "Adagrad": 1, "Adadelta": 2, "RMSprop": 1, "Adam": 2,
                   "AdamW": 2, "Adamax": 2, "NAdam": 2, "RAdam": 2}
#: The CUDA context, cuBLAS/cuDNN workspaces and the caching allocator's slack.
CUDA_OVERHEAD = 500 * 2**20
#: Only this share of the device's memory is counted as usable.
SAFETY = 0.85


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes needed for one training step at ``batch_size``."""

    batch_size: int
    params: int
    gradients: int
    optimizer: int
    activations: int
    overhead: int
    available: int | None
    max_batch_size: int | None

    @property
    def total(self) -> int:
        return self.params + self.gradients + self.optimizer + self.activations + self.overhead

    @property
    def fits(self) -> bool | None:
        return None if self.available is None else self.total <= self.available * SAFETY

    def describe(self) -> str:
        """One line for people, e.g. ``needs ≈ 1.2 GB of 80 GB; batch size up to 4096 fits``."""
        text = (f"needs ≈ {_size(self.total)} (weights {_size(self.params)}, gradients "
                f"{_size(self.gradients)}, optimizer {_size(self.optimizer)}, activations "
                f"{_size(self.activations)} at batch size {self.batch_size})")
        if self.available is None:
            return text
        text += f" of {_size(self.available)} available"
        if self.max_batch_size is not None:
            text += f"; the largest batch size that fits is about {self.max_batch_size:,}"
        return text


def estimate(n_params: int, activations_per_sample: int, batch_size: int,
             optimizer: dict | str | None = None, amp: bool = False,
             available: int | None = None, device: str = "cpu") -> MemoryEstimate:
    """Estimate the memory of one training step.

    Args:
        n_params: trainable parameters (``Analyzer.totals()["params"]``).
        activations_per_sample: elements kept per sample (``totals()["activations"]``).
        batch_size: samples per step.
        optimizer: the project's optimizer section (or its type name).
        amp: mixed precision halves the activations.
        available: the device's memory in bytes (see :func:`device_memory`).
        device: "cuda" adds the CUDA context allowance.
    """
    opt = optimizer.get("type", "Adam") if isinstance(optimizer, dict) else (optimizer or "Adam")
    state = OPTIMIZER_STATE.get(opt, 2)
    if opt == "SGD" and isinstance(optimizer, dict) and optimizer.get("momentum"):
        state = 1
    if opt == "RMSprop" and isinstance(optimizer, dict):
        state += bool(optimizer.get("momentum")) + bool(optimizer.get("centered"))
    if isinstance(optimizer, dict) and optimizer.get("amsgrad"):
        state += 1
    p = 4 * n_params
    per_sample = activations_per_sample * (2 if amp else 4)
    overhead = CUDA_OVERHEAD if device.startswith("cuda") else 0
    fixed = 2 * p + state * p + overhead
    max_batch = None
    if available is not None and per_sample > 0:
        room = available * SAFETY - fixed
        max_batch = max(int(room // per_sample), 0)
    return MemoryEstimate(batch_size=batch_size, params=p, gradients=p, optimizer=state * p,
                          activations=per_sample * batch_size, overhead=overhead,
                          available=available, max_batch_size=max_batch)


def device_memory(device: str) -> int | None:
    """Total memory of a device in bytes (None when it cannot be told).

    ``cpu`` and ``mps`` report the machine's RAM; ``cuda`` the GPU's (torch is
    imported only for it).
    """
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            return None
        index = int(device.split(":")[1]) if ":" in device else 0
        return torch.cuda.get_device_properties(index).total_memory
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
