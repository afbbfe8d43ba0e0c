"""The training settings as data for the settings panel (no widgets, no torch).

- :class:`SetTraining`: the undoable edit that replaces a project's
  ``training`` dict (through the :class:`~gui.document.Document`, like every
  other edit).
- The choices the panel offers (losses, optimizers, schedules with starting
  parameters), read from the one registry of names, :mod:`graph.training_names`
  (which the check and :mod:`runtime.optim` read too).
- :func:`parse_kwargs`/:func:`format_kwargs`: ``step_size=10, gamma=0.5``
  ↔ ``{"step_size": 10, "gamma": 0.5}`` (values are JSON; never evaluated).
- :func:`dataset_text` and :func:`fit_problem`: what a dataset is and whether
  it fits the graph's ``Input``, before anything is loaded.
- :func:`memory_text`: the memory estimate at the chosen batch size;
  :func:`memory_problem`: the reason Start refuses when it does not fit.
"""

from __future__ import annotations

import copy
import json

from PySide6.QtGui import QUndoCommand

from graph import training_names as vocab
from runtime.data import builtin_catalog, check_fits
from runtime.data.catalog import REAL, training_samples

#: The names offered are the one registry's (:mod:`graph.training_names`), all
#: of them: a project naming any of them shows it in the panel.
LOSSES = tuple(vocab.LOSSES)
OPTIMIZERS = tuple(vocab.OPTIMIZERS)
#: Every schedule, with the settings a new choice starts from.
SCHEDULES = vocab.SCHEDULE_STARTS
#: Optimizers that take a ``momentum`` argument.
MOMENTUM = vocab.MOMENTUM
FILE_KINDS = {"csv": "CSV file…", "npz": "NPZ file…", "image_folder": "Image folder…"}


class SettingsParseError(ValueError):
    """Text typed into a settings field cannot be read; the message says why."""


class SetTraining(QUndoCommand):
    """Replace the project's training settings (undo puts the old ones back).

    Args:
        doc: the :class:`~gui.document.Document`.
        training: the new settings (deep-copied).
        text: the undo-menu text, e.g. ``"Set batch size"``.
    """

    def __init__(self, doc, training: dict, text: str = "Change training settings"):
        super().__init__(text)
        self.doc = doc
        self.new = copy.deepcopy(training)
        self.old = copy.deepcopy(doc.project.training)

    def _apply(self, training: dict) -> None:
        self.doc.set_training(copy.deepcopy(training))

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


def parse_kwargs(text: str) -> dict:
    """``"step_size=10, gamma=0.5, milestones=[3, 6]"`` → a dict of JSON values.

    Raises:
        SettingsParseError: a part is not ``name=value`` or the value is not JSON.
    """
    out: dict = {}
    text = text.strip()
    if not text:
        return out
    parts, depth, cur = [], 0, ""
    for ch in text:  # split on commas outside brackets
        depth += ch in "[{"
        depth -= ch in "]}"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    for part in parts:
        if "=" not in part:
            raise SettingsParseError(f"{part.strip()!r} is not name=value")
        name, value = (s.strip() for s in part.split("=", 1))
        if not name.isidentifier():
            raise SettingsParseError(f"{name!r} is not a parameter name")
        try:
            out[name] = json.loads(value)
        except json.JSONDecodeError:
            lowered = value.lower()
            if lowered in ("true", "false", "none", "null"):
                out[name] = {"true": True, "false": False}.get(lowered)
            else:
                raise SettingsParseError(f"{name}: {value!r} is not a number, list or "
                                         'true/false (write text in quotes: "min")') from None
    return out


def format_kwargs(kwargs: dict) -> str:
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in kwargs.items())


def input_of(graph):
    """The graph's single Input node, or None."""
    ins = [n for n in graph.nodes.values() if n.spec and n.spec.role == "input"]
    return ins[0] if len(ins) == 1 else None


def _fmt_shape(shape) -> str:
    return "×".join(str(d) for d in shape) if shape else "scalar"


def dataset_text(spec: dict | None) -> str:
    """A short description of the chosen dataset with its sample shape."""
    if not spec:
        return "No dataset chosen."
    if not isinstance(spec, dict):
        return "The dataset setting is not an object; choose a dataset in the list."
    if "name" in spec:
        if not isinstance(spec["name"], str):
            return "The dataset's name is not text; choose a dataset in the list."
        info = builtin_catalog().get(spec["name"])
        if info is None:
            return f"Unknown built-in dataset {spec['name']!r}."
        classes = f", {info.num_classes} classes" if info.num_classes else ""
        n = spec.get("n", info.default_n)
        count = f"{n:,} samples" if isinstance(n, int) else f"{info.default_n:,} samples"
        if info.name in REAL and isinstance(n, int) and n > info.default_n:
            # a bundled file has a fixed number of samples: the loader refuses more
            count = f"{info.default_n:,} samples (n asks for {n:,}: set it to at most " \
                    f"{info.default_n:,})"
        elif (train := training_samples(spec)) is not None:
            count += f" ({train:,} for training)"
        return (f"{info.description}. Samples {_fmt_shape(info.input_shape)} "
                f"({info.input_dtype}), {info.task}{classes}, {count}.")
    for kind, label in FILE_KINDS.items():
        if kind in spec:
            extra = f", target column {spec['target']!r}" if spec.get("target") else ""
            return (f"{label.rstrip('…')}: {spec[kind]}{extra}. Its sample shape is read "
                    "from the file and checked against the Input.")
    return "Unknown dataset kind."


def builtin_shape(spec: dict):
    """The catalogue entry of a built-in dataset spec with its sample shape for
    the chosen ``seq_len`` (the catalogue holds the default's), or None."""
    name = spec.get("name") if isinstance(spec, dict) else None
    info = builtin_catalog().get(name) if isinstance(name, str) else None
    if info is None:
        return None
    seq = spec.get("seq_len")
    if seq is not None and "seq_len" in dict(info.options):
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            return None  # the loader names the bad option at Start
        # every sequence set has the sequence on its first sample axis
        info = info._replace(input_shape=(seq, *info.input_shape[1:]))
    return info


def fit_problem(graph, training: dict, file_shape=None) -> str | None:
    """Why the chosen dataset does not fit the graph's Input (None: it fits or
    cannot be told before loading).

    Args:
        graph: the network.
        training: the project's training settings.
        file_shape: for a file dataset, what :mod:`gui.training.dataset_probe`
            read (a ``SampleShape``, a ``DatasetError`` to report, or None: unknown).
    """
    spec = (training or {}).get("dataset") or {}
    inp = input_of(graph)
    if inp is None or not isinstance(spec, dict):
        return None
    if isinstance(file_shape, Exception):
        return str(file_shape)
    info = builtin_shape(spec) if "name" in spec else file_shape
    if info is None:
        return None
    p = {**inp.spec.defaults(), **inp.params}
    problem = check_fits(info, tuple(p["shape"]), p["dtype"])
    return f"{inp.label()}: {problem}" if problem else None


def memory_problem(analyzer, training: dict, available: int | None, device: str
                   ) -> tuple[str, str | None] | None:
    """Why a training step will not fit in ``device``'s memory, and the node to
    show (None: it fits, or it cannot be told); what the engine refuses with."""
    from runtime.memory import memory_refusal

    t = training or {}
    batch = int(t.get("batch_size", 64))
    n = training_samples(t.get("dataset"))
    if n:  # a batch larger than the dataset is the dataset (as the engine does)
        batch = min(batch, n)
    amp = bool(t.get("amp")) and device.startswith("cuda")
    return memory_refusal(analyzer, max(1, batch), t.get("optimizer") or {"type": "Adam"}, amp,
                          available, device)


def memory_text(analyzer, training: dict, available: int | None, device: str) -> tuple[str, bool]:
    """The memory estimate line and whether it fits (True when unknown)."""
    from runtime.memory import estimate

    totals = analyzer.totals()
    t = training or {}
    est = estimate(totals["params"], totals["activations"], int(t.get("batch_size", 64)),
                   t.get("optimizer") or {"type": "Adam"}, bool(t.get("amp")), available,
                   device)
    return "Memory: " + est.describe(), est.fits is not False
