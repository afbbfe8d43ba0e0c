"""Weights of an earlier run carried into a network by name and shape (fine-tuning).

A pretrained network and the one that reuses its blocks share the blocks'
names (a block's name is its layer's attribute, so its weights' keys are
``<name>.weight`` ...), not necessarily their whole layout: a classifier keeps
the encoder of a masked-token model and replaces its head.  :func:`transfer`
loads every tensor whose key and shape match, leaves the rest as initialised,
and returns a :class:`TransferReport` that says, tensor by tensor, what loaded
and why the others did not (missing in the file, shape mismatch with both
shapes, unexpected keys).  The command line prints it and the window shows it
in a dialog; both read :meth:`TransferReport.lines`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .errors import CheckpointError


def _shape(t: torch.Tensor) -> str:
    return "×".join(str(d) for d in t.shape) or "scalar"


@dataclass
class TransferReport:
    """What :func:`transfer` loaded and what it left.

    Attributes:
        source: where the weights came from (for the messages).
        loaded: ``(key, shape)`` of each tensor loaded, in the network's order.
        missing: keys of the network's tensors the file does not hold (they
            keep their initialisation).
        mismatched: ``(key, network's shape, file's shape)`` of tensors that
            are in both with different shapes (or integer against float values).
        unexpected: keys in the file the network has no tensor for.
    """

    source: str
    loaded: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, str, str]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every tensor of the network loaded and nothing left over in the file."""
        return not (self.missing or self.mismatched or self.unexpected)

    def summary(self) -> str:
        """One line: ``weights loaded from 'x.pt': 6 of 8 tensors (2 not loaded)``."""
        total = len(self.loaded) + len(self.missing) + len(self.mismatched)
        text = f"weights loaded from {self.source!r}: {len(self.loaded)} of {total} tensors"
        left = len(self.missing) + len(self.mismatched)
        if left:
            text += f" ({left} keep their initialisation)"
        if self.unexpected:
            text += f"; {len(self.unexpected)} in the file unused"
        return text

    def lines(self) -> list[str]:
        """The report, one line per tensor, grouped: loaded, not loaded (with the
        reason), in the file but unused."""
        out = [self.summary()]
        out += [f"  loaded: {k} ({s})" for k, s in self.loaded]
        out += [f"  not loaded: {k}: shape mismatch, the network has {a}, the file {b}"
                for k, a, b in self.mismatched]
        out += [f"  not loaded: {k}: missing in the file" for k in self.missing]
        out += [f"  unused: {k}: unexpected key, the network has no such tensor"
                for k in self.unexpected]
        return out


def compare(own: dict, state: dict, source: str) -> TransferReport:
    """What loading ``state`` into a network whose state_dict is ``own`` would do."""
    rep = TransferReport(source)
    for k, v in own.items():
        w = state.get(k)
        if not isinstance(w, torch.Tensor):
            rep.missing.append(k)
        elif tuple(w.shape) != tuple(v.shape):
            rep.mismatched.append((k, _shape(v), _shape(w)))
        elif w.is_floating_point() != v.is_floating_point():
            kind = "floating-point" if v.is_floating_point() else "integer"
            rep.mismatched.append((k, f"{_shape(v)} {kind}", f"{_shape(w)} {w.dtype}"))
        else:
            rep.loaded.append((k, _shape(v)))
    rep.unexpected = [k for k in state if k not in own]
    return rep


def transfer(model: torch.nn.Module, state: dict, source: str) -> TransferReport:
    """Load the tensors of ``state`` whose key and shape match into ``model``.

    Raises:
        CheckpointError: not one tensor matches (a file of another network):
            training would start from nothing it holds; or a tensor of the
            right shape holds integers where the network has floats (or the
            reverse): a damaged file.
    """
    from .checkpoint import describe

    own = model.state_dict()
    rep = compare(own, state, source)
    for k, v in own.items():  # integers for a float weight: a damaged file, not another network
        w = state.get(k)
        if isinstance(w, torch.Tensor) and tuple(w.shape) == tuple(v.shape) \
                and w.is_floating_point() != v.is_floating_point():
            kind = "floating-point" if v.is_floating_point() else "integer"
            raise CheckpointError(f"checkpoint {source!r} cannot be used: checkpoint.model[{k!r}]: "
                                  f"expected {kind} values, got {describe(w)}")
    if own and not rep.loaded:
        first = "; ".join(rep.lines()[1:4])
        raise CheckpointError(f"none of the weights in {source!r} fit this network (no block "
                              f"with the same name and shape): {first}")
    with torch.no_grad():
        for k, _s in rep.loaded:
            own[k].copy_(state[k])
    return rep


def pretrained_start(code, seed: int, path) -> tuple[torch.nn.Module, TransferReport]:
    """The model a run started from ``path``'s weights (``init_weights``) begins
    with, before its first step: initialised as the engine initialises it
    (seeded with the run's seed), then :func:`transfer`.  The global random
    state is left as it was (the window calls this for File → Export → Weights).

    Args:
        code: the network's :class:`~codegen.source.GeneratedCode`.
        seed: the run's seed (``training.seed``).
        path: the checkpoint.

    Raises:
        CheckpointError: as :func:`transfer`, or the file cannot be read.
    """
    from codegen.compile import instantiate

    from .checkpoint import load_checkpoint

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = instantiate(code)
    return model, transfer(model, load_checkpoint(path)["model"], str(path))
