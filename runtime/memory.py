"""Memory estimate before training: parameters, optimizer state, activations.

The estimate is what a careful person would work out on paper: weights and
their gradients (4 bytes each), the optimizer's per-parameter state (Adam
keeps two moments, SGD with momentum one buffer, ...), and the activations
kept for the backward pass (the graph's per-sample activation count × batch
size × bytes per element, halved under mixed precision), plus a fixed
allowance for the framework (the CUDA context and workspace).  It is an
estimate: allocator fragmentation and temporary buffers come on top, so the
largest batch size that fits leaves a safety margin.

:func:`memory_refusal` turns an estimate that does not fit into the reason
Start (in the window) and ``python main.py train`` refuse with, before
anything is allocated: the estimate, the largest batch size that fits, and the
layer to make smaller when not even one sample fits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from graph.humanize import count, size

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

    @property
    def usable(self) -> int | None:
        """The bytes counted as usable (:data:`SAFETY` of what is available)."""
        return None if self.available is None else int(self.available * SAFETY)

    def describe(self) -> str:
        """One line for people, e.g. ``needs ≈ 1.2 GB (...) of 80.0 GB available; the
        largest batch size that fits is about 4,096``."""
        text = (f"needs ≈ {size(self.total)} (weights {size(self.params)}, gradients "
                f"{size(self.gradients)}, optimizer {size(self.optimizer)}, activations "
                f"{size(self.activations)} at batch size {self.batch_size:,})")
        if self.available is None:
            return text
        text += f" of {size(self.available)} available"
        if self.max_batch_size == 0:
            text += "; not even one sample fits"
        elif self.max_batch_size is not None:
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


def available_memory() -> int | None:
    """Bytes of RAM available now (Linux ``MemAvailable``, else the free pages,
    else the machine's total); None when the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    for pages in ("SC_AVPHYS_PAGES", "SC_PHYS_PAGES"):
        try:
            n = os.sysconf("SC_PAGE_SIZE") * os.sysconf(pages)
        except (ValueError, OSError, AttributeError):
            continue
        if n > 0:
            return n
    return None


def memory_refusal(analyzer, batch_size: int, optimizer: dict | str | None, amp: bool,
                   available: int | None, device: str) -> tuple[str, str | None] | None:
    """Why one training step of a valid graph will not fit in ``device``'s memory.

    Args:
        analyzer: the graph's :class:`graph.analysis.Analyzer` (parameter and
            activation counts).
        batch_size: samples per step (the dataset's size where that is smaller).
        optimizer, amp, available, device: as for :func:`estimate`.

    Returns:
        ``(reason, node id)``: the reason for a person, with the estimate and
        the largest batch size that fits, and the node to show (the layer with
        the most parameters when the weights alone do not fit, else the one
        that keeps the most activations); None when it fits or the memory is
        unknown.
    """
    totals = analyzer.totals()
    est = estimate(totals["params"], totals["activations"], batch_size, optimizer, amp,
                   available, device)
    if est.fits is not False:
        return None
    results = analyzer.results
    parts = (f"weights {size(est.params)}, gradients {size(est.gradients)}, optimizer "
             f"{size(est.optimizer)}, activations {size(est.activations)}")
    if est.overhead:
        parts += f", CUDA context {size(est.overhead)}"
    text = (f"the model is too large for the memory of {device}: one training step at batch "
            f"size {batch_size:,} needs ≈ {size(est.total)} ({parts}), but {device} has "
            f"{size(est.available)} ({size(est.usable)} of it usable)")
    # the layer to blame: the biggest weights when they alone do not fit, else
    # the layer that keeps the most activations per sample
    weights_alone = est.total - est.activations > est.usable
    key = (lambda k: results[k].n_params) if weights_alone else \
        (lambda k: results[k].activations)
    node = max(results, key=key, default=None)
    if est.max_batch_size:
        text += (f"; the largest batch size that fits is about {est.max_batch_size:,} — set "
                 "the batch size to that or less")
        return text, node
    text += "; not even one sample fits — make "
    if node is not None and weights_alone:
        text += f"{analyzer.graph.nodes[node].label()} ({count(results[node].n_params)} " \
            "parameters) smaller"
    elif node is not None:
        text += f"{analyzer.graph.nodes[node].label()}'s output smaller"
    else:
        text += "the network smaller"
    return text + ", or train on a device with more memory", node
