"""The ``check`` and ``summary`` commands (``python main.py check FILE.json``).

Both open the project, run the same analysis as the editor, and print plain
text (or, for ``check --json``, the one JSON object of product.md §7).  Exit
codes: 0 valid, 1 invalid, 2 the file cannot be opened.  ``check --json``
answers in JSON even then: ``valid`` false, no shapes, and one problem of code
``unreadable_file`` whose message is the load error, with its ``location`` in
the file where it has one (and ``node`` the node's id when that is a node).  No torch here:
these commands answer in a fraction of a second.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Callable

from . import dims, humanize
from .analysis import Analyzer, problem_counts, shape_json
from .blocks import TT
from .dataset_info import DatasetInfo
from .problems import ERROR, Code, Problem
from .project import MAX_BYTES, Project, ProjectLoadError, load_project

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2

#: ``training.dataset`` object → number of training samples, or None if unknown.
SampleCounter = Callable[[object], "int | None"]
#: ``(training.dataset object, folder of relative paths)`` → what the dataset
#: gives (its header), or None when nothing can be told before loading.
DatasetReader = Callable[[object, Path], "DatasetInfo | None"]


def _open(path: str) -> Project | None:
    try:
        return load_project(path)
    except ProjectLoadError as exc:
        print(f"error: cannot open {path!r}: {exc}", file=sys.stderr)
        return None


_NODE_LOCATION = re.compile(r"nodes\[(\d+)\](?:\.|$)")


def _node_at(path: str, location: str | None) -> str | None:
    """The id of the node a load error's location (``nodes[3].params``) points at.

    The file is read again as plain JSON: it failed to load as a project, but
    a location into ``nodes`` means it parsed.  None when the location is not
    a node, or the node has no usable id.
    """
    m = _NODE_LOCATION.match(location or "")
    if m is None:
        return None
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read(MAX_BYTES + 1).decode("utf-8-sig"))
        nid = doc["nodes"][int(m.group(1))]["id"]
    except (OSError, ValueError, RecursionError, LookupError, TypeError):
        return None
    return nid if isinstance(nid, str) and nid else None


def _unreadable_json(path: str, exc: ProjectLoadError) -> dict:
    """``check --json``'s answer for a file that cannot be opened (exit 2)."""
    problem = Problem(ERROR, Code.UNREADABLE, _node_at(path, exc.location), str(exc),
                      location=exc.location)
    return {"valid": False, "problems": [problem.to_json()], "shapes": {}}


def _safe_stdout() -> None:
    # Shapes use "×"; a console that cannot show it gets a replacement, not a crash.
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(errors="replace")
        except (ValueError, OSError):  # pragma: no cover - detached or closed stream
            pass


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _samples(project: Project, dataset_samples: SampleCounter | None) -> int | None:
    if dataset_samples is None:
        return None
    training = project.training if isinstance(project.training, dict) else {}
    return dataset_samples(training.get("dataset"))


def _dataset(project: Project, path: str, read: DatasetReader | None) -> DatasetInfo | None:
    """What the project's dataset gives, read with ``read`` (relative paths from
    the project file's folder), or None."""
    if read is None:
        return None
    training = project.training if isinstance(project.training, dict) else {}
    return read(training.get("dataset"), Path(path).resolve().parent)


def check(args: argparse.Namespace, dataset_samples: SampleCounter | None = None,
          dataset_info: DatasetReader | None = None) -> int:
    """``check FILE [--json]``: print problems and every output port's shape.

    Args:
        args: the parsed command line (``file``, ``json``).
        dataset_samples: gives the number of training samples of a
            ``training.dataset`` object (None when unknown), for the "very
            large model for the dataset" warning; graph/ cannot know dataset
            sizes itself (``main.py`` passes
            :func:`runtime.data.catalog.training_samples`).
        dataset_info: reads what the chosen dataset gives (sample shapes,
            targets), so each Input and Output is checked against it as Start
            would (``main.py`` passes :func:`runtime.data.header.dataset_info`);
            None: the dataset is not checked.
    """
    if getattr(args, "json", False):
        # JSON in every case: a tool reading stdout gets an answer it can parse
        try:
            project = load_project(args.file)
        except ProjectLoadError as exc:
            print(json.dumps(_unreadable_json(args.file, exc)))
            return EXIT_UNREADABLE
    else:
        project = _open(args.file)
        if project is None:
            return EXIT_UNREADABLE
    g = project.graph
    an = Analyzer(g, project.training, _samples(project, dataset_samples),
                  dataset=_dataset(project, args.file, dataset_info)).refresh()
    problems = an.problems()
    shapes = an.shapes()
    valid = not any(p.severity == ERROR for p in problems)
    if getattr(args, "json", False):
        print(json.dumps({
            "valid": valid,
            "problems": [p.to_json() for p in problems],
            "shapes": _json_shapes(an, shapes),
        }))
        return EXIT_VALID if valid else EXIT_INVALID
    _safe_stdout()
    for p in problems:
        message = p.message
        if p.node is None and p.location is not None:
            # a training setting: its place in the file, once (the message starts with it)
            where = p.location
            message = message.removeprefix(f"{where}: ")
        elif p.node is None:
            where = "(network)"  # an empty graph: no node to name
        else:
            where = p.node if p.port is None else f"{p.node}.{p.port}"
        print(f"{p.severity}  {where}  {message}")
    if problems:
        print()
    print("shapes:")
    width = max((len(f"{n}.{port}") for n, port in shapes), default=0)
    for (nid, port), tt in shapes.items():
        print(f"  {nid + '.' + port:<{width}}  {_shape_text(tt)}  {g.nodes[nid].label()}")
    errors, warnings = problem_counts(problems)
    state = "valid" if valid else "invalid"
    print(f"{state}: {_plural(errors, 'error')}, {_plural(warnings, 'warning')}")
    return EXIT_VALID if valid else EXIT_INVALID


def _json_shapes(an: Analyzer, shapes: dict) -> dict:
    """Every output port's shape by ``node.port``; after each unit instance's
    own ports, those of the nodes inside it by dotted id (``l1.0.c1.out``),
    also when the instance fails (the shapes up to the problem)."""
    out = {}
    for (nid, port), tt in shapes.items():
        out[f"{nid}.{port}"] = shape_json(tt)
    for nid in an.order():
        r = an.results.get(nid)
        for inner_id, inner in (r.inner.items() if r is not None else ()):
            for inner_port, itt in (inner.outs or {}).items():
                out[f"{nid}.{inner_id}.{inner_port}"] = shape_json(itt)
    return out


def _shape_text(tt: TT) -> str:
    text = dims.format_shape(tt.shape)
    return text if tt.dtype == "float32" else f"{text} {tt.dtype}"


def _symbolic(tt: TT) -> set[str]:
    return {d for d in tt.shape[1:] if isinstance(d, str)}


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def summary(args: argparse.Namespace, dataset_samples: SampleCounter | None = None,
            dataset_info: DatasetReader | None = None) -> int:
    """``summary FILE``: a per-layer table (output shape, parameters, FLOPs) and totals.

    ``dataset_samples`` and ``dataset_info`` as for :func:`check` (they change
    the problem counts).
    """
    project = _open(args.file)
    if project is None:
        return EXIT_UNREADABLE
    _safe_stdout()
    g = project.graph
    an = Analyzer(g, project.training, _samples(project, dataset_samples),
                  dataset=_dataset(project, args.file, dataset_info)).refresh()
    rows = [["name", "type", "output shape", "parameters", "FLOPs"]]
    symbolic: set[str] = set()
    # the model's inputs first and its outputs last, each in node order (the
    # order of forward's arguments and of its returned tuple); layers between
    inputs, outputs = [n.id for n in g.ends("input")], [n.id for n in g.ends("output")]
    either = set(inputs) | set(outputs)
    for nid in inputs + [nid for nid in an.order() if nid not in either] + outputs:
        node = g.nodes[nid]
        r = an.results.get(nid)
        if r is not None and r.outs is not None:
            shapes = ", ".join(_shape_text(tt) for tt in r.outs.values())
            for tt in r.outs.values():
                symbolic |= _symbolic(tt)
            rows.append([node.name, node.type, shapes, f"{r.n_params:,}", f"{r.flops:,}"])
        else:
            rows.append([node.name, node.type, "?", "?", "?"])
    print(f"{project.name}")
    print()
    for line in _table(rows, right={3, 4}):
        print(line)
    print()
    for line in humanize.summary_totals(an.totals()):
        print(line)
    if symbolic:
        names = ", ".join(sorted(symbolic))
        print(f"note: variable sizes ({names}) are counted as {dims.NOMINAL} "
              "(graph.dims.NOMINAL) in FLOPs")
    errors, warnings = problem_counts(an.problems())
    if errors:
        print(f"invalid: {_plural(errors, 'error')} ({_plural(warnings, 'warning')}); "
              f"run `check {args.file}` to see them")
        return EXIT_INVALID
    return EXIT_VALID
