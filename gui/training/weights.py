"""Trained weights loaded back into the model from a run's checkpoint.

:class:`LoadedWeights` is what the document carries after Runs → Load
weights: which run and checkpoint, its epoch and file, and the *layout* of the
network the weights were trained on (parameter count per layer, by node name,
as the analysis counted it).  The next Start trains from these weights (the
run spec's ``init_weights``) and File → Export → Weights writes them.

The weights belong to layers by name (the generated module's attribute names
come from the node names) and the engine refuses a checkpoint whose layers do
not match; :func:`mismatches` says the same in words as soon as an edit
breaks the match, from the layouts alone.  :func:`checkpoint_problem` reads
the checkpoint once, when it is loaded, so that a damaged or foreign file is
said then (with the field at fault), not at the next Start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class LoadedWeights:
    """Weights taken from a run.

    Attributes:
        run_id: the run (``"run 2"``).
        which: ``"best"`` or ``"last"``.
        epoch: the epoch the checkpoint holds (None: unknown).
        path: the checkpoint file.
        layout: :func:`weight_layout` of the network the run trained.
        report: for weights from a file (``which == "file"``), the
            :class:`~runtime.weight_transfer.TransferReport` of loading them
            into the network as it was then: they load by name and shape
            (pretraining), so an edit never makes them refused.
    """

    run_id: str
    which: str
    epoch: int | None
    path: Path
    layout: dict = field(default_factory=dict)
    report: object = None

    @property
    def partial(self) -> bool:
        """Loaded by name and shape (a file), not required to fit whole (a run)."""
        return self.which == "file"

    def describe(self) -> str:
        """``run 2 (best, epoch 14)``; ``pretrained.pt (epoch 5)`` for a file."""
        at = f", epoch {self.epoch}" if self.epoch is not None else ""
        if self.partial:
            return f"{self.run_id}" + (f" (epoch {self.epoch})" if self.epoch is not None else "")
        return f"{self.run_id} ({self.which}{at})"


def weight_layout(graph, analyzer) -> dict[str, tuple[str, int | None]]:
    """Node name → (block type, parameter count) of every layer with weights.

    A layer whose count is unknown (the analysis stopped at a problem) has None.
    """
    out: dict[str, tuple[str, int | None]] = {}
    for nid, node in graph.nodes.items():
        r = analyzer.results.get(nid)
        known = r is not None and r.ok
        n = r.n_params if known else None
        has_weights = bool(n) or (n is None and node.spec is not None and node.spec.weights)
        if has_weights:
            out[node.name] = (node.type, n)
    return out


def mismatches(trained: dict, current: dict) -> list[str]:
    """What keeps weights of layout ``trained`` from loading into ``current``,
    one phrase per layer (empty: they fit as far as can be told)."""
    out = []
    for name, (kind, n) in trained.items():
        if name not in current:
            out.append(f'"{name}" ({kind}) is no longer in the network (removed or renamed)')
            continue
        kind2, n2 = current[name]
        if kind2 != kind:
            out.append(f'"{name}" is now a {kind2} (the weights are for a {kind})')
        elif n is not None and n2 is not None and n != n2:
            out.append(f'"{name}" ({kind}) has {n2:,} parameters; the weights hold {n:,}')
    for name, (kind, _n) in current.items():
        if name not in trained:
            out.append(f'"{name}" ({kind}) has no weights in them')
    return out


def checkpoint_problem(path) -> str | None:
    """Why the checkpoint at ``path`` cannot give weights, in words (None: it can).

    Reads it as the engine will (:func:`runtime.checkpoint.load_checkpoint`:
    ``weights_only`` and every field checked), so torch is imported here.  A
    field at fault is said first (``checkpoint.epoch: expected ...``): the
    caller names the file, whose full path would crowd out the reason.
    """
    from runtime.checkpoint import load_checkpoint
    from runtime.errors import CheckpointError, CheckpointFieldError

    try:
        load_checkpoint(path)
    except CheckpointFieldError as exc:
        return f"{exc.field}: {exc.problem}"
    except CheckpointError as exc:
        return str(exc)
    return None
