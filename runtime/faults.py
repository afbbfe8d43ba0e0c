"""Faults during training, explained in words and pinned to a graph node.

- Non-finite loss: :func:`locate_nonfinite` re-runs the offending batch with
  forward hooks on every layer (keyed by ``code.attrs`` → node) and names the
  first one whose output (or weights) hold NaN/Inf.  The hooks exist only for
  this one diagnostic pass, so training itself pays nothing.
- An exception inside the model: :func:`node_of_exception` walks the
  traceback to the generated ``forward`` line (the source is registered in
  :mod:`linecache` by :mod:`codegen.compile`) and maps ``self.<attr>`` back
  to the node.
- Out of memory: :func:`oom_fault` suggests a smaller batch size.
"""

from __future__ import annotations

import linecache
import re
from dataclasses import dataclass

import torch
from torch import nn

_ATTR = re.compile(r"self\.([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class Fault:
    """Why training stopped with an error.

    Attributes:
        kind: ``"nan"``, ``"exception"``, ``"oom"``, ``"schedule"`` or ``"save"`` (a
            checkpoint could not be written).
        message: the explanation for a person (node, cause, suggested change).
        node: the graph node id concerned, or None.
        epoch: 1-based epoch in which it happened.
        step: global step (batch) at which it happened.
        suggested_batch_size: for ``"oom"``.
        error: the original exception as ``"Type: text"`` (``"exception"``, ``"oom"``).
    """

    kind: str
    message: str
    node: str | None = None
    epoch: int | None = None
    step: int | None = None
    suggested_batch_size: int | None = None
    error: str | None = None

    def to_json(self) -> dict:
        return {k: v for k, v in vars(self).items() if v is not None}


def _nonfinite(t) -> bool:
    if isinstance(t, torch.Tensor):
        return t.is_floating_point() and not bool(torch.isfinite(t).all())
    if isinstance(t, (tuple, list)):
        return any(_nonfinite(x) for x in t)
    return False


def weights_nonfinite(model: nn.Module) -> bool:
    """Whether any parameter of ``model`` holds NaN/Inf (one host read)."""
    params = [p for p in model.parameters() if p.is_floating_point()]
    if not params:
        return False
    return not bool(torch.stack([torch.isfinite(p).all() for p in params]).all())


def locate_nonfinite(model: nn.Module, attrs: dict[str, str], labels: dict[str, str],
                     inputs: tuple, autocast=None) -> tuple[str | None, str]:
    """Find the first layer whose output or weights are not finite.

    Args:
        model: the (uncompiled) model.
        attrs: node id → layer attribute.
        labels: node id → ``Type "name"`` for messages.
        inputs: the batch that produced the non-finite loss.
        autocast: a context-manager factory used during training, if any.

    Returns:
        ``(node id or None, explanation)``.
    """
    if any(_nonfinite(x) for x in inputs):
        return None, "the input data itself contains NaN or Inf values; clean the dataset"
    for nid, attr in attrs.items():
        mod = getattr(model, attr, None)
        if isinstance(mod, nn.Module) and any(_nonfinite(p) for p in mod.parameters()):
            return nid, (f"the weights of {labels.get(nid, nid)} became NaN/Inf: the updates "
                         "diverged; lower the learning rate or set grad_clip_norm")
    found: list[str] = []
    handles = []
    for nid, attr in attrs.items():
        mod = getattr(model, attr, None)
        if isinstance(mod, nn.Module):
            def hook(m, args, out, nid=nid):
                if not found and _nonfinite(out):
                    found.append(nid)
            handles.append(mod.register_forward_hook(hook))
    try:
        with torch.no_grad():
            if autocast is not None:
                with autocast():
                    model(*inputs)
            else:
                model(*inputs)
    except Exception:  # the diagnosis must not raise; the loss was already bad
        pass
    finally:
        for h in handles:
            h.remove()
    if found:
        nid = found[0]
        return nid, (f"{labels.get(nid, nid)} is the first layer whose output holds NaN/Inf "
                     "values; lower the learning rate, add normalisation before it, or set "
                     "grad_clip_norm")
    return None, ("every layer's output is finite, so the loss function itself produced "
                  "NaN/Inf (e.g. NLLLoss/KLDivLoss on values that are not log-probabilities, "
                  "or targets out of range); check the loss and the last layer")


def node_of_exception(exc: BaseException, attrs: dict[str, str]) -> str | None:
    """The node whose layer call raised ``exc``, from the generated forward's line."""
    by_attr = {a: n for n, a in attrs.items()}
    node = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith("<netcanvas:"):
            line = linecache.getline(filename, tb.tb_lineno)
            for attr in _ATTR.findall(line):
                if attr in by_attr:
                    node = by_attr[attr]
                    break
        tb = tb.tb_next
    return node


def describe_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def exception_fault(exc: BaseException, attrs: dict[str, str], labels: dict[str, str],
                    where: str = "training") -> Fault:
    """A :class:`Fault` for an exception raised inside the model."""
    nid = node_of_exception(exc, attrs)
    err = describe_error(exc)
    if nid is not None:
        msg = f"{labels.get(nid, nid)} failed during {where}: {err}"
    else:
        msg = f"the model failed during {where}: {err}"
    return Fault("exception", msg, node=nid, error=err)


def is_oom(exc: BaseException) -> bool:
    """Whether an exception is an accelerator (or host) out-of-memory error."""
    if isinstance(exc, (torch.cuda.OutOfMemoryError, MemoryError)):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def oom_fault(exc: BaseException, batch_size: int, device: torch.device) -> Fault:
    """A :class:`Fault` for out-of-memory, suggesting half the batch size."""
    smaller = max(1, batch_size // 2)
    if device.type == "cuda":
        torch.cuda.empty_cache()
    if batch_size > 1:
        hint = f"try batch_size {smaller} (or a smaller model, or amp)"
    else:
        hint = "the model does not fit even one sample; make it smaller or use another device"
    return Fault("oom", f"out of memory on {device.type} with batch_size {batch_size}; {hint}",
                 suggested_batch_size=smaller if batch_size > 1 else None,
                 error=describe_error(exc))
