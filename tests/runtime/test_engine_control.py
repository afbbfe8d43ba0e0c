"""Stop, pause and resume are thread-safe (R5): however calls from many threads
interleave, a stop is never lost behind a pause and a paused run always wakes
for it.  The assertions hold for every interleaving, so nothing is timed."""

from __future__ import annotations

import threading

from runtime import Trainer
from support import blobs, chain


def trainer(**kw) -> Trainer:
    g = chain(("Linear", {"out_features": 8}), ("Linear", {"out_features": 2}), input_shape=(2,))
    return Trainer(g, {"epochs": 100_000, "batch_size": 8}, dataset=blobs(), **kw)


def hammer(t: Trainer, rounds: int, start: threading.Barrier, stop_at: int | None = None):
    """pause/resume ``rounds`` times, ending paused; stop after ``stop_at`` rounds."""
    start.wait()
    for k in range(rounds):
        t.pause()
        t.resume()
        if k == stop_at:
            t.stop()
    t.pause()


def test_a_stop_among_pauses_from_many_threads_is_never_lost():
    t = trainer()
    start = threading.Barrier(5)
    threads = [threading.Thread(target=hammer, args=(t, 2000, start, 1000 if k == 0 else None))
               for k in range(5)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # every thread ended with pause(), but the stop came first: nothing holds
    assert t.stopping and not t.paused and t.hold
    assert t.wait_while_paused() == 0.0
    t.resume()
    assert t.hold, "resume must not undo a stop"


def test_a_waiter_blocked_by_pause_wakes_for_stop():
    t = trainer()
    t.pause()
    woke = []
    waiter = threading.Thread(target=lambda: woke.append(t.wait_while_paused()))
    waiter.start()
    t.stop()
    waiter.join(30)
    assert not waiter.is_alive() and len(woke) == 1
    t.pause()
    assert not t.paused  # a pause after the stop has no effect


def test_a_training_run_hammered_with_pause_resume_and_stop_ends_stopped():
    t = trainer()
    t.prepare()
    out = {}
    first_step = threading.Event()

    class Started:
        def on_step(self, m):
            first_step.set()

    t.callbacks.append(Started())
    t.report_every = 0
    run = threading.Thread(target=lambda: out.setdefault("r", t.run()))
    run.start()
    assert first_step.wait(60)
    start = threading.Barrier(4)
    threads = [threading.Thread(target=hammer, args=(t, 300, start, 150 if k == 0 else None))
               for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    run.join(60)
    assert not run.is_alive(), "the run was left waiting on a pause after stop()"
    assert out["r"].stopped == "stopped" and 1 <= len(out["r"].step_losses)
