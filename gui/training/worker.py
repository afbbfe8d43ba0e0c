"""The training worker: a ``QThread`` that relays a training child process's events.

Training itself runs in a child process (:mod:`runtime.remote`): in this
process it would share the GIL with the window, and a small model's
Python-heavy loop and the plots' painting would slow each other down
(``quality.md`` B4).  This thread starts the child, reads its events (the
kinds and payloads of :mod:`runtime.protocol`) and emits each as the one
``event(kind, payload)`` signal, which Qt queues to the window's thread.  The
child already batches step losses (≈ 20 batches/s), computes the decision
map once per epoch and samples the watched edge's histograms, so the events
stay few and cheap.

A child that dies (a crash in a native library, a kill, out of memory) ends
the run with a fault that says so, keeping the metrics received; a child that
does not stop in time after Stop is ended, so this thread ends within 2 s (R5).

The run works on a snapshot (the project document as a dict, taken at
Start), so editing the network while it trains changes nothing here.
torch is not imported here; the device list comes from :mod:`runtime.devices`.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QThread, Signal

from runtime import remote
from runtime.devices import available_devices, device_total_memory
from runtime.protocol import FINAL, Kind, Refused

__all__ = ["TrainingWorker", "available_devices", "device_total_memory", "warm_up"]


def warm_up() -> None:
    """Start the training processes' fork server (torch loads there, in the background).

    Only a head start: a failure here shows, with its message, at Start.
    """
    try:
        remote.warm_up()
    except Exception:  # noqa: BLE001 (Start reports the same cause in words)
        pass


def _path(p) -> str | None:
    return str(Path(p)) if p is not None else None


class TrainingWorker(QThread):
    """Runs one training run in a child process, relayed by this thread.

    Args:
        network: the run's snapshot: the project document as a dict (its
            ``training`` is trained; the whole dict is stored in checkpoints).
            Not copied: the caller hands over a dict no one else changes.
        name: the project name.
        out_dir: folder for ``best.pt``/``last.pt``.
        base_dir: folder for relative dataset paths.
        resume: a checkpoint to continue from.
        init_weights: a checkpoint whose weights start this run (a finished
            run's model loaded back; fresh optimizer, epoch 0).
        fault: tests only: a fault the child injects
            (:func:`runtime.remote_child.inject`).

    Signals:
        event(kind, payload): every event of the run, a
            :class:`runtime.protocol.Kind` and its payload object, in order;
            the last is ``RUN_END`` or ``REFUSED`` (also when no process
            could be started).
    """

    event = Signal(object, object)

    def __init__(self, network: dict, *, name: str = "Network", out_dir=None,
                 base_dir=None, resume=None, init_weights=None, fault: dict | None = None,
                 parent=None):
        super().__init__(parent)
        self.network = network
        self.name = name
        self.kwargs = dict(out_dir=_path(out_dir), base_dir=_path(base_dir),
                           resume=_path(resume), init_weights=_path(init_weights))
        self.fault = fault
        self.watch_node: str | None = None
        self.remote: remote.RemoteRun | None = None
        #: True once the child has applied a pause (False again after resume).
        self.paused = False
        self._lock = threading.Lock()
        self._stop = False
        self._pause = False

    @property
    def pid(self) -> int | None:
        """The training process's id (None before it started)."""
        return self.remote.pid if self.remote is not None else None

    def spec(self) -> dict:
        """The run as plain data for the child (:class:`runtime.remote.RemoteRun`)."""
        return dict(network=self.network, training=self.network.get("training") or {},
                    project=self.network, name=self.name, watch=self.watch_node,
                    fault=self.fault, **self.kwargs)

    def run(self) -> None:  # the worker thread
        try:
            spec = self.spec()
            # the window's run record keeps the metrics: the reader need not
            run = remote.RemoteRun(spec, keep_metrics=False)
            with self._lock:  # controls before the start are kept and act on it
                if self._stop:  # stopped at once: the child still reports a (stopped) end
                    run.stop()
                if self._pause:
                    run.pause()
                if self.watch_node != spec["watch"]:  # an edge clicked while the spec was made
                    run.watch(self.watch_node)
                self.remote = run
            run.start()  # may wait for the fork server: not under the lock the window takes
        except Exception as exc:  # e.g. no process could be started (R5: the window lives)
            self.event.emit(Kind.REFUSED, Refused(
                f"training could not start: {type(exc).__name__}: {exc}"))
            return
        try:
            while True:
                ev = run.get(0.1)
                if ev is None:
                    continue
                kind, payload = ev
                if kind is Kind.PAUSED:  # read by the window's thread without a signal
                    self.paused = payload.paused
                self.event.emit(kind, payload)
                if kind in FINAL:
                    break
        finally:
            run.close()

    # -- control, from the window's thread ----------------------------------------
    def stop(self) -> None:
        with self._lock:
            self._stop = True
            if self.remote is not None:
                self.remote.stop()

    def pause(self) -> None:
        with self._lock:
            self._pause = True
            if self.remote is not None:
                self.remote.pause()

    def resume(self) -> None:
        with self._lock:
            self._pause = False
            if self.remote is not None:
                self.remote.resume()

    def watch(self, node_id: str | None) -> None:
        """Sample histograms of this node's output (None: stop sampling)."""
        with self._lock:
            self.watch_node = node_id
            if self.remote is not None:
                self.remote.watch(node_id)
