"""A :class:`~runtime.engine.Trainer` run in a child process, its events streamed back.

Why a process (``quality.md`` B4): in one process the window's thread and a
training thread share the GIL, and a tiny model's Python-heavy training loop
and the plots' painting (many short GIL-releasing Qt calls) wait on each
other: the window is late and training slows down.  A child process has its
own interpreter, so neither waits for the other.

The parent builds a :class:`RemoteRun` from plain data (a *spec*: the
snapshot of the network as a project dict, the training dict, folders, a
checkpoint to resume from) and reads ``(kind, payload)`` events with
:meth:`RemoteRun.get`:

- ``("run_start", info)``, ``("points", {...})`` (decision-map data),
  ``("steps", batch)`` about every :data:`EMIT_EVERY` seconds (with the
  epoch's running ``train_accuracy`` or ``train_mae``),
  ``("epoch", row)`` whose ``diagnosis`` is the list of findings so far
  (dicts with ``kind``, ``message``, ``suggestion``, maybe ``node``; the
  same as the run end's), ``("grid", (grid, extent))`` once per epoch,
  ``("histogram", (node, kind, edges, counts))`` (kind ``"activations"`` or
  ``"gradients"``; for an ``Input`` node, activations of the input batch),
  ``("paused", bool)`` when the child has applied a pause or resume;
- last, ``("run_end", RunResult)`` or ``("refused", message)``.  A child
  that dies (segfault, kill, out of memory) or does not stop in time ends in
  a ``run_end`` built here from the events received so far.

Processes start with multiprocessing's ``forkserver`` (torch and the engine
preloaded there once, so a run starts in a fraction of a second), else
``spawn``; never a plain fork of a process that runs Qt and torch threads.
The child's side lives in :mod:`runtime.remote_child`.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import threading
import time
from pathlib import Path

#: Seconds between two batches of step losses sent by the child.
EMIT_EVERY = 0.05
#: Seconds the child gets to stop by itself before it is terminated
#: (with the termination itself this stays within R5's 2 s).
STOP_GRACE = 1.5
#: Modules imported once in the fork server, so children start warm.
#: (The optimizers import torch._dynamo and the data split sklearn: ~1 s each.)
PRELOAD = ["torch", "torch._dynamo", "numpy", "sklearn.model_selection", "graph.project",
           "codegen.compile", "runtime.engine", "runtime.loop", "runtime.setup", "runtime.optim",
           "runtime.data.loader", "runtime.data.prepare", "runtime.data.synthetic",
           "runtime.remote_child"]
FINAL = ("run_end", "refused")

_ctx = None
_ctx_lock = threading.Lock()


def context():
    """The multiprocessing context runs are started with (created once)."""
    global _ctx
    with _ctx_lock:
        if _ctx is None:
            if "forkserver" in mp.get_all_start_methods():
                _ctx = mp.get_context("forkserver")
                _ctx.set_forkserver_preload(PRELOAD)
            else:
                _ctx = mp.get_context("spawn")
        return _ctx


def warm_up() -> None:
    """Start the fork server now, so the first run does not wait for torch to load."""
    if context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def describe_exit(code: int | None) -> str:
    """Words for a child's exit code (negative: the signal that ended it)."""
    if code is None:
        return "it stopped answering"
    if code >= 0:
        return f"exit code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    why = {"SIGKILL": ": killed, perhaps by the system for lack of memory",
           "SIGSEGV": ": a crash inside a native library",
           "SIGABRT": ": aborted by a native library",
           "SIGBUS": ": a crash inside a native library",
           "SIGTERM": ": terminated"}.get(name, "")
    return f"exit code {code}, {name}{why}"


def result_to_dict(result) -> dict:
    """A :class:`~runtime.engine.RunResult` as plain data (the fault as a dict)."""
    from dataclasses import asdict

    return asdict(result)


def result_from_dict(d: dict):
    """The :class:`~runtime.engine.RunResult` that :func:`result_to_dict` gave."""
    from .engine import RunResult
    from .faults import Fault

    d = dict(d)
    if d.get("fault") is not None:
        d["fault"] = Fault(**d["fault"])
    return RunResult(**d)


class RemoteRun:
    """One training run in a child process, seen from the parent.

    Args:
        spec: plain data for :func:`runtime.remote_child.main`: ``network``
            (project dict whose graph is trained), ``training``, ``name``,
            ``out_dir``, ``base_dir``, ``resume`` (a checkpoint to continue),
            ``init_weights`` (a checkpoint whose weights start a new run),
            ``project`` (stored in checkpoints), ``watch`` (a node id),
            ``threads``, and ``fault`` (tests only: see
            :func:`runtime.remote_child.inject`).

    Control methods may be called from any thread; :meth:`get` from one.
    """

    def __init__(self, spec: dict):
        ctx = context()
        self.spec = dict(spec)
        self.process = None
        self.conn = None
        self._stop = ctx.Event()
        self._pause = ctx.Event()
        self._cmd_r, self._cmd_w = ctx.Pipe(duplex=False)
        self._cmd_lock = threading.Lock()
        self.stop_asked: float | None = None
        self.ended = False
        self.info: dict = {}
        self.rows: list[dict] = []
        self.step_losses: list[float] = []

    # ------------------------------------------------------------ life
    def start(self) -> None:
        """Start the child (returns at once; events follow)."""
        ctx = context()
        reader, writer = ctx.Pipe(duplex=False)
        from . import remote_child

        p = ctx.Process(target=remote_child.main, name="netcanvas-training", daemon=True,
                        args=(self.spec, writer, self._stop, self._pause, self._cmd_r))
        p.start()
        # Only the child holds the write end now: when it dies the pipe reads as
        # closed, even halfway through a message (a Queue would wait forever).
        writer.close()
        self._cmd_r.close()
        self.process, self.conn = p, reader

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def close(self, grace: float = STOP_GRACE) -> int | None:
        """Wait up to ``grace`` s for the child to exit, then end it; its exit code."""
        p = self.process
        if p is None:
            return None
        p.join(grace)
        if p.exitcode is None:
            p.terminate()
            p.join(0.3)
        if p.exitcode is None:
            p.kill()
            p.join(1.0)
        for c in (self.conn, self._cmd_w):
            c.close()
        return p.exitcode

    # ------------------------------------------------------------ control (any thread)
    def stop(self) -> None:
        """Ask the child to stop before its next batch (see :data:`STOP_GRACE`)."""
        if self.stop_asked is None:
            self.stop_asked = time.monotonic()
        self._stop.set()

    def pause(self) -> None:
        self._pause.set()

    def resume(self) -> None:
        self._pause.clear()

    def watch(self, node_id: str | None) -> None:
        """Sample histograms of this node's output in the child (None: none)."""
        with self._cmd_lock:
            try:
                self._cmd_w.send(("watch", node_id))
            except OSError:  # the child is gone; its end is reported by get()
                pass

    # ------------------------------------------------------------ events
    def get(self, timeout: float = 0.1):
        """The next ``(kind, payload)`` event, or None when none came within ``timeout``.

        After a final event (``run_end`` or ``refused``) call :meth:`close`.
        """
        if self.ended:
            return None
        if self.stop_asked is not None and time.monotonic() - self.stop_asked > STOP_GRACE:
            return self._end(self._overdue())
        try:
            if not self.conn.poll(timeout):
                return None
            kind, payload = self.conn.recv()
        except (EOFError, OSError):
            return self._end(self._died())
        if kind == "run_start":
            self.info = payload
        elif kind == "steps":
            self.step_losses.extend(payload["losses"])
        elif kind == "epoch":
            self.rows.append({k: v for k, v in payload.items()
                              if k not in ("confusion", "diagnosis")})
        elif kind == "run_end":
            payload = result_from_dict(payload)
        if kind in FINAL:
            self.ended = True
        return kind, payload

    def events(self, timeout: float = 60.0):
        """Yield events until the final one (tests and scripts; no Qt needed).

        Raises:
            TimeoutError: nothing arrived for ``timeout`` seconds.
        """
        last = time.monotonic()
        while not self.ended:
            ev = self.get(0.1)
            if ev is None:
                if time.monotonic() - last > timeout:
                    raise TimeoutError(f"no training event for {timeout} s")
                continue
            last = time.monotonic()
            yield ev

    def _end(self, event):
        self.ended = True
        return event

    def _overdue(self):
        self.close(0.0)
        return "run_end", self._partial("stopped", None, [
            f"the training process did not stop within {STOP_GRACE:g} s and was ended"])

    def _died(self):
        code = self.close(1.0)
        msg = (f"the training process ended unexpectedly ({describe_exit(code)}); "
               "the metrics received so far are kept")
        if not self.info:
            return "refused", msg.split(";")[0] + " before training started"
        from .faults import Fault

        epoch = (self.rows[-1]["epoch"] if self.rows else self.info.get("start_epoch", 0)) + 1
        return "run_end", self._partial("error", Fault("crash", msg, epoch=epoch,
                                                       error=describe_exit(code)), [])

    def _partial(self, stopped: str, fault, notes: list):
        """A RunResult from the events received so far (the child could not send one)."""
        from .engine import RunResult

        info = self.info
        history = list(info.get("history") or []) + self.rows
        ckpts = {}
        out = self.spec.get("out_dir")
        for k in ("best", "last"):
            if out and (Path(out) / f"{k}.pt").exists():
                ckpts[k] = str(Path(out) / f"{k}.pt")
        return RunResult(stopped=stopped, epochs=history[-1]["epoch"] if history else
                         info.get("start_epoch", 0), task=info.get("task", ""),
                         device=info.get("device", ""),
                         metrics=dict(history[-1]) if history else {}, history=history,
                         step_losses=list(self.step_losses), class_names=info.get("class_names"),
                         checkpoints=ckpts, fault=fault, notes=notes)
