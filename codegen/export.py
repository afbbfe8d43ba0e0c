"""Exports: the model file, the training script, weights, ONNX.

* :func:`write_model` — the standalone ``.py`` file (only torch beyond the
  standard library), written atomically;
* :func:`write_training_script` — ``<model>_train.py`` next to it;
* :func:`save_weights` / :func:`load_weights` — a ``state_dict`` with
  ``torch.save`` (read back with ``weights_only=True``), or safetensors when
  the path ends in ``.safetensors`` and the package is installed;
* :func:`export_onnx` — behind the ``onnx`` extra.
"""

from __future__ import annotations

import os
from pathlib import Path

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
        first = code.inputs[0] if code.inputs else None
        tt = an.output_type(first) if first is not None else None
    finally:
        an.close()
    shape = tuple(tt.shape[1:]) if tt is not None else ()
    dtype = tt.dtype if tt is not None else "float32"
    script = training_script_path(model_path)
    src = render(Path(model_path).name, code.class_name, script.name, shape, dtype, training,
                 project_dir)
    _atomic_write(script, src)
    return script


def save_weights(model, path: str | os.PathLike) -> Path:
    """Save a model's ``state_dict``: safetensors for ``*.safetensors``, else ``torch.save``.

    Raises:
        ExportError: ``.safetensors`` asked for but the package is not installed.
        FileSaveError: the file cannot be written (e.g. its folder does not exist).
    """
    import torch

    path = Path(path)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if path.suffix == ".safetensors":
        try:
            from safetensors.torch import save_file
        except ImportError:
            raise ExportError(SAFETENSORS_MISSING) from None
        atomic_save(path, lambda tmp: save_file(state, tmp))
    else:
        atomic_save(path, lambda tmp: torch.save(state, tmp))
    return path


def load_weights(path: str | os.PathLike) -> dict:
    """A ``state_dict`` from a weights file or a training checkpoint (never unpickled code).

    Raises:
        ExportError: the file cannot be read as weights.
    """
    import pickle

    import torch

    path = Path(path)
    if path.suffix == ".safetensors":
        try:
            from safetensors.torch import load_file
        except ImportError:
            raise ExportError(SAFETENSORS_MISSING) from None
        try:
            return load_file(str(path))
        except (OSError, ValueError, RuntimeError) as exc:
            raise ExportError(f"cannot read weights from {path}: {exc}") from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError, EOFError, pickle.UnpicklingError) as exc:
        raise ExportError(f"cannot read weights from {path}: {exc}") from None
    for key in ("model", "state_dict", "model_state"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ExportError(f"{path} holds no state_dict (a mapping of names to tensors)")
    return obj


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
