"""A strip of 8 augmented training samples: what the network will see.

:class:`AugmentPreview` shows the first training samples of the chosen
dataset after ``training.augment``, computed by the engine's own function
(:func:`runtime.augment.preview_samples`, which calls
:func:`runtime.augment.augment_batch`) on a plain thread, so the window
never waits for the dataset or for torch.  Images are drawn as pictures
(grey for one channel, colour for three; one brightness scale for the
strip, taken from the unchanged samples, so noise shows as noise); token
sequences and other vectors as text (a dropped token as ``_``).

A refresh is asked for with :meth:`AugmentPreview.request` whenever the
settings may have changed; it waits a moment for more changes, does
nothing when what the strip depends on is unchanged, and drops an answer
that a newer request has overtaken.
"""

from __future__ import annotations

import json
import threading

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

COUNT = 8
#: Side of one image in the strip, in pixels.
SIDE = 52


class _Relay(QObject):
    """Carries a thread's answer to the window's thread (a queued signal)."""

    done = Signal(int, object)


class AugmentPreview(QWidget):
    """The strip; :meth:`request` refreshes it.

    Signals:
        refreshed: new samples are shown (or the reason there are none).
    """

    refreshed = Signal()

    def __init__(self, parent: QWidget | None = None, delay_ms: int = 150):
        super().__init__(parent)
        self._key: str | None = None
        self._pending: tuple | None = None
        self._generation = 0
        self._relay = _Relay(self)
        self._relay.done.connect(self._show)
        self._timer = QTimer(self, singleShot=True, interval=delay_ms)
        self._timer.timeout.connect(self._start)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.setSpacing(3)
        self.samples: list[QLabel] = []
        for _ in range(COUNT):
            lab = QLabel()
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
            lab.setMinimumSize(SIDE, SIDE)
            lab.setStyleSheet("background: #111; color: #ddd; font-family: monospace;")
            lab.setWordWrap(True)
            row.addWidget(lab)
            self.samples.append(lab)
        box.addLayout(row)
        self.note = QLabel("Training samples as the network will see them")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #888;")
        box.addWidget(self.note)
        #: the augmented samples shown (a NumPy array), None before the first answer
        self.shown: np.ndarray | None = None

    # ------------------------------------------------------------ requests
    def request(self, dataset, input_shape, input_dtype: str, augment, seed: int,
                base_dir=None) -> None:
        """Show these settings' samples (soon; nothing when they are what is shown).

        Args:
            dataset: the ``training.dataset`` object.
            input_shape: the ``Input``'s sample shape.
            input_dtype: the ``Input``'s dtype.
            augment: the ``training.augment`` object.
            seed: the run's seed.
            base_dir: the folder relative dataset paths are read from.
        """
        key = json.dumps([dataset, input_shape, input_dtype, augment, seed, str(base_dir)],
                         sort_keys=True, default=str)
        if key == self._key:
            return
        self._key = key
        self._pending = (dataset, input_shape, input_dtype, augment, seed, base_dir)
        self._timer.start()

    def _start(self) -> None:
        if self._pending is None:
            return
        args, self._pending = self._pending, None
        self._generation += 1
        generation = self._generation
        threading.Thread(target=self._compute, args=(generation, args), daemon=True,
                         name="augment-preview").start()

    def _compute(self, generation: int, args) -> None:  # a plain thread
        dataset, shape, dtype, augment, seed, base = args
        try:
            if not isinstance(dataset, dict) or not dataset:
                raise ValueError("choose a dataset to see its samples")
            from runtime.augment import preview_samples  # torch: off the window's thread

            answer = preview_samples(dataset, shape, dtype, augment, seed, COUNT, base)
        except Exception as exc:  # a bad dataset or setting: said under the strip
            answer = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        try:
            self._relay.done.emit(generation, answer)
        except RuntimeError:  # the panel was closed meanwhile: nobody to show it to
            pass

    # ------------------------------------------------------------ showing
    def _show(self, generation: int, answer) -> None:
        if generation != self._generation:
            return  # overtaken by a newer request
        if isinstance(answer, str):
            self.shown = None
            for lab in self.samples:
                lab.clear()
            # the reason is Start's own message too: said once in the window,
            # here on hover
            self.note.setText("No preview: the training data could not be read.")
            self.note.setToolTip(answer)
            self.refreshed.emit()
            return
        before, after = answer
        self.shown = after
        image = after.dtype.kind == "f" and after.ndim == 4 and after.shape[1] in (1, 3)
        lo, hi = (float(before.min()), float(before.max())) if image and before.size else (0, 1)
        for lab, sample in zip(self.samples, after):
            if image:
                lab.setPixmap(_pixmap(sample, lo, hi))
            else:
                lab.setPixmap(QPixmap())
                lab.setText(_text(sample))
        for lab in self.samples[len(after):]:
            lab.clear()
        self.note.setToolTip("")
        self.note.setText("Training samples as the network will see them" + (
            " (validation samples are never changed)"))
        self.refreshed.emit()


def _pixmap(sample: np.ndarray, lo: float, hi: float) -> QPixmap:
    """One C×H×W image (1 or 3 channels) scaled to the strip's size."""
    span = hi - lo if hi > lo else 1.0
    a = np.clip((sample - lo) / span * 255, 0, 255).astype(np.uint8)
    h, w = a.shape[1:]
    if a.shape[0] == 1:
        data = np.ascontiguousarray(a[0])
        img = QImage(data.data, w, h, w, QImage.Format.Format_Grayscale8)
    else:
        data = np.ascontiguousarray(np.moveaxis(a, 0, -1))
        img = QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    img = img.copy()  # own its pixels: ``data`` goes away
    return QPixmap.fromImage(img).scaled(SIDE, SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.FastTransformation)


def _text(sample: np.ndarray, limit: int = 12) -> str:
    """A sequence of tokens (a dropped one as ``_``) or numbers, shortened."""
    flat = sample.reshape(-1)
    if flat.dtype.kind in "iu":
        parts = ["_" if int(v) == 0 else str(int(v)) for v in flat[:limit]]
    else:
        parts = [f"{float(v):.2g}" for v in flat[:limit]]
    return " ".join(parts) + (" …" if len(flat) > limit else "")
