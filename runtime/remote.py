"""A :class:`~runtime.engine.Trainer` run in a child process, its events streamed back.

Why a process (``quality.md`` B4): in one process the window's thread and a
training thread share the GIL, and a tiny model's Python-heavy training loop
and the plots' painting (many short GIL-releasing Qt calls) wait on each
other: the window is late and training slows down.  A child process has its
own interpreter, so neither waits for the other.

The parent builds a :class:`RemoteRun` from plain data (a *spec*: the
snapshot of the network as a project dict, the training dict, folders, a
checkpoint to resume from) and reads events with :meth:`RemoteRun.get`:
``(kind, payload)`` pairs of :mod:`runtime.protocol` (its table lists them),
decoded from the plain data the child sends.  The last is a ``RUN_END``
with a :class:`~runtime.result.RunResult`, or a ``REFUSED``.  A child that
dies (segfault, kill, out of memory) or does not stop in time ends in a
``RUN_END`` built here from the events received so far.

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

from .protocol import FINAL, Kind, Refused, RunStart, decode

#: Seconds the child gets to stop by itself before it is terminated
#: (with the termination itself this stays within R5's 2 s).
STOP_GRACE = 1.5
#: Modules imported once in the fork server, so children start warm: what a
#: run imports (``tests/runtime/test_remote_preload.py`` checks that nothing of
#: torch, numpy, scikit-learn, SciPy or this project is left for a run to
#: import).  The optimizers import torch._dynamo (≈ 1 s) and the bundled
#: datasets (digits, iris ...) sklearn.datasets (≈ 1 s with SciPy).
PRELOAD = ["torch", "torch._dynamo", "torch.profiler", "numpy", "sklearn.datasets",
           "graph.project", "codegen.compile", "runtime.engine", "runtime.loop",
           "runtime.setup", "runtime.optim", "runtime.checkpoint", "runtime.resume",
           "runtime.data.loader", "runtime.data.builtin_sets", "runtime.protocol",
           "runtime.remote_child"]
#: Preloaded where installed (an optional extra; the fork server skips a module
#: that is missing): checkpoints are written as safetensors with the one,
#: image-folder datasets read with the other.
PRELOAD_OPTIONAL = ["safetensors.torch", "PIL.Image"]

_ctx = None
_ctx_lock = threading.Lock()


def context():
    """The multiprocessing context runs are started with (created once)."""
    global _ctx
    with _ctx_lock:
        if _ctx is None:
            if "forkserver" in mp.get_all_start_methods():
                _ctx = mp.get_context("forkserver")
                _ctx.set_forkserver_preload(PRELOAD + PRELOAD_OPTIONAL)
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
        keep_metrics: keep the epoch rows and step losses received, so that a
            ``RUN_END`` built here (the child died) carries them.  A reader that
            keeps the run's metrics itself (the window's run record) passes
            False, and such an end carries only how far the run got.

    Control methods may be called from any thread; :meth:`get` from one.
    """

    def __init__(self, spec: dict, keep_metrics: bool = True):
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
        #: what the child sent so far (a run_end built here, when the child
        #: dies, carries it): the run's start, epoch rows and step losses
        self.info: RunStart | None = None
        self.keep_metrics = keep_metrics
        self.rows: list[dict] = []
        self.step_losses: list[float] = []
        #: the last epoch received (also without ``keep_metrics``)
        self.last_epoch: int | None = None

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
        """The next event, ``(Kind, payload)`` of :mod:`runtime.protocol`, or None
        when none came within ``timeout``.

        After a final event (``RUN_END`` or ``REFUSED``) call :meth:`close`.
        """
        if self.ended:
            return None
        if self.stop_asked is not None and time.monotonic() - self.stop_asked > STOP_GRACE:
            return self._end(self._overdue())
        try:
            if not self.conn.poll(timeout):
                return None
            kind, payload = decode(*self.conn.recv())
        except (EOFError, OSError):
            return self._end(self._died())
        # what a run_end built here (the child died) reports as measured so far
        if kind is Kind.RUN_START:
            self.info = payload
        elif kind is Kind.STEPS and self.keep_metrics:
            self.step_losses.extend(payload.losses)
        elif kind is Kind.EPOCH:
            self.last_epoch = payload.epoch
            if self.keep_metrics:
                self.rows.append(payload.row())
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
        return Kind.RUN_END, self._partial("stopped", None, [
            f"the training process did not stop within {STOP_GRACE:g} s and was ended"])

    def _died(self):
        code = self.close(1.0)
        msg = (f"the training process ended unexpectedly ({describe_exit(code)}); "
               "the metrics received so far are kept")
        if self.info is None:
            return Kind.REFUSED, Refused(msg.split(";")[0] + " before training started")
        from .faults import Fault

        epoch = self._epochs_done() + 1
        return Kind.RUN_END, self._partial("error", Fault("crash", msg, epoch=epoch,
                                                          error=describe_exit(code)), [])

    def _partial(self, stopped: str, fault, notes: list):
        """A RunResult from the events received so far (the child could not send one)."""
        from .result import RunResult

        info = self.info or RunStart(task="", epochs=0)
        history = list(info.history) + self.rows if self.keep_metrics else []
        ckpts = {}
        out = self.spec.get("out_dir")
        for k in ("best", "last"):
            if out and (Path(out) / f"{k}.pt").exists():
                ckpts[k] = str(Path(out) / f"{k}.pt")
        return RunResult(stopped=stopped, epochs=self._epochs_done(), task=info.task,
                         device=info.device,
                         metrics=dict(history[-1]) if history else {}, history=history,
                         step_losses=list(self.step_losses), class_names=info.class_names,
                         checkpoints=ckpts, fault=fault, notes=notes)

    def _epochs_done(self) -> int:
        if self.last_epoch is not None:
            return self.last_epoch
        return self.info.start_epoch if self.info is not None else 0
