"""Training in a child process (runtime.remote), without Qt: every event arrives,
stop/pause/watch reach the child, faults and a dying child end the run with a
message and the metrics received so far, and the result is plain data."""

from __future__ import annotations

import os
import pickle
import signal

import numpy as np
import pytest
import torch

from graph.project import Project, project_to_dict
from runtime.protocol import (Kind, Paused, Refused, decode, encode, result_from_plain,
                              result_to_plain)
from runtime.protocol import EMIT_EVERY
from runtime.remote import RemoteRun, describe_exit
from runtime.budget import EXTRAS_SHARE, Budget
from runtime.remote_child import Bridge, build_trainer, default_threads
from support import chain


def spec(epochs=3, n=200, **kw) -> dict:
    g = chain(("Linear", {"out_features": 16}), "ReLU", ("Linear", {"out_features": 2}),
              input_shape=(2,))
    g.rename("l1", "hidden")
    t = {"dataset": {"name": "moons", "n": n}, "epochs": epochs, "batch_size": 16,
         "optimizer": {"type": "Adam", "lr": 0.01}, "device": "cpu"}
    return dict(network=project_to_dict(Project("Moons", g, t)), training=t, name="Moons", **kw)


def started(**kw) -> RemoteRun:
    run = RemoteRun(spec(**kw))
    run.start()
    return run


def collect(run: RemoteRun, until=None) -> list:
    """Events up to the last (or up to the first for which ``until`` is true)."""
    seen = []
    for ev in run.events():
        seen.append(ev)
        if until is not None and until(*ev):
            break
    return seen


def test_every_event_arrives_and_the_result_is_plain_data(tmp_path):
    run = started(watch="l1", out_dir=str(tmp_path))
    events = collect(run)
    assert run.close() == 0
    kinds = [k for k, _ in events]
    assert kinds[0] == "run_start" and kinds[-1] == "run_end"
    # the map after the first epoch and the trained model's at the end; the one
    # between only when it fits the extras' budget (see the test below)
    assert kinds.count("epoch") == 3 and 2 <= kinds.count("grid") <= 3 and "points" in kinds
    assert kinds.index("grid") > kinds.index("epoch")
    assert max(i for i, k in enumerate(kinds) if k == "grid") > \
        max(i for i, k in enumerate(kinds) if k == "epoch")
    info = events[0][1]
    assert info.nodes["l1"]["name"] == "hidden" and info.steps_per_epoch == 10
    steps = [s for k, p in events if k == "steps" for s in p.steps]
    assert steps == list(range(1, 31))  # every step's loss, in order, none twice
    rows = [p for k, p in events if k == "epoch"]
    assert [r.epoch for r in rows] == [1, 2, 3] and rows[-1].step == 30
    assert "hidden" in rows[0].grad_norms and "l1" not in rows[0].grad_norms  # names
    # the engine's epoch metric of a payload field's name fills it: the epoch's mean loss
    assert all(r.train_loss > 0 for r in rows) and "train_loss" not in rows[0].extra
    grid = next(p for k, p in events if k == "grid")
    assert grid.probabilities.shape == (64, 64, 2) and len(grid.extent) == 4
    h = next(p for k, p in events if k == "histogram")
    assert h.node == "l1" and h.quantity in ("activations", "gradients")
    assert len(h.edges) == len(h.counts) + 1
    assert all(isinstance(k, Kind) for k, _ in events)
    for kind, payload in events:  # every event survives its plain form
        plain = encode(kind, payload)
        assert pickle.loads(pickle.dumps(plain))[0] == kind
        if kind not in (Kind.GRID, Kind.HISTOGRAM, Kind.POINTS):  # numpy arrays inside
            again = decode(*plain)
            assert again == (kind, payload)
    result = events[-1][1]
    assert result.stopped == "completed" and result.epochs == 3 and len(result.step_losses) == 30
    assert result.checkpoints["last"] == str(tmp_path / "last.pt")
    again = pickle.loads(pickle.dumps(result))
    assert again == result and result_from_plain(result_to_plain(result)) == result


def test_stop_ends_the_run_with_its_metrics_and_a_checkpoint(tmp_path):
    run = started(epochs=500, n=2000, out_dir=str(tmp_path))
    collect(run, until=lambda k, p: k == "epoch")
    run.stop()
    kind, result = collect(run)[-1]
    assert run.close() == 0  # the child ended by itself
    assert kind == "run_end" and result.stopped == "stopped" and 1 <= result.epochs < 500
    assert result.checkpoints["last"] == str(tmp_path / "last.pt")


def test_a_stop_before_the_child_started_still_reports_the_end():
    run = RemoteRun(spec())
    run.stop()
    run.start()
    kind, result = collect(run)[-1]
    run.close()
    assert kind == "run_end" and result.stopped == "stopped" and result.epochs == 0


def test_pause_holds_training_until_resume():
    run = started(epochs=500, n=2000)
    collect(run, until=lambda k, p: k == "steps")
    run.pause()
    collect(run, until=lambda k, p: k == "paused")
    # the child confirmed the pause; a batch already under way may still arrive
    for _ in range(3):
        run.get(0.1)
    run.watch(None)  # a command while paused is fine
    quiet = [run.get(0.1) for _ in range(5)]
    assert not [ev for ev in quiet if ev is not None and ev[0] == "steps"]
    run.resume()
    after = collect(run, until=lambda k, p: k == "steps")
    assert ("paused", Paused(False)) in after
    run.stop()
    assert collect(run)[-1][1].stopped == "stopped"
    run.close()


def test_an_exception_in_a_layer_names_the_node():
    run = started(fault={"node": "l3", "step": 12, "message": "kernel exploded"})
    kind, result = collect(run)[-1]
    run.close()
    assert result.stopped == "error" and result.fault.node == "l3" and result.epochs == 1
    assert result.fault.message == ('Linear "linear_2" failed during training: RuntimeError: '
                                    "kernel exploded")


def test_a_killed_child_ends_the_run_with_a_message_and_the_metrics_so_far(tmp_path):
    run = started(epochs=500, n=2000, out_dir=str(tmp_path))
    events = collect(run, until=lambda k, p: k == "epoch" and p.epoch == 2)
    os.kill(run.pid, signal.SIGKILL)
    kind, result = collect(run)[-1]
    assert kind == "run_end" and result.stopped == "error" and result.fault.kind == "crash"
    assert result.fault.message == (
        "the training process ended unexpectedly (exit code -9, SIGKILL: killed, perhaps by "
        "the system for lack of memory); the metrics received so far are kept")
    assert [r["epoch"] for r in result.history][:2] == [1, 2] and result.task == "classification"
    received = [x for k, p in events if k == "steps" for x in p.losses]
    assert result.step_losses[:len(received)] == received
    assert result.checkpoints["last"] == str(tmp_path / "last.pt")
    assert run.process.exitcode == -9


def test_a_reader_that_keeps_the_metrics_itself_gets_an_end_that_says_how_far_it_got():
    run = RemoteRun(spec(epochs=500, n=2000), keep_metrics=False)  # as the window's worker
    run.start()
    collect(run, until=lambda k, p: k == "epoch" and p.epoch == 2)
    os.kill(run.pid, signal.SIGKILL)
    kind, result = collect(run)[-1]
    assert kind == "run_end" and result.fault.kind == "crash" and result.fault.epoch == 3
    assert result.epochs == 2 and result.history == [] and result.step_losses == []
    assert run.rows == [] and run.step_losses == []  # nothing held twice


def test_a_crash_inside_a_native_library_is_named():
    run = started(fault={"node": "l3", "step": 3, "kind": "crash"})
    kind, result = collect(run)[-1]
    assert result.fault.message.startswith(
        "the training process ended unexpectedly (exit code -11, SIGSEGV: a crash inside a "
        "native library)")
    assert result.epochs == 0


def test_a_child_that_ignores_stop_is_ended():
    run = started(fault={"node": "l3", "kind": "hang"})
    collect(run, until=lambda k, p: k == "run_start")
    run.stop()
    kind, result = collect(run)[-1]
    assert result.stopped == "stopped" and result.notes == [
        "the training process did not stop within 1.5 s and was ended"]
    assert run.process.exitcode is not None  # terminated and reaped


def test_a_refusal_before_training_is_an_event():
    bad = spec()
    bad["training"] = dict(bad["training"], dataset={"name": "digits"})
    run = RemoteRun(bad)
    run.start()
    kind, message = collect(run)[-1]
    run.close()
    assert kind == "refused"
    assert message.message.startswith('Input "x_1": dataset "digits" gives samples of shape 1×8×8')


def test_a_child_whose_parent_stops_listening_stops_training():
    run = started(epochs=500, n=2000)
    collect(run, until=lambda k, p: k == "steps")
    run.conn.close()  # as if the window had gone: the child's sends fail
    run.process.join(10)
    assert run.process.exitcode == 0


@pytest.mark.parametrize("code, words", [
    (-9, "exit code -9, SIGKILL: killed, perhaps by the system for lack of memory"),
    (-11, "exit code -11, SIGSEGV: a crash inside a native library"),
    (3, "exit code 3"), (None, "it stopped answering"),
])
def test_exit_codes_in_words(code, words):
    assert describe_exit(code) == words


def test_numpy_payloads_survive_the_pipe():
    run = started(epochs=1)
    points = next(p for k, p in collect(run) if k == "points")
    run.close()
    assert isinstance(points.x, np.ndarray) and points.num_classes == 2


def test_a_run_can_start_from_another_runs_checkpoint(tmp_path):
    first = started(epochs=1, out_dir=str(tmp_path / "a"))
    collect(first)
    first.close()
    ck = str(tmp_path / "a" / "last.pt")
    run = started(epochs=1, init_weights=ck)
    events = collect(run)
    run.close()
    assert f"weights loaded from {ck!r}: 4 of 4 tensors" in events[0][1].notes
    assert events[-1][1].stopped == "completed" and events[-1][1].epochs == 1  # a new run
    missing = started(init_weights=str(tmp_path / "nope.pt"))
    kind, message = collect(missing)[-1]
    missing.close()
    nope = str(tmp_path / "nope.pt")
    assert (kind, message) == ("refused", Refused(f"checkpoint {nope!r} does not exist"))


def test_each_epoch_carries_the_diagnosis_so_far():
    s = spec(epochs=3)
    s["training"] = dict(s["training"], optimizer={"type": "SGD", "lr": 0.0})  # learns nothing
    run = RemoteRun(s)
    run.start()
    events = collect(run)
    run.close()
    rows = [p for k, p in events if k == "epoch"]
    assert [r.diagnosis for r in rows[:2]] == [[], []]
    result = events[-1][1]
    assert rows[-1].diagnosis == result.diagnosis == [{
        "kind": "underfitting", "message": "training accuracy is only 50% and has stopped "
        "improving", "suggestion": "train longer, raise the learning rate, or make the model "
        "larger (more units or layers)"}]
    assert all("diagnosis" not in r for r in run.rows)  # the kept history stays metrics only
    steps = [p for k, p in events if k == "steps"]
    assert all(0.0 <= p.train_accuracy <= 1.0 for p in steps)


def test_an_input_node_has_histograms_of_the_input_batch():
    run = started(epochs=1, watch="x")
    events = collect(run)
    run.close()
    hists = [p for k, p in events if k == "histogram"]
    assert hists and {(h.node, h.quantity) for h in hists} == {("x", "activations")}
    edges, counts = hists[0].edges, hists[0].counts
    assert len(edges) == len(counts) + 1 and counts.sum() == 16 * 2  # one batch of 2 features


def test_a_decision_map_that_outweighs_the_epochs_is_spaced_by_its_cost():
    """A wide network's 64×64 grid pass costs more than a whole short epoch: one map
    per epoch would make the live view slow training down several times.  The map
    comes after the first epoch and, trained, at the end; none between."""
    g = chain(("Linear", {"out_features": 1024}), "ReLU", ("Linear", {"out_features": 1024}),
              "ReLU", ("Linear", {"out_features": 2}), input_shape=(2,))
    t = {"dataset": {"name": "moons", "n": 80}, "epochs": 12, "batch_size": 64,
         "optimizer": {"type": "Adam", "lr": 0.001}, "device": "cpu"}
    run = RemoteRun(dict(network=project_to_dict(Project("Wide", g, t)), training=t, name="W"))
    run.start()
    events = collect(run)
    assert run.close() == 0
    kinds = [k for k, _ in events]
    assert kinds.count("epoch") == 12 and kinds[-1] == "run_end"
    grids = [i for i, k in enumerate(kinds) if k == "grid"]
    first_epoch = kinds.index("epoch")
    last_epoch = max(i for i, k in enumerate(kinds) if k == "epoch")
    assert grids[0] == first_epoch + 1  # the first epoch's map, at once
    assert grids[-1] > last_epoch  # the trained model's map
    assert len(grids) <= 3, f"{len(grids)} maps for 12 epochs: not spaced by their cost"
    final = events[grids[-1]][1]
    assert final.probabilities.shape == (64, 64, 2)


def test_a_budget_spaces_an_extra_by_what_it_costs():
    now = [100.0]
    b = Budget(share=EXTRAS_SHARE, every=0.3, clock=lambda: now[0])
    assert b.due()  # the first run at once
    began = now[0]
    now[0] += 0.010  # it took 10 ms: the next may come 10 ms / 2 % = 0.5 s after it began
    b.spend(began)
    now[0] = began + 0.49
    assert not b.due()
    now[0] = began + 0.501
    assert b.due()
    began = now[0]
    now[0] += 0.001  # a cheap run: its own spacing (0.3 s) holds
    b.spend(began)
    now[0] = began + 0.29
    assert not b.due()
    b.charge(0.004)  # its gradient half, binned later in backward: 0.2 s more
    now[0] = began + 0.49
    assert not b.due()
    now[0] = began + 0.501
    assert b.due() and b.runs == 2


class _Outbox:
    def __init__(self):
        self.sent = []

    def put(self, kind, payload):
        self.sent.append((kind, payload))


def test_the_engine_reports_to_the_child_only_as_often_as_a_batch_goes_out():
    """Each report reads the running accuracy back from the training device: the
    child asks for one per batch of step losses it sends, not more."""
    s = spec(epochs=2, n=12000)
    s["training"] = dict(s["training"], batch_size=8)
    out = _Outbox()
    bridge = Bridge(out)
    trainer = build_trainer(s, bridge)
    calls = []
    trainer.callbacks.append(type("Count", (), {"on_step": lambda self, m: calls.append(m)})())
    threads = torch.get_num_threads()
    torch.set_num_threads(default_threads())  # as the child trains: steps far shorter
    try:                                      # than a report's spacing
        result = trainer.run()
    finally:
        torch.set_num_threads(threads)
    seconds = sum(r["seconds"] for r in result.history)
    assert seconds > 0.3  # long enough to tell one report per batch from two
    batches = [p for k, p in out.sent if k == "steps"]
    assert len(batches) == len(calls)  # each report goes out as it comes
    # one per EMIT_EVERY, plus each epoch's last (partial) report
    assert len(calls) <= seconds / EMIT_EVERY + 2 * 2 + 1
    assert [s for b in batches for s in b.steps] == list(range(1, trainer.step + 1))
