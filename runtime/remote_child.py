"""The child process's side of :mod:`runtime.remote`: train and stream events.

:func:`main` builds the :class:`~runtime.engine.Trainer` from the spec's
plain data, and :class:`Bridge` turns its callbacks into the events of
:mod:`runtime.protocol` (payload objects, sent as the protocol's plain data:
numbers, lists, dicts, numpy arrays).  The live extras run on the training
thread, so each is spaced to keep the loop at its headless speed (``quality.md``
B4):

- step losses go out in batches: the engine reports every
  :data:`~runtime.protocol.EMIT_EVERY` seconds (its report reads the running
  accuracy, a host sync, so it is asked for no more often than a batch is sent)
  and each report is sent as one batch;
- the decision map (2-D classification data): class probabilities on a
  :data:`GRID`\\ ² grid over the data's extent, at the end of an epoch;
- histograms of one watched node's output: a forward hook bins the
  activations, a tensor hook the gradients, at most every :data:`HIST_EVERY` s;
  an ``Input`` node has no layer, so a forward pre-hook on the model bins
  the input batch (activations only: input data has no gradient).

The map and the histograms cost what the model and the watched tensor make
them cost (a wide network's grid pass can outlast a short epoch), so each has a
:class:`~runtime.budget.Budget`: its runs are timed and spaced so that each
takes at most :data:`~runtime.budget.EXTRAS_SHARE` of the time.  An epoch
whose map was skipped gets it at the run's end, so the last map shown is the
trained model's.

Events leave through an :class:`Outbox` thread (which also encodes them), so
the training thread never waits on the pipe.  A control thread applies stop, pause and resume (from
multiprocessing events) and watch commands (from a pipe); when the parent
goes away its command pipe reads as closed and training stops.
"""

from __future__ import annotations

import os
import queue
import threading
import time

import numpy as np
import torch

from .budget import Budget
from .engine import Callback, Trainer
from .errors import TrainingError
from .protocol import EMIT_EVERY, Epoch, Grid, Histogram, Kind, Paused, Points, Refused, \
    RunStart, Steps, encode

#: Seconds between two histogram samples of the watched node (at least).
HIST_EVERY = 0.3
#: Cells per side of the decision-map grid.
GRID = 64
#: Most data points drawn on the decision map.
MAX_POINTS = 1000
#: Values binned per histogram (a strided subsample of larger tensors).
HIST_SAMPLE = 65536
BINS = 40
#: How much lower than the window the training process runs (``os.nice``).
NICE = 5
#: Seconds between two looks of the control thread at stop and pause.
POLL = 0.02


def _yield_to_the_window(nice: int) -> None:
    """Run below the window's priority: when both want a core, the window wins.

    Training takes all the CPU it is given; the window needs little, but at
    once (a repaint, a click).  At equal priority the scheduler shares a core
    between them and a 3 ms repaint took 30 ms of wall time on a busy
    2-core machine (quality.md B4); a niced training process loses only what
    the window really uses.
    """
    if nice and hasattr(os, "nice"):
        try:
            os.nice(nice)
        except OSError:  # not allowed here: train at the normal priority
            pass


def default_threads() -> int:
    """Torch threads for a run: all cores but one, which the window keeps."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 2
    return max(1, n - 1)


def histogram(t: torch.Tensor):
    """``(edges, counts)`` of a tensor's finite values, or None."""
    flat = t.detach().reshape(-1)
    if flat.numel() == 0 or not flat.is_floating_point():
        return None
    if flat.numel() > HIST_SAMPLE:
        flat = flat[:: flat.numel() // HIST_SAMPLE + 1]
    values = flat.float().cpu().numpy()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    counts, edges = np.histogram(values, bins=BINS)
    return edges, counts


class Outbox:
    """Sends events from a thread of its own, in order; the sender never blocks training."""

    def __init__(self, conn, on_broken):
        self.conn = conn
        self.on_broken = on_broken
        self.q: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._send, name="netcanvas-outbox", daemon=True)
        self.thread.start()

    def put(self, kind: Kind, payload) -> None:
        """Queue one event (a :mod:`runtime.protocol` kind and its payload object)."""
        self.q.put((kind, payload))

    def close(self) -> None:
        """Send what is queued, then close the pipe."""
        self.q.put(None)
        self.thread.join(30.0)
        self.conn.close()

    def _send(self) -> None:
        while (ev := self.q.get()) is not None:
            try:
                self.conn.send(encode(*ev))
            except OSError:  # the parent is gone: nobody is watching, stop training
                self.on_broken()
                return


class Bridge(Callback):
    """Engine callbacks → events (on the training thread)."""

    def __init__(self, out: Outbox, watch: str | None = None):
        self.out = out
        self.trainer: Trainer | None = None
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.last: dict = {}
        self.names: dict[str, str] = {}
        self.output_ids: list[str] = []
        self.grid_points = None
        self.extent = None
        self.hook = None
        self.want = watch      # set by the control thread
        self.watched = None    # hooked, on the training thread
        self.hist_budget = Budget(every=HIST_EVERY)
        self.grid_budget = Budget()
        self.grid_stale = False  # an epoch ended whose map was not sent

    # -- engine events --------------------------------------------------------
    def on_run_start(self, info: dict) -> None:
        self.names = {nid: d["name"] for nid, d in info["nodes"].items()}
        start = RunStart.from_plain(info)
        # each output's metrics travel in Epoch.outputs, not among the run's own
        self.output_ids = [o["id"] for o in start.per_output()]
        self.out.put(Kind.RUN_START, start)
        self._points()
        self._watch()

    def on_step(self, m: dict) -> None:
        new = m.get("losses") or []
        first = m["step"] - len(new) + 1
        self.steps.extend(range(first, m["step"] + 1))
        self.losses.extend(new)
        self.last = m
        self._watch()
        # the engine reports every EMIT_EVERY s (main() asks it to): one batch each
        self._flush()

    def on_epoch_end(self, m: dict) -> None:
        self._flush()
        names = {self.names.get(k, k): v for k, v in (m.get("grad_norms") or {}).items()}
        self.out.put(Kind.EPOCH, Epoch.from_row({**m, "grad_norms": names,
                                                 "step": self.trainer.step}, self.output_ids))
        if self.grid_points is None:
            return
        if self.grid_budget.due():
            self._grid()
        else:
            self.grid_stale = True

    def on_run_end(self, result) -> None:
        self._flush()
        self._unhook()
        if self.grid_stale:  # the map shown last is the trained model's
            self._grid()
        self.out.put(Kind.RUN_END, result)

    # -- helpers ---------------------------------------------------------------
    def _flush(self) -> None:
        if not self.steps:
            return
        # the engine's step metrics by name: a field added to Steps is filled here
        batch = Steps.from_plain(dict(self.last, steps=self.steps, losses=self.losses))
        self.steps, self.losses = [], []
        self.out.put(Kind.STEPS, batch)

    def _points(self) -> None:
        s = self.trainer.setup
        if not (s.plan.classification and tuple(s.X.shape[1:]) == (2,)):
            return
        x = s.X[:MAX_POINTS].float().cpu().numpy()
        lab = (s.L if s.L is not None else s.Y)[:MAX_POINTS].reshape(len(x), -1)[:, 0]
        lab = lab.long().cpu().numpy()
        lo, hi = x.min(axis=0), x.max(axis=0)
        pad = np.maximum((hi - lo) * 0.08, 1e-3)
        lo, hi = lo - pad, hi + pad
        self.extent = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
        xs = torch.linspace(self.extent[0], self.extent[1], GRID)
        ys = torch.linspace(self.extent[2], self.extent[3], GRID)
        yy, xx = torch.meshgrid(ys, xs, indexing="ij")  # row 0 is y_min
        self.grid_points = torch.stack([xx.reshape(-1), yy.reshape(-1)], 1).to(s.device)
        self.out.put(Kind.POINTS, Points(x=x[:, 0], y=x[:, 1], labels=lab,
                                         num_classes=s.dataset.num_classes))

    def _grid(self) -> None:
        if self.grid_points is None:
            return
        began = time.perf_counter()
        self.grid_stale = False
        try:
            self._send_grid()
        finally:
            self.grid_budget.spend(began)

    def _send_grid(self) -> None:
        model = self.trainer.model
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                out = model(self.grid_points).float()
        except Exception:  # the map is a nicety; a failing model reports elsewhere
            return
        finally:
            model.train(was_training)
        if out.ndim == 2 and out.shape[1] >= 2:
            grid = torch.softmax(out, 1).reshape(GRID, GRID, -1)
        elif out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1):
            grid = torch.sigmoid(out.reshape(GRID, GRID))
        else:
            return
        self.out.put(Kind.GRID, Grid(torch.nan_to_num(grid, nan=0.0).cpu().numpy(), self.extent))

    def _watch(self) -> None:
        want = self.want
        if want == self.watched:
            return
        self._unhook()
        self.watched = want
        t = self.trainer
        node = t.graph.nodes.get(want) if want else None
        if node is not None and node.spec is not None and node.spec.role == "input":
            self.hook = t.model.register_forward_pre_hook(self._input_hook)
            return
        attr = t.setup.code.attrs.get(want) if want else None
        mod = getattr(t.model, attr, None) if attr else None
        if isinstance(mod, torch.nn.Module):
            self.hook = mod.register_forward_hook(self._forward_hook)

    def _unhook(self) -> None:
        if self.hook is not None:
            self.hook.remove()
            self.hook = None

    def _input_hook(self, _model, args) -> None:
        if not torch.is_grad_enabled() or not args or not isinstance(args[0], torch.Tensor):
            return
        if not self.hist_budget.due():
            return
        began = time.perf_counter()
        try:
            x = args[0]
            h = histogram(x if x.is_floating_point() else x.float())  # token ids as numbers
            if h is not None:
                self.out.put(Kind.HISTOGRAM, Histogram(self.watched, "activations", h[0], h[1]))
        finally:  # also a failed sample waits its turn: never one attempt per step
            self.hist_budget.spend(began)

    def _forward_hook(self, _mod, _args, out) -> None:
        if not torch.is_grad_enabled() or not isinstance(out, torch.Tensor):
            return
        budget = self.hist_budget
        if not budget.due():
            return
        began = time.perf_counter()
        node = self.watched
        try:
            h = histogram(out)
            if h is not None:
                self.out.put(Kind.HISTOGRAM, Histogram(node, "activations", h[0], h[1]))
        finally:  # also a failed sample waits its turn: never one attempt per step
            budget.spend(began)
        if out.requires_grad:
            def grad_hook(g, node=node):
                t0 = time.perf_counter()
                hg = histogram(g)
                if hg is not None:
                    self.out.put(Kind.HISTOGRAM, Histogram(node, "gradients", hg[0], hg[1]))
                budget.charge(time.perf_counter() - t0)
            out.register_hook(grad_hook)


def _control(trainer: Trainer, bridge: Bridge, out: Outbox, stop_ev, pause_ev, commands,
             done: threading.Event) -> None:
    """Applies the parent's stop, pause/resume and watch commands (a thread)."""
    paused = False
    while not done.is_set():
        if stop_ev.is_set():
            trainer.stop()
            return
        if pause_ev.is_set() != paused:
            paused = not paused
            if paused:
                trainer.pause()
            else:
                trainer.resume()
            out.put(Kind.PAUSED, Paused(paused))
        try:
            while commands.poll(POLL):
                kind, arg = commands.recv()
                if kind == "watch":
                    bridge.want = arg
        except (EOFError, OSError):  # the parent is gone
            trainer.stop()
            return


def inject(trainer: Trainer, fault: dict) -> None:
    """Tests only: make a node's layer misbehave from a training step on.

    ``fault``: ``node`` (id), ``step`` (global step, default 0), ``kind``:
    ``"raise"`` (a RuntimeError with ``message``), ``"hang"`` (never returns;
    the trainer ignores Stop from the start), ``"crash"`` (the process ends
    with a segfault) or ``"oom"`` (the error CUDA raises when memory runs out).
    """
    mod = getattr(trainer.model, trainer.setup.code.attrs[fault["node"]])
    orig, step, kind = mod.forward, fault.get("step", 0), fault.get("kind", "raise")
    if kind == "hang":
        trainer.stop = lambda: None  # a Stop arriving early must not dodge the hang

    def forward(*args, **kwargs):
        if torch.is_grad_enabled() and trainer.step >= step:
            if kind == "hang":
                while True:
                    time.sleep(1.0)
            if kind == "crash":
                import signal

                os.kill(os.getpid(), signal.SIGSEGV)
            if kind == "oom":
                raise torch.cuda.OutOfMemoryError(
                    "CUDA out of memory. Tried to allocate 2.00 GiB (injected)")
            raise RuntimeError(fault.get("message", "injected fault"))
        return orig(*args, **kwargs)

    mod.forward = forward


def build_trainer(spec: dict, bridge: Bridge) -> Trainer:
    """The run's :class:`~runtime.engine.Trainer`, reporting to ``bridge``.

    The engine reports every :data:`~runtime.protocol.EMIT_EVERY` seconds, as
    often as a batch of step losses goes out and no more: a report reads the
    running accuracy back (a host sync), and twice as many reports as batches
    cost the training thread about 1 % for nothing a person sees.
    """
    from graph.project import project_from_dict

    graph = project_from_dict(spec["network"], "<training snapshot>").graph
    trainer = Trainer(graph, spec["training"], name=spec.get("name", "Network"),
                      callbacks=[bridge], base_dir=spec.get("base_dir"),
                      out_dir=spec.get("out_dir"), resume=spec.get("resume"),
                      init_weights=spec.get("init_weights"),
                      project=spec.get("project"), report_every=EMIT_EVERY)
    bridge.trainer = trainer
    return trainer


def main(spec: dict, conn, stop_ev, pause_ev, commands) -> None:
    """The child process: train ``spec``'s network and send every event to ``conn``."""
    torch.set_num_threads(spec.get("threads") or default_threads())
    _yield_to_the_window(NICE)
    trainer = None
    stopper = threading.Event()

    def broken() -> None:
        stopper.set()
        if trainer is not None:
            trainer.stop()

    out = Outbox(conn, broken)
    done = threading.Event()
    try:
        bridge = Bridge(out, spec.get("watch"))
        trainer = build_trainer(spec, bridge)
        if stopper.is_set():
            trainer.stop()
        threading.Thread(target=_control, name="netcanvas-control", daemon=True,
                         args=(trainer, bridge, out, stop_ev, pause_ev, commands, done)).start()
        trainer.prepare()
        if spec.get("fault"):
            inject(trainer, spec["fault"])
        trainer.run()
    except TrainingError as exc:
        out.put(Kind.REFUSED, Refused(str(exc)))
    except Exception as exc:  # anything else ends the run with a message, not a trace
        out.put(Kind.REFUSED, Refused(f"training could not start: {type(exc).__name__}: {exc}"))
    finally:
        done.set()
        out.close()
