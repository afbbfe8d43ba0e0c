"""The model file to import and its inputs: running the file, finding its model
class, and the input shapes (given as text, or read from generated code's
docstring).

Importing from a file executes that file: an explicit user action, never
done when a project is opened.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from graph import dims

from .import_checks import ModelImportError


_DOC_INPUT = re.compile(r"^\s*Input (\w+): ([^(]+?) \((float32|int64)\)\s*$", re.M)


def parse_shape(text: str) -> list:
    """``"1,8,8"`` or ``"1x8x8"`` (a name such as ``T`` for a variable size) → ``[1, 8, 8]``.

    Raises:
        ValueError: an empty entry, with an example of what is expected.
    """
    parts = [p.strip() for p in text.replace("×", ",").split(",")]
    if len(parts) == 1 and _NUMBERS_BY_X.match(parts[0]):  # "1x8x8": x only between numbers
        parts = [p.strip() for p in parts[0].split("x")]
    if not all(parts):
        raise ValueError(f"{text!r}: write sizes separated by commas, e.g. 1,8,8")
    bad = [p for p in parts if not p.isdigit() and not dims.is_valid_name(p)]
    if bad:
        raise ValueError(f"{text!r}: {bad[0]!r} is neither a size nor a name such as T; "
                         "write sizes separated by commas, e.g. 1,8,8 or T,16")
    return [int(p) if p.isdigit() else p for p in parts]


_NUMBERS_BY_X = re.compile(r"^\d+(\s*x\s*\d+)+$")


def load_module(path: str | Path, class_name: str | None = None):
    """Execute a Python file and instantiate its model class (no arguments)."""
    import torch

    path = Path(path)
    spec = importlib.util.spec_from_file_location(f"netcanvas_import_{abs(hash(path))}", path)
    if spec is None or spec.loader is None:
        raise ModelImportError(f"{path} is not a Python file")
    mod = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(mod)
    except Exception as exc:  # the user's code may raise anything
        raise ModelImportError(f"running {path.name} failed: {type(exc).__name__}: {exc}") from None
    classes = [v for k, v in vars(mod).items() if isinstance(v, type)
               and issubclass(v, torch.nn.Module) and v.__module__ == mod.__name__]
    if class_name is None:
        listed = [c for c in classes if c.__name__ in getattr(mod, "__all__", ())]
        pick = listed or classes
        if len(pick) != 1:
            names = ", ".join(c.__name__ for c in pick) or "none"
            raise ModelImportError(f"{path.name}: name the model class to import (found: {names})")
        cls = pick[0]
    else:
        cls = getattr(mod, class_name, None)
        if cls not in classes:
            raise ModelImportError(f"{path.name} defines no nn.Module class {class_name!r}")
    try:
        return cls()
    except Exception as exc:
        raise ModelImportError(f"{cls.__name__}() failed (it must be buildable without "
                               f"arguments): {type(exc).__name__}: {exc}") from None


def doc_inputs(cls) -> list[tuple[tuple, str]] | None:
    """Input shapes from a generated class docstring (``Input x: N×4 (float32)``)."""
    found = _DOC_INPUT.findall(cls.__doc__ or "")
    if not found:
        return None
    out = []
    for _, shape, dtype in found:
        parts = [p.strip() for p in shape.split("×")][1:]
        out.append((tuple(int(p) if p.isdigit() else p for p in parts), dtype))
    return out
