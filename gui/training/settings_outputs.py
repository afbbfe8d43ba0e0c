"""One loss per Output in the training settings panel: a row per ``Output`` of
the network, with its name, its loss and its weight in the sum.

A network with several Outputs (or a ``loss`` written per Output id, see
docs/project-format.md "Several inputs and outputs in training") trains each
Output with its own loss, ``loss: {OUTPUT_ID: {"type": ...}}``, weighted by
``loss_weights: {OUTPUT_ID: w}`` (1 each by default).  :func:`output_rows`
reads what each row shows from the ``training`` section, and
:func:`write_output_losses` writes the rows the user changed back into it;
a row left as it was loaded keeps the file's value (a loss's own settings,
or a value the row cannot show, which is marked with its problem instead).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractSpinBox, QComboBox, QDoubleSpinBox, QGridLayout, QLabel,
                               QWidget)

from graph.training_check import per_output
from graph.training_names import LOSSES, is_number

#: what a row's loss list shows for an Output without a loss of its own
DEFAULT = "(default)"
#: the largest weight the spin box offers (a larger one in a file is kept, and shown clipped)
MAX_WEIGHT = 1e6


@dataclass
class OutputRow:
    """What one Output's row shows.

    Attributes:
        id: the Output's node id (the key in ``loss`` and ``loss_weights``).
        name: its name, as on the canvas.
        loss: the loss it trains with (a name from the registry), or
            :data:`DEFAULT` (the task's default loss, or one it cannot show).
        weight: its weight in the sum of the losses.
    """

    id: str
    name: str
    loss: str = DEFAULT
    weight: float = 1.0


def output_rows(training: dict, outputs: list[tuple[str, str]]) -> list[OutputRow]:
    """The rows for a network's Outputs from its ``training`` section.

    Args:
        training: the section (any values; what a row cannot show shows its default).
        outputs: ``(node id, name)`` of each Output, in node order.
    """
    spec = training.get("loss")
    ids = [oid for oid, _ in outputs]
    weights = training.get("loss_weights")
    weights = weights if isinstance(weights, dict) else {}
    rows = []
    for oid, name in outputs:
        entry = spec.get(oid) if per_output(spec, ids) else spec
        kind = entry.get("type") if isinstance(entry, dict) else None
        w = weights.get(oid, 1.0)
        rows.append(OutputRow(oid, name, kind if kind in LOSSES else DEFAULT,
                              float(min(w, MAX_WEIGHT)) if is_number(w) and w >= 0 else 1.0))
    return rows


def write_output_losses(training: dict, before: list[OutputRow], after: list[OutputRow]) -> None:
    """Write the rows the user changed (``after`` differs from ``before``) into
    ``training["loss"]`` (one entry per Output id) and ``training["loss_weights"]``.

    A changed loss keeps the Output's loss settings when its type stays, else
    it starts from ``{"type": ...}``; :data:`DEFAULT` removes the entry.  A
    weight of 1 (the default) is written only where the file had one.
    """
    spec = training.get("loss")
    ids = [r.id for r in after]
    if per_output(spec, ids):
        losses = {k: v for k, v in spec.items()}
    else:  # one loss for every Output (or none): each Output gets its own copy
        shared = spec if isinstance(spec, dict) and spec.get("type") in LOSSES else None
        losses = {r.id: dict(shared) for r in after if shared is not None}
    weights = training.get("loss_weights")
    weights = dict(weights) if isinstance(weights, dict) else {}
    for old, new in zip(before, after):
        if new.loss != old.loss:
            entry = losses.get(new.id)
            if new.loss == DEFAULT:
                losses.pop(new.id, None)
            elif not (isinstance(entry, dict) and entry.get("type") == new.loss):
                losses[new.id] = {"type": new.loss}
        if new.weight != old.weight:
            if new.weight == 1.0 and new.id not in weights:
                continue
            weights[new.id] = new.weight
    if losses:
        training["loss"] = losses
    else:
        training.pop("loss", None)
    if weights:
        training["loss_weights"] = weights
    else:
        training.pop("loss_weights", None)


class OutputLosses(QWidget):
    """The rows: each Output's name, a list of losses and a weight.

    Signals:
        edited: the user changed a row (read them with :meth:`rows`).
    """

    edited = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._loading = False
        self._rows: list[OutputRow] = []
        self.names: list[QLabel] = []
        self.losses: list[QComboBox] = []
        self.weights: list[QDoubleSpinBox] = []
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setColumnStretch(1, 1)
        for col, text in enumerate(("Output", "Loss", "Weight")):
            head = QLabel(f"<i>{text}</i>")
            self.grid.addWidget(head, 0, col)

    def load(self, rows: list[OutputRow], problems: dict[str, list[str]] | None = None) -> None:
        """Show ``rows``; ``problems`` (Output id → messages) mark their rows."""
        self._loading = True
        try:
            while len(self.names) < len(rows):
                self._add_row()
            for k, (name, combo, spin) in enumerate(zip(self.names, self.losses, self.weights)):
                visible = k < len(rows)
                for w in (name, combo, spin):
                    w.setVisible(visible)
                if not visible:
                    continue
                r = rows[k]
                why = "\n".join((problems or {}).get(r.id, ()))
                name.setText(r.name)
                name.setToolTip(why or f"Output id {r.id!r}")
                name.setStyleSheet("color: #d22;" if why else "")
                combo.setCurrentText(r.loss)
                combo.setToolTip(why or f"The loss of {r.name}")
                spin.setValue(r.weight)
                spin.setToolTip(why or f"The weight of {r.name}'s loss in the sum")
            self._rows = [OutputRow(r.id, r.name, r.loss, r.weight) for r in rows]
        finally:
            self._loading = False

    def shown(self) -> list[OutputRow]:
        """The rows as they were loaded."""
        return [OutputRow(r.id, r.name, r.loss, r.weight) for r in self._rows]

    def rows(self) -> list[OutputRow]:
        """The rows as the widgets show them now."""
        return [OutputRow(r.id, r.name, self.losses[k].currentText(), self.weights[k].value())
                for k, r in enumerate(self._rows)]

    def row_of(self, output_id: str) -> int:
        """The index of an Output's row (ValueError: no such Output)."""
        return [r.id for r in self._rows].index(output_id)

    def _add_row(self) -> None:
        at = len(self.names) + 1
        name = QLabel()
        name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        combo = QComboBox()
        combo.addItems([DEFAULT, *LOSSES])
        spin = QDoubleSpinBox(decimals=3, minimum=0.0, maximum=MAX_WEIGHT, singleStep=0.1)
        spin.setKeyboardTracking(False)  # one edit when the typing is done, not per key
        spin.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
        combo.currentIndexChanged.connect(self._changed)
        spin.valueChanged.connect(self._changed)
        self.grid.addWidget(name, at, 0)
        self.grid.addWidget(combo, at, 1)
        self.grid.addWidget(spin, at, 2)
        self.names.append(name)
        self.losses.append(combo)
        self.weights.append(spin)

    def _changed(self, *_args) -> None:
        if not self._loading:
            self.edited.emit()
