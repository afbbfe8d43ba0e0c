"""Checkpoints: written atomically, read without unpickling code.

A checkpoint is one ``torch.save`` file holding only tensors and plain
containers (dict, list, tuple, str, int, float, bool, None), so it is read
with ``torch.load(weights_only=True)`` and never needs the unsafe loader
(``quality.md`` R8).  Keys:

``format`` ("netcanvas-checkpoint"), ``version``, ``model`` (state_dict),
``optimizer``, ``scheduler``, ``scaler``, ``rng`` (torch CPU/CUDA and the
shuffling generator's states), ``epoch`` (completed epochs), ``step``
(steps so far), ``planned_epochs`` (the run's epochs), ``partial`` (stopped
inside an epoch), ``history`` (per-epoch metrics), ``step_losses``,
``best`` (monitor, value, epoch, bad_epochs), ``project`` (the project
document, a dict), ``training`` (the settings of the file).  A partial
checkpoint also holds ``epoch_state`` (the stopped epoch's permutation
``perm``, ``step``, ``losses``, ``seconds``, ``batch_size``, ``norms`` and
running ``meter_total``/``meter_count``) and, when stopped inside a gradient
accumulation, ``grads`` (per parameter, None where none): see
:mod:`runtime.resume`.

Files are written to a temporary name in the same folder and moved into
place with ``os.replace``, so a crash leaves the old file whole.  Where
``safetensors`` is installed the weights are also written as
``<name>.safetensors``.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import torch

from graph.fileio import atomic_save

from .errors import CheckpointError

FORMAT = "netcanvas-checkpoint"
VERSION = 1


def save_checkpoint(path: str | os.PathLike, state: dict) -> Path:
    """Write a checkpoint atomically (plus ``.safetensors`` weights where installed).

    Args:
        path: the ``.pt`` file to write.
        state: the checkpoint's content (see the module docstring); ``format``
            and ``version`` are added.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"format": FORMAT, "version": VERSION, **state}
    atomic_save(path, lambda tmp: torch.save(doc, tmp))
    try:
        from safetensors.torch import save_file
    except ImportError:
        return path
    weights = {k: v.detach().contiguous().cpu().clone() for k, v in state["model"].items()}
    atomic_save(path.with_suffix(".safetensors"), lambda tmp: save_file(weights, tmp))
    return path


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint with ``torch.load(weights_only=True)`` onto the CPU.

    Raises:
        CheckpointError: the file is missing, unreadable, holds objects other
            than tensors and plain containers, or is not a NetCanvas checkpoint.
    """
    path = Path(path)
    if path.is_file() and not zipfile.is_zipfile(path):
        # torch.save writes a zip; anything else would reach the pickle reader
        raise CheckpointError(f"checkpoint {str(path)!r} cannot be read: it is not a PyTorch "
                              "checkpoint file")
    try:
        doc = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise CheckpointError(f"checkpoint {str(path)!r} is a folder, not a file") from None
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"checkpoint {str(path)!r} was refused: it holds objects other than tensors "
            f"and plain values, and loading it could run code ({_unpickler_reason(exc)})"
        ) from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError) as exc:
        raise CheckpointError(f"checkpoint {str(path)!r} cannot be read: "
                              f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                              ) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(f"{str(path)!r} is not a NetCanvas checkpoint")
    if doc.get("version", 0) > VERSION:
        raise CheckpointError(f"checkpoint {str(path)!r} has version {doc.get('version')}; "
                              f"this program reads version {VERSION}")
    return doc


def _unpickler_reason(exc: Exception) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    for k, ln in enumerate(lines):
        if ln.startswith("WeightsUnpickler error:"):
            rest = ln[len("WeightsUnpickler error:"):].strip() or \
                (lines[k + 1] if k + 1 < len(lines) else "")
            return rest.split(". ")[0]
    return lines[0] if lines else type(exc).__name__


def load_weights(model: torch.nn.Module, state: dict, path: str = "the checkpoint") -> None:
    """Load a state_dict strictly, with a message naming what does not match.

    Raises:
        CheckpointError: missing or unexpected weights, or a shape differs.
    """
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    wrong = [f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}" for k, v in own.items()
             if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if missing or extra or wrong:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing[:5]))
        if extra:
            parts.append("unexpected " + ", ".join(extra[:5]))
        if wrong:
            parts.append("different shapes " + ", ".join(wrong[:5]))
        raise CheckpointError(f"{path} does not match this network ({'; '.join(parts)}); "
                              "was it saved from a different graph?")
    model.load_state_dict(state)
