"""The greedy-decoded validation samples of a sequence-to-sequence run, shown
below the diagnosis after each epoch (issue 13 item 2); other runs show none."""
from __future__ import annotations

from gui.training.live_ops import LiveDispatcher
from gui.training.runs import RunRecord
from runtime.protocol import Epoch, Kind, RunStart, decode, encode
from test_training_parts import parts, record

NAMES = ["<start>", *(str(i) for i in range(10))]  # the reverse set's tokens: id 1 is "0"


def sample(src: list[int], pred: list[int]) -> dict:
    tgt = src[::-1]
    return {"input": src, "target": tgt, "prediction": pred, "correct": pred == tgt}


def send(live: LiveDispatcher, kind, payload) -> None:
    """Through the protocol's plain form, as the child process sends it."""
    live.dispatch(*decode(*encode(kind, payload)))


def start(live: LiveDispatcher, rec: RunRecord, names=NAMES) -> None:
    live.runs.add(rec)
    live.plots.add_run(rec.id, metrics=rec.metrics)
    live.begin(rec, None)
    send(live, Kind.RUN_START, RunStart(task="classification", epochs=2, steps_per_epoch=1,
                                        batch_size=16, class_names=names))


def test_each_epoch_shows_its_samples_with_names_and_marks(qtbot):
    live, _ = parts(qtbot)
    panel = live.view.diagnosis
    start(live, record())
    first = [sample([8, 4, 10, 2], [2, 2, 2, 2]), sample([1, 2, 3, 4], [4, 3, 2, 1]),
             sample([5, 5, 6, 7], [7, 6, 5, 1])]
    send(live, Kind.EPOCH, Epoch(epoch=1, step=1, val_loss=2.0, samples=first))
    text = panel.plain_text()
    assert "Samples after epoch 1 (greedy decoding, 1/3 right):" in text
    # ids shown by their token names (id 8 is digit 7)
    assert "7 3 9 1 → target 1 9 3 7 → predicted 1 1 1 1 ✗" in text
    assert "0 1 2 3 → target 3 2 1 0 → predicted 3 2 1 0 ✓" in text
    assert "4 4 5 6 → target 6 5 4 4 → predicted 6 5 4 0 ✗" in text
    html = panel.toHtml()
    assert "<pre" in html and "monospace" in html.lower()
    second = [sample(s["input"], s["target"]) for s in first]  # all right now
    send(live, Kind.EPOCH, Epoch(epoch=2, step=2, val_loss=1.0, samples=second))
    text = panel.plain_text()
    assert "Samples after epoch 2 (greedy decoding, 3/3 right):" in text
    assert "epoch 1" not in text and "✗" not in text
    # the history row keeps metrics only
    assert "samples" not in live.record.history[-1]
    panel.resize(760, 230)
    panel.grab().save("/tmp/helpers/h18_samples.png")
    # a new run starts without the old run's samples
    live.begin(record(), None)
    assert "Samples" not in panel.plain_text()


def test_a_run_without_samples_shows_none(qtbot):
    live, _ = parts(qtbot)
    start(live, record(), names=["a", "b"])
    send(live, Kind.EPOCH, Epoch(epoch=1, step=1, val_loss=1.0))
    assert "Samples" not in live.view.diagnosis.plain_text()
    assert "Samples" not in live.view.diagnosis.toPlainText()


def test_ids_without_names_are_shown_as_numbers(qtbot):
    live, _ = parts(qtbot)
    start(live, record(), names=None)
    send(live, Kind.EPOCH, Epoch(epoch=1, step=1, samples=[sample([3, 12], [12, 3])]))
    assert "3 12 → target 12 3 → predicted 12 3 ✓" in live.view.diagnosis.plain_text()
