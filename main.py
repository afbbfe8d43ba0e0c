"""NetCanvas entry point.

``python main.py`` opens the editor with an example network; ``python main.py
FILE.json`` opens a project; the subcommands run the same engine without a
window.  Each subcommand's work lives in the package it belongs to
(``graph.cli``, ``codegen.cli``, ``runtime.cli``); this file only parses
arguments, and imports nothing heavy before it knows what to do.
"""

from __future__ import annotations

import argparse
import sys

COMMANDS = ("check", "summary", "export", "import", "train")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netcanvas",
        description="Design neural networks on a canvas, see every tensor shape, "
                    "train live, export clean PyTorch code.",
        epilog="With no command, opens the editor (with FILE.json if given).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("check", help="print problems and shapes; exit 0 if valid, 1 if not, 2 if unreadable")
    p.add_argument("file", help="project file (.json)")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("summary", help="print a per-layer table: output shape, parameters, FLOPs")
    p.add_argument("file", help="project file (.json)")

    p = sub.add_parser("export", help="write the model as a standalone PyTorch file")
    p.add_argument("file", help="project file (.json)")
    p.add_argument("-o", "--output", required=True, help="the .py file to write")
    p.add_argument("--training-script", action="store_true",
                   help="also write a complete training script next to it")
    p.add_argument("--weights", metavar="CKPT", help="also export these trained weights")
    p.add_argument("--onnx", metavar="FILE", help="also export ONNX (needs the onnx extra)")

    p = sub.add_parser(
        "import", help="turn a PyTorch model file into a project (torch.fx; runs the file's code)",
        description="Turn a PyTorch model file into a project (torch.fx). Importing runs the "
                    "file's Python code (its imports, the model's construction and a traced "
                    "forward pass): import only files you trust. Opening or checking a project "
                    "file never runs code.")
    p.add_argument("model", help="the .py file defining the model class")
    p.add_argument("--class", dest="class_name", metavar="NAME",
                   help="the nn.Module class (optional when __all__ lists exactly one)")
    p.add_argument("-o", "--output", help="the project file to write (default: MODEL.json)")
    p.add_argument("--input-shape", action="append", metavar="SHAPE",
                   help="sample shape of a forward() argument, e.g. 1,8,8 (once per "
                        "argument; read from the docstring of exported code)")
    p.add_argument("--input-dtype", action="append", choices=("float32", "int64"),
                   help="dtype of a forward() argument (once per argument; default float32)")

    p = sub.add_parser("train", help="train headless with a progress bar; last line is JSON metrics")
    p.add_argument("file", help="project file (.json)")
    p.add_argument("--epochs", type=int, help="override the number of epochs")
    p.add_argument("--device", help="auto, cpu, cuda or mps")
    p.add_argument("--out", help="folder for metrics CSV and checkpoints")
    p.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint")
    p.add_argument("--init-weights", metavar="CKPT",
                   help="start from a checkpoint's weights (fresh optimizer, epoch 0)")
    p.add_argument("--batch-size", type=int, help="override the batch size")
    p.add_argument("--seed", type=int, help="override the seed")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS and not argv[0].startswith("-"):
        from gui.app import run_app

        return run_app(argv[0] if argv else None)
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 0
    if args.command in ("check", "summary"):
        from graph import cli
        # graph/ cannot import runtime/; its torch-free catalogue knows the
        # built-in datasets' sizes (for the "very large model" warning), and
        # its header reader what a dataset gives (checked against the graph).
        from runtime.data.catalog import training_samples
        from runtime.data.header import dataset_info

        return getattr(cli, args.command)(args, dataset_samples=training_samples,
                                          dataset_info=dataset_info)
    elif args.command == "export":
        from codegen import cli
    elif args.command == "import":
        from codegen import cli

        return cli.import_(args)
    else:
        from runtime import cli
    return getattr(cli, args.command)(args)


if __name__ == "__main__":
    sys.exit(main())
