"""The standalone training script written next to an exported model.

:func:`render` fills :data:`~codegen.training_template.TEMPLATE` with the model
file's name, the class name, the input's sample shape, the dataset's place and
the project's ``training`` section (as a Python literal made with ``pprint``,
so user text appears only as ``repr``).

The script never imports NetCanvas, yet its data are the app's: the dataset
code it needs (the generators of :mod:`runtime.data.synthetic`, the readers of
:mod:`runtime.data.tabular`, :mod:`runtime.data.npz` and
:mod:`runtime.data.images`, and the split of :mod:`runtime.data.prepare`) is
copied into it, verbatim, from those modules' source at export time, so there
is one definition of each dataset and the same seed gives the same samples.
With ``torchrun`` (``WORLD_SIZE`` > 1) it trains with ``DistributedDataParallel``
and a ``DistributedSampler``.
"""

from __future__ import annotations

import ast
import inspect
import math
import os
import pprint
import re
from pathlib import Path

from graph.training_check import first_error_text, per_output, training_errors

from .errors import CodegenError
from .training_template import LOAD_BUILTIN, LOAD_FILE, TEMPLATE

#: What the script copies from runtime/data, per module: top-level names in
#: file order, or None for every definition (imports and docstring left out)
#: but the editor's header readers, which a script never calls.
_ALWAYS = (("graph.humanize", ("_PREFIXES", "_scaled", "size")),
           ("runtime.memory", ("available_memory",)),
           ("prepare", ("FLOAT32_MAX", "check_float32", "check_arrays", "encode_labels", "_name",
                        "finish")))
_BY_SOURCE = {
    "generated": (("synthetic", None),),
    "real": (("tabular", ("_SKLEARN", "real")),),
    "csv": (("tabular", ("MAX_NUMERIC_CLASSES", "_decode", "_parse", "_target_column",
                         "_read_rows", "_number", "read_csv", "_target")),),
    "npz": (("npz", None),),
    "image_folder": (("images", None),),
}
FILE_SOURCES = ("csv", "npz", "image_folder")
#: Documented settings the script does not apply yet: refused, never silently dropped.
_UNSUPPORTED = {
    "augment": "the training script does not apply data augmentation yet; remove augment "
               "(or set it to null) to export one",
    "loss_weights": "the training script trains one loss; remove loss_weights to export one",
}


def refusal(training, graph=None) -> str | None:
    """Why no training script can be written for this ``training`` section, or None.

    The section's first problem (:mod:`graph.training_check`; with the graph,
    also the Output ids it names), or a documented setting the script does not
    apply yet.  :func:`render` refuses with it; the ``export`` command asks
    first, so that it writes nothing rather than the model alone.
    """
    errors = training_errors(training, graph)
    if errors:
        return first_error_text(errors)
    t = training if isinstance(training, dict) else {}
    for key, why in _UNSUPPORTED.items():
        if t.get(key):
            return f"training.{key}: {why}"
    if per_output(t.get("loss")):
        return ("training.loss: the training script trains one loss; a loss per Output is "
                "not supported there yet")
    return None


def _module_path(module_name: str) -> str:
    """``"prepare"`` → ``"runtime.data.prepare"``; a dotted name is already whole."""
    return module_name if "." in module_name else f"runtime.data.{module_name}"


def _definitions(module_name: str, names: tuple[str, ...] | None) -> list[tuple[str, str]]:
    """``(name, source)`` of a runtime.data module's top-level definitions."""
    import importlib

    module = importlib.import_module(_module_path(module_name))
    text = inspect.getsource(module)
    found = []
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            name = node.name
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if not isinstance(target, ast.Name):
                continue
            name = target.id
        else:
            continue  # the docstring and the imports
        if name in names if names is not None else not name.endswith("_sample_shape"):
            if getattr(node, "decorator_list", None):
                raise CodegenError(f"internal error: cannot copy decorated {name}")
            found.append((name, ast.get_source_segment(text, node)))
    missing = set(names or ()) - {n for n, _ in found}
    if missing:
        raise CodegenError(f"internal error: {_module_path(module_name)} has no "
                           f"{', '.join(sorted(missing))} to copy into the training script")
    return found


def data_code(source: str) -> str:
    """The dataset code the script needs for one kind of ``source``
    (``"generated"``, ``"real"``, ``"csv"``, ``"npz"`` or ``"image_folder"``)."""
    seen: set[str] = set()
    blocks = []
    for module_name, names in _ALWAYS + _BY_SOURCE[source]:
        defs = _definitions(module_name, names)
        for name, _ in defs:
            if name in seen:
                raise CodegenError(f"internal error: {name} is defined twice in the dataset code")
            seen.add(name)
        body = "\n\n\n".join(src for _, src in defs)
        blocks.append(f"# {_module_path(module_name).replace('.', '/')}.py\n{body}")
    return "\n\n\n".join(blocks)


def _builtin_table() -> tuple[dict, tuple]:
    from runtime.data.catalog import REAL, builtin_catalog

    table = {name: {"n": info.default_n, "task": info.task, "num_classes": info.num_classes,
                    "options": dict(info.options)}
             for name, info in builtin_catalog().items()}
    return table, tuple(REAL)


def _source(dataset) -> str:
    """Which kind of dataset the training section names."""
    if isinstance(dataset, dict):
        for kind in FILE_SOURCES:
            if kind in dataset:
                return kind
        name = dataset.get("name", "digits")
    else:
        name = "digits"
    table, real = _builtin_table()
    if name not in table:
        raise CodegenError(f"training.dataset.name: no built-in dataset {name!r}")
    return "real" if name in real else "generated"


def _data_path(dataset, kind: str, project_dir: str | os.PathLike | None) -> str | None:
    """The dataset file or folder, absolute when the project's folder is known."""
    if kind not in FILE_SOURCES:
        return None
    path = dataset[kind]
    if not isinstance(path, str) or not path:
        raise CodegenError(f"training.dataset.{kind}: must be a file path, got {path!r}")
    p = Path(path).expanduser()
    if not p.is_absolute() and project_dir is not None:
        p = Path(project_dir).resolve() / p
    return str(p)


def _literal(value, where: str = "training") -> str:
    """A Python literal for JSON data (refusing what has none, e.g. NaN)."""
    def check(v, at):
        if isinstance(v, float) and not math.isfinite(v):
            raise CodegenError(f"{at}: {v!r} cannot be written into the training script")
        if isinstance(v, dict):
            for k, x in v.items():
                if not isinstance(k, str):
                    raise CodegenError(f"{at}: key {k!r} is not a string")
                check(x, f"{at}.{k}")
        elif isinstance(v, (list, tuple)):
            for i, x in enumerate(v):
                check(x, f"{at}[{i}]")
        elif not isinstance(v, (str, int, float, bool, type(None))):
            raise CodegenError(f"{at}: a {type(v).__name__} cannot be written into the script")
    check(value, where)
    return pprint.pformat(value, width=88, sort_dicts=False)


def render(model_file: str, class_name: str, script_name: str, input_shape, input_dtype: str,
           training: dict | None, project_dir: str | os.PathLike | None = None) -> str:
    """The training script's source.

    Args:
        model_file: file name of the exported model, next to the script.
        class_name: the model class (a safe identifier).
        script_name: the script's own file name (for its usage text).
        input_shape: the first Input's sample shape (ints or size names).
        input_dtype: ``"float32"`` or ``"int64"``.
        training: the project's ``training`` section.
        project_dir: the project file's folder, against which relative dataset
            paths are resolved (project-format.md); None leaves them relative
            to the folder the script is run from.

    Raises:
        CodegenError: the training section has a problem
            (:mod:`graph.training_check`: the first is named), holds a setting
            the script does not handle yet, or names a dataset that does not exist.
    """
    why = refusal(training)
    if why is not None:
        raise CodegenError(why)
    training = dict(training or {})
    dataset = training.get("dataset") or {"name": "digits"}
    kind = _source(dataset)
    if kind in FILE_SOURCES:
        load = LOAD_FILE.replace("__KIND__", repr(kind))
    else:
        table, real = _builtin_table()
        load = LOAD_BUILTIN.replace("__BUILTIN__", _literal(table, "catalog")).replace(
            "__REAL__", repr(real))
    safe_doc = "".join(c for c in f"{script_name}" if c.isalnum() or c in "._-") or "train.py"
    fills = {
        "__MODEL_FILE__": repr(str(model_file)),
        "__CLASS_REPR__": repr(class_name),
        "__CLASS__": class_name,
        "__SCRIPT__": safe_doc,
        "__INPUT_SHAPE__": repr(tuple(input_shape)),
        "__INPUT_DTYPE__": repr(input_dtype),
        "__DATA_PATH__": repr(_data_path(dataset, kind, project_dir)),
        "__CONFIG__": _literal(training),
        "__DATA_CODE__": data_code(kind),
        "__LOAD_DATA__": load,
    }
    # one pass, so a filled-in value is never itself searched for placeholders
    src = re.sub("|".join(re.escape(k) for k in fills), lambda m: fills[m.group(0)], TEMPLATE)
    compile(src, script_name, "exec")  # a template bug must never ship a broken script
    return src
