"""The standalone training script written next to an exported model.

:func:`render` fills :data:`~codegen.training_template.TEMPLATE` with the model
file's name, the class name, the input's sample shape, the dataset's place and
the project's ``training`` section (as a Python literal made with ``pprint``,
so user text appears only as ``repr``).

The script never imports NetCanvas, yet its data are the app's: the public
function of :mod:`runtime.data` that reads the project's kind of dataset
(``builtin``, ``from_csv``, ``from_npz`` or ``from_image_folder``, by the name
:data:`runtime.data.READERS` gives) is copied into it verbatim at export time,
with every definition it uses (:func:`codegen.bundle.bundle`), so there is one
definition of each dataset and the same seed gives the same samples and split.
The script's docstring names what it needs to run: torch and numpy, plus
scikit-learn for the sets read from its bundled files and Pillow for an image
folder.  With ``torchrun`` (``WORLD_SIZE`` > 1) it trains with
``DistributedDataParallel`` and a ``DistributedSampler``; in one process it
draws each epoch's order as the engine does, so it trains on the app's batches.

With several Inputs or Outputs (project-format.md, "Several inputs and outputs
in training") the script reads an ``.npz`` by node id with the engine's own
:func:`runtime.data.node_arrays.load_node_arrays` (copied), trains one loss per
Output with a target (``loss`` by Output id, weighed by ``loss_weights``) and
prints, like ``train``, ``val_loss`` (the weighted sum) and per Output
``val_accuracy_<id>`` or ``val_mae_<id>``.
"""

from __future__ import annotations

import ast
import inspect
import math
import os
import pprint
import re
from pathlib import Path

from graph import training_names as vocab
from graph.training_check import first_error_text, training_errors

from .bundle import bundle
from .errors import CodegenError
from .training_template import LOAD_BUILTIN, LOAD_FILE, LOAD_NPZ, TEMPLATE

FILE_SOURCES = ("csv", "npz", "image_folder")
#: Defined by the template itself, not copied: the dataset containers and error
#: (plain classes, so the script also runs when executed in a bare namespace).
PROVIDED = ("Dataset", "DatasetError", "NodeDataset", "TargetArrays")
#: For an ``.npz`` file, also the reader of arrays by node id (``X_<input id>``,
#: ``y_<output id>``) and its test, copied as the engine calls them.
NODE_READERS = (("runtime.data.node_arrays", "holds_node_arrays"),
                ("runtime.data.node_arrays", "load_node_arrays"))
#: The reader's arguments the script fills itself (the others come from the settings).
_FILLED = ("path", "seed", "val_fraction")
#: Documented settings the script does not apply yet: refused, never silently dropped.
_UNSUPPORTED: dict[str, str] = {}


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
    return None


def _reader(kind: str):
    """The public function of :mod:`runtime.data` that reads a kind of source."""
    import runtime.data as data

    return getattr(data, data.READERS[kind])


def data_code(kind: str) -> str:
    """The dataset code the script needs for one kind of source (a key of
    :data:`runtime.data.READERS`): the reader, copied with what it uses."""
    fn = _reader(kind)
    extra = list(NODE_READERS) if kind == "npz" else []
    return bundle([(fn.__module__, fn.__name__), *extra], provided=PROVIDED)


def augment_code() -> str:
    """NetCanvas's augmentation (:func:`runtime.augment.augment_batch` and the
    generator it draws from), copied with what it uses, so the script changes
    its training batches exactly as the app does."""
    return bundle([("runtime.augment", "augment_batch"),
                   ("runtime.augment", "augment_generator")], provided=PROVIDED)


def _top_names(src: str) -> set[str]:
    """The names a module's top level defines."""
    out = set()
    for node in ast.parse(src).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                out.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
    return out


def _source(dataset) -> tuple[str, str | None]:
    """Which kind of source the training section names (a key of
    :data:`runtime.data.READERS`) and, for a built-in set, its name."""
    from runtime.data.catalog import builtin_catalog

    if isinstance(dataset, dict):
        for kind in FILE_SOURCES:
            if kind in dataset:
                return kind, None
        name = dataset.get("name", "digits")
    else:
        name = "digits"
    if name not in builtin_catalog():
        raise CodegenError(f"training.dataset.name: no built-in dataset {name!r}")
    return "name", name


def _needs(kind: str, name: str | None) -> list[str]:
    """The packages (pip names) the script imports for this dataset."""
    from runtime.data.catalog import REAL

    extra = {"image_folder": ["pillow"]}.get(kind, [])
    if name in REAL:
        extra = ["scikit-learn"]  # the bundled real sets are read from its files
    return ["torch", "numpy", *extra]


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
           training: dict | None, project_dir: str | os.PathLike | None = None,
           inputs: list | None = None, outputs: list[str] | None = None) -> str:
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
        inputs: the network's Inputs as ``(id, sample shape, dtype)``, in the
            order the model takes them (None: one, ``input_shape``/``input_dtype``).
        outputs: the network's Output ids, in the order the model returns
            them (None: one).  With several Inputs or Outputs the script reads
            the arrays by node id and trains one loss per Output, as the app.

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
    kind, name = _source(dataset)
    reader = _reader(kind)
    if kind in FILE_SOURCES:
        options = tuple(p for p in inspect.signature(reader).parameters if p not in _FILLED)
        load = (LOAD_NPZ if kind == "npz" else LOAD_FILE).replace(
            "__READER__", reader.__name__).replace("__OPTIONS__", repr(options))
    else:
        load = LOAD_BUILTIN
    ins = [(str(i), tuple(s), str(d)) for i, s, d in inputs] if inputs else [
        ("input", tuple(input_shape), input_dtype)]
    outs = [str(o) for o in outputs] if outputs else ["output"]
    needs = _needs(kind, name)
    code = data_code(kind)
    augment = augment_code() if training.get("augment") else ""
    clash = (_top_names(code) | _top_names(augment)) & (_top_names(TEMPLATE) | _top_names(load))
    if clash:
        raise CodegenError("internal error: the dataset code and the training script both "
                           f"define {', '.join(sorted(clash))}")
    safe_doc = "".join(c for c in f"{script_name}" if c.isalnum() or c in "._-") or "train.py"
    fills = {
        "__MODEL_FILE__": repr(str(model_file)),
        "__CLASS_REPR__": repr(class_name),
        "__CLASS__": class_name,
        "__SCRIPT__": safe_doc,
        "__INPUT_SHAPE__": repr(tuple(input_shape)),
        "__INPUT_DTYPE__": repr(input_dtype),
        "__INPUTS__": repr(ins),
        "__OUTPUTS__": repr(outs),
        "__DATA_PATH__": repr(_data_path(dataset, kind, project_dir)),
        "__CONFIG__": _literal(training),
        "__DATA_CODE__": code,
        "__NEEDS__": ", ".join(needs[:-1]) + " and " + needs[-1],
        "__PIP__": " ".join(needs),
        "__INDEX_LOSSES__": repr(tuple(vocab.INDEX_LOSSES)),
        "__PER_STEP__": repr(tuple(vocab.PER_STEP)),
        "__LOAD_DATA__": load,
        "__AUGMENT_CODE__": ("\n\n# ------------------- NetCanvas's augmentation code "
                             "(runtime/augment.py), copied verbatim\n" + augment + "\n"
                             if augment else ""),
    }
    # one pass, so a filled-in value is never itself searched for placeholders
    src = re.sub("|".join(re.escape(k) for k in fills), lambda m: fills[m.group(0)], TEMPLATE)
    compile(src, script_name, "exec")  # a template bug must never ship a broken script
    return src
