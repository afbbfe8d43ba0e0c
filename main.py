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

COMMANDS = ("check", "summary", "export", "train")


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
    elif args.command == "export":
        from codegen import cli
    else:
        from runtime import cli
    return getattr(cli, args.command)(args)


if __name__ == "__main__":
    sys.exit(main())
