"""The ``export`` command: ``python main.py export FILE.json -o model.py``.

Writes the model file and, on request, the training script next to it
(``--training-script``), trained weights (``--weights CKPT``, saved next to the
model as ``<model>.pt``, or ``.safetensors`` when that package is installed)
and ONNX (``--onnx FILE``).  Exit codes: 0 written, 1 the network has errors or
an export failed, 2 the project cannot be opened.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graph.project import ProjectLoadError, load_project

from .errors import CodegenError
from .export import (ExportError, export_onnx, load_weights, save_weights, write_model,
                     write_training_script)

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
    try:
        code = write_model(project.graph, out, project.name, project.training)
        print(f"wrote {out} (class {code.class_name})")
        if args.training_script:
            script = write_training_script(project.graph, code, out, project.training)
            print(f"wrote {script}")
        model = None
        if args.weights or args.onnx:
            from .compile import module_class

            model = module_class(code)()
        if args.weights:
            state = load_weights(args.weights)
            try:
                model.load_state_dict(state)
            except RuntimeError as exc:
                raise ExportError(f"the weights in {args.weights} do not fit this network: "
                                  f"{str(exc).splitlines()[0]}") from None
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
