"""Checkpoints: written atomically, read without unpickling code.

A checkpoint is one ``torch.save`` file holding only tensors and plain
containers (dict, list, tuple, str, int, float, bool, None), so it is read
with ``torch.load(weights_only=True)`` and never needs the unsafe loader
(``quality.md`` R8).  Keys:

``format`` ("netcanvas-checkpoint"), ``version``, ``model`` (state_dict),
``optimizer``, ``scheduler``, ``scaler``, ``rng`` (torch CPU/CUDA, the
shuffling generator's and, with ``training.augment``, the augmentation
generator's states), ``epoch`` (completed epochs), ``step``
(steps so far), ``planned_epochs`` (the run's epochs), ``partial`` (stopped
inside an epoch), ``history`` (per-epoch metrics), ``step_losses``,
``best`` (monitor, value, epoch, bad_epochs), ``project`` (the project
document, a dict), ``training`` (the settings of the file).  A partial
checkpoint also holds ``epoch_state`` (the stopped epoch's permutation
``perm``, ``step``, ``losses``, ``seconds``, ``batch_size``, ``norms`` and
running ``meter_total``/``meter_count``) and, when stopped inside a gradient
accumulation, ``grads`` (per parameter, None where none): see
:mod:`runtime.resume`.

Reading checks more than torch does: :func:`load_checkpoint` refuses a file
whose fields are not laid out as above (a missing ``model``, ``epoch:
"one"``, a 3-byte RNG state, ...), naming the field
(:mod:`runtime.checkpoint_schema`); no message passes on torch's advice to
load with ``weights_only=False``, which would run code from the file.

Files are written to a temporary name in the same folder and moved into
place with ``os.replace``, so a crash or a full disk leaves the old file whole
(a failed write is a :class:`~runtime.errors.CheckpointWriteError`).  Where
``safetensors`` is installed the weights are also written as
``<name>.safetensors``.  :func:`check_run_folder` finds, before training, a
run folder that cannot be created or written, or a disk without room for a
checkpoint.
"""

from __future__ import annotations

import errno
import os
import pickle
import shutil
import zipfile
from pathlib import Path

import torch

from codegen.export import load_problem, unpickler_refusal, weights_mismatch
from graph.fileio import atomic_save
from graph.humanize import size

from .checkpoint_schema import check_structure, describe
from .errors import CheckpointError, CheckpointFieldError, CheckpointWriteError, OutputFolderError

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

    Raises:
        CheckpointWriteError: the file cannot be written (the disk is full, the
            folder is gone or read-only); the previous file is left whole.
    """
    path = Path(path)
    doc = {"format": FORMAT, "version": VERSION, **state}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_save(path, lambda tmp: torch.save(doc, tmp))
        try:
            from safetensors.torch import save_file
        except ImportError:
            return path
        weights = {k: v.detach().contiguous().cpu().clone() for k, v in state["model"].items()}
        atomic_save(path.with_suffix(".safetensors"), lambda tmp: save_file(weights, tmp))
    except (OSError, RuntimeError) as exc:
        # torch's zip writer reports a full disk as a RuntimeError without errno
        raise CheckpointWriteError(f"could not write the checkpoint {str(path)!r}: "
                                   f"{_write_problem(exc, path.parent, _nbytes(doc))}") from None
    return path


def _nbytes(obj) -> int:
    """Bytes of the tensors in a (nested) checkpoint: about its size on disk."""
    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size()
    if isinstance(obj, dict):
        return sum(_nbytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_nbytes(v) for v in obj)
    return 0


def _free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def _write_problem(exc: BaseException, folder: Path, need: int) -> str:
    """Why a write failed, in words: the errno's text, else what the disk's free space says."""
    if isinstance(exc, OSError) and exc.errno is not None:
        if exc.errno == errno.ENOSPC:
            return "the disk is full (no space left on device)"
        return exc.strerror or str(exc)
    free = _free_bytes(folder)
    if free is not None and free < need + 2**20:
        return f"the disk is full ({size(free)} free, the checkpoint needs about {size(need)})"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def checkpoint_size(model: torch.nn.Module) -> int:
    """About the bytes one checkpoint of ``model`` takes: its weights, an optimizer's
    state of twice that (Adam's two moments), and the ``.safetensors`` copy."""
    weights = sum(v.numel() * v.element_size() for v in model.state_dict().values())
    return 4 * weights


def check_run_folder(folder: str | os.PathLike, need: int = 0) -> Path:
    """Make sure checkpoints can be written in ``folder``, before training starts.

    Creates the folder (and its parents), writes and removes a small probe
    file, and compares the disk's free space with ``need`` bytes.  Folders
    created here are removed again when the folder is refused.

    Raises:
        OutputFolderError: with the reason (a file is in the way, no permission,
            a read-only or full disk).
    """
    folder = Path(folder)
    shown = str(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputFolderError(f"the run folder {shown!r} is an existing file, not a "
                                "folder; choose another folder for the run")
    made = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in folder.parents if p.exists() and not p.is_dir()), None)
        why = f"{str(blocker)!r} is a file, not a folder" if blocker is not None else \
            exc.strerror or str(exc)
        raise OutputFolderError(f"the run folder {shown!r} cannot be created: {why}; "
                                "choose another folder for the run") from None
    probe = folder / f".netcanvas-write-test-{os.getpid()}"
    try:
        try:
            probe.write_bytes(b"NetCanvas checks that checkpoints can be written here\n")
        finally:
            if probe.exists():
                probe.unlink()
    except OSError as exc:
        _remove_made(made)
        why = _write_problem(exc, folder, need)
        raise OutputFolderError(f"the run folder {shown!r} cannot be written: {why}; "
                                "choose another folder for the run") from None
    free = _free_bytes(folder)
    if free is not None and need and free < need:
        _remove_made(made)
        raise OutputFolderError(f"the disk holding the run folder {shown!r} has {size(free)} "
                                f"free, and a checkpoint of this network needs about "
                                f"{size(need)}; free some space or choose another folder")
    return folder


def _remove_made(made: list[Path]) -> None:
    for p in made:  # innermost first: each is empty once its child is gone
        try:
            p.rmdir()
        except OSError:
            break


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint with ``torch.load(weights_only=True)`` onto the CPU, and check
    its fields (:func:`runtime.checkpoint_schema.check_structure`).

    Raises:
        CheckpointError: the file is missing, unreadable, holds objects other
            than tensors and plain containers, or is not a NetCanvas checkpoint.
        CheckpointFieldError: a field is missing or has the wrong type, shape or
            value; the message names it (``checkpoint.epoch: expected ...``).
    """
    path = Path(path)
    shown = str(path)
    if path.exists() and not path.is_file() and not path.is_dir():
        raise CheckpointError(f"checkpoint {shown!r} is not a regular file (a device or "
                              "a pipe); choose a .pt file")
    if path.is_file() and not zipfile.is_zipfile(path):
        # torch.save writes a zip; anything else would reach the pickle reader
        raise CheckpointError(f"checkpoint {shown!r} cannot be read: it is not a PyTorch "
                              "checkpoint file")
    try:
        doc = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {shown!r} does not exist") from None
    except IsADirectoryError:
        raise CheckpointError(f"checkpoint {shown!r} is a folder, not a file") from None
    except pickle.UnpicklingError as exc:
        raise CheckpointError(f"checkpoint {shown!r} was refused: {unpickler_refusal(exc)}"
                              ) from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError, KeyError,
            IndexError, TypeError, AttributeError, MemoryError) as exc:
        # a damaged archive fails in many places inside torch's reader
        raise CheckpointError(f"checkpoint {shown!r} cannot be read: {load_problem(exc)}"
                              ) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(f"{shown!r} is not a NetCanvas checkpoint")
    version = doc.get("version")
    if not (isinstance(version, int) and not isinstance(version, bool) and version >= 1):
        raise CheckpointFieldError("checkpoint.version", "expected a positive integer, got "
                                   f"{describe(version)}", shown)
    if version > VERSION:
        raise CheckpointError(f"checkpoint {shown!r} has version {version}; "
                              f"this program reads version {VERSION}")
    check_structure(doc, shown)
    return doc


def load_weights(model: torch.nn.Module, state: dict, path: str = "the checkpoint") -> None:
    """Load a state_dict strictly, with a message naming what does not match.

    Raises:
        CheckpointError: missing or unexpected weights, a shape differs, or a
            weight holds integers where the network has floats (or the reverse).
    """
    own = model.state_dict()
    problem = weights_mismatch(own, state)  # the first keys of each kind, with their shapes
    if problem:
        raise CheckpointError(f"the weights in {path} do not fit this network: {problem}; "
                              "was it saved from a different graph?")
    for k, v in own.items():
        if v.is_floating_point() != state[k].is_floating_point():
            kind = "floating-point" if v.is_floating_point() else "integer"
            raise CheckpointError(f"{path} cannot be used: checkpoint.model[{k!r}]: expected "
                                  f"{kind} values, got {describe(state[k])}")
    model.load_state_dict(state)
