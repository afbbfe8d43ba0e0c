"""``python main.py train FILE``: train headless with a progress bar.

Drives the same :class:`~runtime.engine.Trainer` as the GUI.  Progress goes
to stderr (``tqdm`` when installed, else a plain line per update): epoch,
loss, the epoch's running training accuracy (``acc``; ``mae`` for
regression), the last validation accuracy and samples/s.  The run's folder
gets ``metrics.csv`` and the ``best.pt``/``last.pt`` checkpoints; the *last*
line on stdout is one JSON object of final metrics (``epochs``,
``train_loss``, ``val_loss``, and ``val_accuracy`` or ``val_mae``; for a
network with several Outputs, ``val_loss`` is the weighted sum of their losses
and each trained Output adds ``val_accuracy_<id>`` or ``val_mae_<id>``).

Exit codes: 0 trained (also when stopped with Ctrl-C or early-stopped), 1 a
training error — refused before training (bad settings, a dataset that does
not fit, a missing or malformed file, a run folder that cannot be written, a
resume with nothing left to do) or a fault during training (a full disk
included); the JSON line still comes, with ``"error"`` (and
``"epochs": 0``, ``"stopped": "refused"`` for a refusal) after an
``error:`` line on stderr — 2 the project file cannot be read (no JSON).
"""

from __future__ import annotations

import json
import re
import signal
import sys
import time
from pathlib import Path

from .engine import Callback, RunResult


class ProgressBar(Callback):
    """Epoch, step, loss, accuracy and samples/s on stderr."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.bar = None
        self.last = 0.0

    def on_run_start(self, info: dict) -> None:
        self.info = info
        self.acc = None
        for note in info.get("notes", []):
            self._write(f"note: {note}")
        self._write(f"training on {info['device']}: {info['train_samples']} samples "
                    f"({info['val_samples']} for validation), {info['params']:,} parameters, "
                    f"{info['epochs']} epochs × {info['steps_per_epoch']} steps")
        try:
            from tqdm import tqdm
        except ImportError:
            return
        total = info["epochs"] * info["steps_per_epoch"]
        self.bar = tqdm(total=total, initial=info["start_epoch"] * info["steps_per_epoch"],
                        file=self.stream, unit="step", dynamic_ncols=True, leave=False)

    def _write(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def on_step(self, m: dict) -> None:
        fields = {"epoch": f"{m['epoch']}/{self.info['epochs']}",
                  "loss": f"{m['loss']:.4g}" if m.get("loss") is not None else "-"}
        # the running metric of the (first) trained output: train_accuracy, or
        # train_accuracy_<id> in a network with several Outputs
        acc = next((k for k in m if k.startswith("train_accuracy")), None)
        mae = next((k for k in m if k.startswith("train_mae")), None)
        if acc is not None and m[acc] is not None:
            fields["acc"] = f"{m[acc]:.1%}"
        elif mae is not None and m[mae] is not None:
            fields["mae"] = f"{m[mae]:.4g}"
        if self.acc is not None:
            fields["val_acc"] = f"{self.acc:.1%}"
        if m.get("samples_per_s"):
            fields["samples/s"] = f"{m['samples_per_s']:,.0f}"
        if self.bar is not None:
            self.bar.n = (m["epoch"] - 1) * self.info["steps_per_epoch"] + m["epoch_step"]
            self.bar.set_postfix(fields, refresh=True)
        elif time.monotonic() - self.last >= 1.0:
            self.last = time.monotonic()
            step = f"step {m['epoch_step']}/{m['steps_per_epoch']}"
            print("  " + " ".join(f"{k} {v}" for k, v in fields.items()) + f" {step}",
                  file=self.stream, flush=True)

    def on_epoch_end(self, m: dict) -> None:
        parts = [f"epoch {m['epoch']}/{m['epochs']}", f"train_loss {m['train_loss']:.4g}"]
        keys = ["train_accuracy", "train_mae", "val_loss", "val_accuracy", "val_mae", "val_rmse"]
        # each trained output's own metrics in a network with several Outputs
        keys += [k for k in m if k.startswith(("train_accuracy_", "train_mae_", "val_accuracy_",
                                               "val_mae_"))]
        for k in keys:
            if isinstance(m.get(k), (int, float)):
                parts.append(f"{k} {m[k]:.1%}" if "accuracy" in k else f"{k} {m[k]:.4g}")
        if m.get("samples_per_s"):
            parts.append(f"{m['samples_per_s']:,.0f} samples/s")
        self.acc = m.get("val_accuracy")
        self._write("  ".join(parts))

    def on_run_end(self, result: RunResult) -> None:
        if self.bar is not None:
            self.bar.close()


class CsvLog(Callback):
    """Rewrites ``metrics.csv`` after every epoch (atomically)."""

    def __init__(self, path: Path, stream=None):
        self.path = path
        self.stream = stream or sys.stderr
        self.names: dict = {}
        self.rows: list[dict] = []
        self.failed = False

    def on_run_start(self, info: dict) -> None:
        self.names = {nid: n["name"] for nid, n in info["nodes"].items()}
        self.rows = list(info.get("history", []))

    def on_epoch_end(self, m: dict) -> None:
        from .metrics import write_csv

        self.rows.append(m)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_csv(self.path, self.rows, self.names)
        except OSError as exc:  # said once; the checkpoints (and the run) go on
            if not self.failed:
                print(f"warning: could not write {self.path}: {exc.strerror or exc}",
                      file=self.stream, flush=True)
            self.failed = True


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-").lower()[:40] or "project"


def default_out(project, resume: str | None) -> Path:
    """``runs/<project>-<timestamp>`` next to the project (the checkpoint's folder on resume)."""
    if resume:
        return Path(resume).resolve().parent
    base = Path(project.path).resolve().parent if project.path else Path.cwd()
    stem = base / "runs" / f"{_slug(project.name)}-{time.strftime('%Y%m%d-%H%M%S')}"
    out, k = stem, 1
    while out.exists():
        k += 1
        out = stem.with_name(f"{stem.name}-{k}")
    return out


def train(args) -> int:
    """The ``train`` command (see the module docstring for exit codes)."""
    from graph.project import ProjectLoadError, load_project

    from .engine import Trainer
    from .errors import TrainingError

    try:
        project = load_project(args.file)
    except ProjectLoadError as exc:
        print(f"error: {args.file}: {exc}", file=sys.stderr)
        return 2
    overrides = {"epochs": args.epochs, "device": args.device, "batch_size": args.batch_size,
                 "seed": args.seed}
    out = Path(args.out) if args.out else default_out(project, args.resume)
    try:
        trainer = Trainer.from_project(
            project, callbacks=[ProgressBar(), CsvLog(out / "metrics.csv")], out_dir=out,
            resume=args.resume, init_weights=getattr(args, "init_weights", None),
            overrides=overrides)
        trainer.prepare()
        if trainer.weights_report is not None:  # what loaded, what did not and why
            print("\n".join(trainer.weights_report.lines()), file=sys.stderr)
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(json.dumps(refusal(str(exc))), flush=True)
        return 1
    previous = _on_interrupt(trainer)
    try:
        result = trainer.run()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    for d in result.diagnosis:
        print(f"diagnosis: {d['message']}; {d['suggestion']}", file=sys.stderr)
    if result.stopped == "stopped":
        print("stopped; metrics and a checkpoint are kept", file=sys.stderr)
    if result.fault is not None:
        print(f"error: {result.fault.message}", file=sys.stderr)
    print(f"run folder: {out}", file=sys.stderr)
    print(json.dumps(result.summary()), flush=True)
    return 1 if result.fault is not None else 0


def refusal(message: str) -> dict:
    """The last JSON line when training was refused before it started."""
    return {"epochs": 0, "stopped": "refused", "error": message}


def _on_interrupt(trainer):
    """First Ctrl-C stops the run cleanly (checkpoint kept); a second one aborts."""
    try:
        previous = signal.getsignal(signal.SIGINT)

        def handler(signum, frame):
            if trainer.stopping:
                raise KeyboardInterrupt
            print("\nstopping after this batch (Ctrl-C again to abort)", file=sys.stderr)
            trainer.stop()

        signal.signal(signal.SIGINT, handler)
        return previous
    except ValueError:  # not the main thread
        return None
