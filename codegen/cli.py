"""The ``export`` and ``import`` commands.

``python main.py export FILE.json -o model.py`` writes the model file and, on request, the training script next to it
(``--training-script``; refused, before anything is written, while the
``training`` section has problems), trained weights (``--weights CKPT``, saved next to the
model as ``<model>.pt``, or ``.safetensors`` when that package is installed)
and ONNX (``--onnx FILE``).  Exit codes: 0 written, 1 the network has errors or
an export failed, 2 the project cannot be opened.

``python main.py import MODEL.py [--class NAME] [-o PROJECT.json]``: the model
class of a Python file (our exported code, or a model made of catalogue
modules) becomes a project file, via :func:`codegen.fx_import.import_project`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graph.project import ProjectLoadError, load_project

from .errors import CodegenError
from .export import (ExportError, export_onnx, load_into, load_weights, save_weights,
                     write_model, write_training_script)

EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE = 0, 1, 2


def _weights_path(model_path: Path) -> Path:
    try:
        import safetensors  # noqa: F401
    except ImportError:
        return model_path.with_suffix(".pt")
    return model_path.with_suffix(".safetensors")


def export(args: argparse.Namespace) -> int:
    """Run the export command; returns the exit code."""
    try:
        project = load_project(args.file)
    except ProjectLoadError as exc:
        print(f"error: cannot open {args.file!r}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    out = Path(args.output)
    if out.suffix != ".py":
        print(f"error: the output must be a .py file, got {str(out)!r}", file=sys.stderr)
        return EXIT_FAILED
    if args.training_script:
        # refused before anything is written: the model alone would be a half export
        from .training_script import refusal

        why = refusal(project.training, project.graph)
        if why is not None:
            print(f"error: cannot write the training script: {why}", file=sys.stderr)
            return EXIT_FAILED
    try:
        code = write_model(project.graph, out, project.name, project.training)
        print(f"wrote {out} (class {code.class_name})")
        if args.training_script:
            script = write_training_script(project.graph, code, out, project.training,
                                           Path(args.file).resolve().parent)
            print(f"wrote {script}")
        model = None
        if args.weights or args.onnx:
            from .compile import instantiate

            model = instantiate(code)
        if args.weights:
            load_into(model, load_weights(args.weights), args.weights)
            target = save_weights(model, _weights_path(out))
            print(f"wrote {target}")
        if args.onnx:
            export_onnx(model, project.graph, code, args.onnx)
            print(f"wrote {args.onnx}")
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except CodegenError as exc:
        print(f"error: cannot export {args.file!r}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        print(f"error: cannot write: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def import_(args: argparse.Namespace) -> int:
    """``import MODEL.py [--class NAME] [-o PROJECT.json]``: a model file → a project.

    Exit codes: 0 written, 1 the model cannot be imported (the modules and
    functions without a block are named) or the project not written, 2 the
    model file does not exist.
    """
    from graph.fileio import FileSaveError
    from graph.project import save_project

    from .fx_import import ModelImportError, import_project, parse_shape

    src = Path(args.model)
    if not src.is_file():
        print(f"error: cannot import {str(src)!r}: no such file", file=sys.stderr)
        return EXIT_UNREADABLE
    out = Path(args.output) if args.output else src.with_suffix(".json")
    if not args.output and out.exists():
        print(f"error: {str(out)!r} already exists; choose the project file with -o",
              file=sys.stderr)
        return EXIT_FAILED
    try:
        shapes = [parse_shape(s) for s in args.input_shape] if args.input_shape else None
        dtypes = list(args.input_dtype) if args.input_dtype else None
        project = import_project(src, args.class_name, shapes, dtypes)
    except ValueError as exc:  # a bad --input-shape
        print(f"error: --input-shape {exc}", file=sys.stderr)
        return EXIT_FAILED
    except ModelImportError as exc:
        print(f"error: cannot import {str(src)!r}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        save_project(project, out)
    except (FileSaveError, OSError) as exc:
        print(f"error: cannot write: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"wrote {out} ({len(project.graph)} blocks, from class {project.name})")
    from graph import analyze

    an = analyze(project.graph)
    errors = an.errors()
    an.close()
    if errors:
        print(f"note: the imported network has {len(errors)} error(s); run "
              f"`check {out}` to see them", file=sys.stderr)
    return EXIT_OK
