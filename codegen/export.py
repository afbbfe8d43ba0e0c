"""Exports: the model file, the training script, weights, ONNX.

* :func:`write_model` — the standalone ``.py`` file (only torch beyond the
  standard library), written atomically;
* :func:`write_training_script` — ``<model>_train.py`` next to it;
* :func:`save_weights` / :func:`load_weights` — a ``state_dict`` with
  ``torch.save`` (read back with ``weights_only=True``), or safetensors when
  the path ends in ``.safetensors`` and the package is installed; a file
  that cannot be read is an :class:`ExportError` whose message never passes
  on torch's advice to load with ``weights_only=False`` (:func:`load_problem`);
  :func:`load_into` puts them into a model, and :func:`weights_mismatch`
  names the keys and shapes that differ when they do not fit;
* :func:`export_onnx` — behind the ``onnx`` extra.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path
from typing import Mapping

from graph import Graph, analyze, dims
from graph.fileio import atomic_save, atomic_write

from .errors import CodegenError
from .source import GeneratedCode, generate
from .training_script import render

ONNX_MISSING = ("ONNX export needs the optional onnx packages; install them with "
                "pip install 'netcanvas[onnx]' (onnx and onnxscript)")
SAFETENSORS_MISSING = ("saving as .safetensors needs the safetensors package; install it with "
                       "pip install 'netcanvas[safetensors]', or use a .pt file name")


class ExportError(CodegenError):
    """An export cannot be written (missing optional package, unreadable weights, ...)."""


def _atomic_write(path: Path, text: str) -> None:
    # graph's crash-safe write: umask-respecting mode, and an error that names
    # the missing folder rather than a temporary file
    atomic_write(path, text.encode("utf-8"), backup=False)


def write_model(graph: Graph, path: str | os.PathLike, project_name: str = "Network",
                training: dict | None = None) -> GeneratedCode:
    """Write the model as a standalone Python file.

    Raises:
        CodegenError: the graph has errors.
        FileSaveError: the file cannot be written (the message names the reason,
            e.g. that its folder does not exist); nothing is left behind.
    """
    code = generate(graph, project_name, training)
    _atomic_write(Path(path), code.source)
    return code


def training_script_path(model_path: str | os.PathLike) -> Path:
    """``model.py`` → ``model_train.py`` (same folder)."""
    p = Path(model_path)
    return p.with_name(f"{p.stem}_train.py")


def write_training_script(graph: Graph, code: GeneratedCode, model_path: str | os.PathLike,
                          training: dict | None = None,
                          project_dir: str | os.PathLike | None = None) -> Path:
    """Write the standalone training script next to an exported model file.

    Args:
        project_dir: the project file's folder: a relative CSV/NPZ/image-folder
            path is resolved against it (the script's ``--data`` overrides it).

    Returns:
        The script's path.
    """
    an = analyze(graph, training)
    try:
        # every Input in the order the model takes them (its forward's arguments)
        inputs = []
        for nid in code.inputs:
            tt = an.output_type(nid)
            inputs.append((nid, tuple(tt.shape[1:]) if tt is not None else (),
                           tt.dtype if tt is not None else "float32"))
    finally:
        an.close()
    shape, dtype = (inputs[0][1], inputs[0][2]) if inputs else ((), "float32")
    script = training_script_path(model_path)
    src = render(Path(model_path).name, code.class_name, script.name, shape, dtype, training,
                 project_dir, inputs or None, [n.id for n in graph.ends("output")] or None)
    _atomic_write(script, src)
    return script


def save_weights(model, path: str | os.PathLike) -> Path:
    """Save a model's ``state_dict``: safetensors for ``*.safetensors``, else ``torch.save``.

    Raises:
        ExportError: ``.safetensors`` asked for but the package is not installed, or
            the writer failed (torch reports a full disk as a RuntimeError).
        FileSaveError: the file cannot be written (e.g. its folder does not exist).
    """
    import torch

    path = Path(path)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    failures: tuple = (RuntimeError,)  # torch's zip writer reports a full disk so
    if path.suffix == ".safetensors":
        try:
            from safetensors import SafetensorError
            from safetensors.torch import save_file
        except ImportError:
            raise ExportError(SAFETENSORS_MISSING) from None
        failures += (SafetensorError,)
        write = lambda tmp: save_file(state, tmp)  # noqa: E731
    else:
        write = lambda tmp: torch.save(state, tmp)  # noqa: E731
    try:
        atomic_save(path, write)
    except failures as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExportError(f"cannot write {path}: {text} (is the disk full?)") from None
    return path


def load_problem(exc: BaseException) -> str:
    """What went wrong in ``torch.load``, in one line, for a person.

    torch's message for a refused object is a page of advice whose first
    remedy is to load with ``weights_only=False``, which would run code from
    the file (``quality.md`` R8): only the reason is kept (``Unsupported global:
    GLOBAL os.system``), and no sentence that mentions ``weights_only`` or
    trusting the file's source is passed on.
    """
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    marker = "WeightsUnpickler error:"
    if marker in text:
        rest = [ln.strip() for ln in text.split(marker, 1)[1].splitlines() if ln.strip()]
        reason = rest[0].split(". ")[0] if rest else ""
    else:
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        reason = lines[0] if lines else ""
    kept = [s for s in re.split(r"(?<=[.;])\s+", reason)
            if "weights_only" not in s and "trust" not in s]
    return " ".join(kept).strip().rstrip(".") or type(exc).__name__


def unpickler_refusal(exc: BaseException) -> str:
    """Why the safe loader refused a file, as the end of a sentence."""
    reason = load_problem(exc)
    if reason.startswith("Unsupported global"):
        return ("it holds objects other than tensors and plain values, and loading it could "
                f"run code ({reason})")
    return f"it holds data the safe loader does not read ({reason})"


def _safetensors_problem(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    prefix = "Error while deserializing header: "
    if text.startswith(prefix):
        detail = text[len(prefix):].split(", expected one of")[0]
        return f"it is not a complete safetensors file (its header is damaged: {detail})"
    return text


def load_weights(path: str | os.PathLike) -> dict:
    """A ``state_dict`` from a weights file or a training checkpoint (never unpickled code).

    Raises:
        ExportError: the file cannot be read as weights; the message says why.
    """
    import pickle

    import torch

    path = Path(path)
    if not path.exists():
        raise ExportError(f"cannot read weights from {path}: the file does not exist")
    if not path.is_file():
        what = "a folder" if path.is_dir() else "not a regular file"
        raise ExportError(f"cannot read weights from {path}: it is {what}")
    if path.suffix == ".safetensors":
        try:
            from safetensors import SafetensorError
            from safetensors.torch import load_file
        except ImportError:
            raise ExportError(SAFETENSORS_MISSING) from None
        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError, RuntimeError, TypeError) as exc:
            raise ExportError(f"cannot read weights from {path}: "
                              f"{_safetensors_problem(exc)}") from None
    archive = zipfile.is_zipfile(path)  # torch.save's format; else a legacy file, or not one
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if not archive:
            raise ExportError(f"cannot read weights from {path}: it is not a PyTorch "
                              f"weights or checkpoint file ({load_problem(exc)})") from None
        raise ExportError(f"cannot read weights from {path}: {unpickler_refusal(exc)}"
                          ) from None
    except (OSError, RuntimeError, ValueError, EOFError, KeyError, IndexError, TypeError,
            AttributeError, MemoryError, zipfile.BadZipFile) as exc:
        # a damaged archive fails in many places inside torch's reader
        raise ExportError(f"cannot read weights from {path}: {load_problem(exc)}") from None
    for key in ("model", "state_dict", "model_state"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                            for k, v in obj.items()):
        raise ExportError(f"{path} holds no state_dict (a mapping of names to tensors)")
    return obj


def weights_mismatch(network: Mapping[str, object], found: Mapping[str, object],
                     limit: int = 3) -> str | None:
    """What keeps a ``state_dict`` from loading into a network, in words.

    Names the first missing, unexpected and mismatched keys with their shapes,
    e.g. ``missing conv2d_2.weight [16, 8, 3, 3]; unexpected stem.weight
    [16, 1, 3, 3]; shape mismatch fc.weight: file [10, 32] vs network [10, 64]
    (and 3 more)``.

    Args:
        network: the model's ``state_dict()`` (tensors, or anything with ``shape``).
        found: the weights read from a file.
        limit: how many keys to name (at least one of each kind found).

    Returns:
        The phrase, or None when every key is there with its shape.
    """
    kinds: dict[str, list[str]] = {
        "missing": [f"{k} {_dims(v)}" for k, v in network.items() if k not in found],
        "unexpected": [f"{k} {_dims(v)}" for k, v in found.items() if k not in network],
        "shape mismatch": [f"{k}: file {_dims(found[k])} vs network {_dims(v)}"
                           for k, v in network.items()
                           if k in found and _dims(found[k]) != _dims(v)]}
    total = sum(len(v) for v in kinds.values())
    if not total:
        return None
    # one of each kind first, then more in the same order, up to the limit
    shown = {kind: 0 for kind in kinds}
    budget = max(limit, sum(1 for v in kinds.values() if v))
    while budget > 0 and sum(shown.values()) < total:
        for kind, items in kinds.items():
            if budget > 0 and shown[kind] < len(items):
                shown[kind] += 1
                budget -= 1
    parts = [f"{kind} {', '.join(kinds[kind][:n])}" for kind, n in shown.items() if n]
    rest = total - sum(shown.values())
    return "; ".join(parts) + (f" (and {rest} more)" if rest else "")


def _dims(t) -> str:
    return "[" + ", ".join(str(int(d)) for d in getattr(t, "shape", ())) + "]"


def load_into(model, state: Mapping[str, object], source: str) -> None:
    """Load weights into a model, refusing with the keys that differ.

    Args:
        model: the ``nn.Module``.
        state: the weights (:func:`load_weights`).
        source: the file, for the message.

    Raises:
        ExportError: ``the weights in FILE do not fit this network: missing ...``.
    """
    problem = weights_mismatch(model.state_dict(), state)
    if problem:
        raise ExportError(f"the weights in {source} do not fit this network: {problem}")
    model.load_state_dict(state)


def example_inputs(graph: Graph, code: GeneratedCode, batch: int = 2) -> tuple:
    """Random tensors for forward's arguments (variable sizes at their nominal value)."""
    import torch

    an = analyze(graph)
    try:
        args = []
        for nid in code.inputs:
            tt = an.output_type(nid)
            shape = [batch] + [dims.nominal(d) for d in tt.shape[1:]]
            args.append(torch.randint(0, 2, shape) if tt.dtype == "int64" else torch.randn(shape))
        return tuple(args)
    finally:
        an.close()


def export_onnx(model, graph: Graph, code: GeneratedCode, path: str | os.PathLike) -> Path:
    """Export to ONNX (needs the ``onnx`` extra).

    Raises:
        ExportError: onnx is not installed, or torch cannot export the model.
    """
    try:
        import onnx  # noqa: F401  (torch's exporter needs it)
    except ImportError:
        raise ExportError(ONNX_MISSING) from None
    import torch

    model.eval()
    args = example_inputs(graph, code)
    try:
        torch.onnx.export(model, args, str(path), input_names=code.arg_names,
                          dynamo=False)
    except Exception as exc:  # torch's exporter raises many unrelated types
        raise ExportError(f"ONNX export failed: {exc}") from None
    return Path(path)
