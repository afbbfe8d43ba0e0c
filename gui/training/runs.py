"""Runs kept for comparison: their settings, network, curves and checkpoints.

:class:`RunRecord` is what one run leaves behind (the training dict and the
graph as they were at Start, its metrics, the result, the checkpoint
folder).  :func:`settings_diff` and :func:`graph_diff` say in a
few lines what differs between two runs; :class:`RunsPanel` lists the runs
with a check box each (which are overlaid on the plots) and shows the
side-by-side of the checked ones.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QListView, QListWidget, QListWidgetItem, QMenu,
                               QPushButton, QTextBrowser, QToolButton, QVBoxLayout, QWidget)

from gui.training.run_metrics import RunMetrics


class RunRecord:
    """One run: what it started from and everything it measured.

    Args:
        id: the plot's run id (``"run 1"``).
        training: the settings used (the snapshot taken at Start).
        graph: the network used (a ``Graph.copy()`` taken at Start).
        out_dir: the folder of ``best.pt``/``last.pt`` and the run's files.
        status: ``"running"``, ``"completed"``, ``"stopped"``, ``"early_stopping"``,
            ``"error"``, ``"interrupted"`` or ``"refused"``.
        history: the per-epoch rows measured so far (a run read back from disk).
        result: the run's :class:`~runtime.result.RunResult`, once it ended.
        message: why it ended, where it ended with a fault.
        step_losses: every step's training loss so far (a run read back from disk).
        project_file: the project file the run was made from (None: an untitled
            document).
        name: the project's name.
        started: when it started (``"2026-01-31 12:00:00"``).
        init_weights: the checkpoint whose weights started this run
            (``"run 2 (best, epoch 14)"``).
        network: the project document of the snapshot (a dict), written once
            into the run's folder.

    Attributes:
        metrics: the run's one store of metrics (:class:`RunMetrics`): history
            rows and the series the plots draw.
    """

    def __init__(self, id: str, training: dict, graph, out_dir: Path | None = None,
                 status: str = "running", history: list | None = None, result=None,
                 message: str = "", step_losses: list | None = None,
                 project_file: str | None = None, name: str = "Network", started: str = "",
                 init_weights: str | None = None, network: dict | None = None):
        self.id = id
        self.training = training
        self.graph = graph
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.status = status
        self.result = result
        self.message = message
        self.project_file = project_file
        self.name = name
        self.started = started
        self.init_weights = init_weights
        self.network = network
        self.metrics = RunMetrics(history, step_losses)
        #: how much of the run :mod:`gui.training.run_store` has written
        #: (None: nothing yet), so each save appends only what is new
        self.on_disk: dict | None = None

    @property
    def history(self) -> list[dict]:
        """The per-epoch rows (the metrics' rows, not a copy)."""
        return self.metrics.rows

    @property
    def step_losses(self) -> list[float]:
        """Every step's training loss received so far."""
        return self.metrics.step_losses

    def __repr__(self) -> str:
        return f"RunRecord({self.id!r}, status={self.status!r}, epochs={len(self.history)})"

    def checkpoint(self, which: str = "last") -> Path | None:
        """The checkpoint file of this run (``last`` or ``best``), if written."""
        if self.out_dir is None:
            return None
        path = self.out_dir / f"{which}.pt"
        return path if path.is_file() else None

    def epoch_of(self, which: str) -> int | None:
        """The epoch a checkpoint holds: the last epoch, or the best monitored one."""
        if not self.history:
            return None
        last = self.history[-1]
        if which == "best":
            best = last.get("best") or {}
            return best.get("epoch") if best.get("epoch") is not None else last.get("epoch")
        return last.get("epoch")

    def outputs(self) -> list[dict]:
        """The trained outputs of a run with several, read from its rows and network:
        ``{"id", "name", "task", "suffix"}`` per ``Output`` whose metrics the rows
        hold (``val_accuracy_<id>`` or ``val_mae_<id>``), in the network's order."""
        keys = {k for row in self.history for k in row}
        found = []
        for node in self.graph.ends("output"):
            task = ("classification" if f"val_accuracy_{node.id}" in keys else
                    "regression" if f"val_mae_{node.id}" in keys else None)
            if task is not None or f"val_loss_{node.id}" in keys:
                found.append({"id": node.id, "name": node.name or node.id, "task": task,
                              "suffix": f"_{node.id}"})
        return found

    def summary(self) -> str:
        last = self.history[-1] if self.history else {}
        bits = [self.status]
        if last.get("epoch") is not None:
            bits.append(f"{last['epoch']} epoch(s)")
        for key in ("val_loss", "val_accuracy", "val_mae"):
            if last.get(key) is not None:
                bits.append(f"{key} {last[key]:.4g}")
        for out in self.outputs() if last else ():  # each output's own final metric
            for metric in ("val_accuracy", "val_mae"):
                value = last.get(f"{metric}{out['suffix']}")
                if isinstance(value, (int, float)):
                    bits.append(f"{out['name']} {metric} {value:.4g}")
        return f"{self.id}: " + ", ".join(bits)

    def details(self) -> str:
        """The summary with when it ran and what it started from (the list's tooltip)."""
        lines = [self.summary()]
        if self.started:
            lines.append(f"started {self.started}")
        if self.init_weights:
            lines.append(f"started from the weights of {self.init_weights}")
        if self.message:
            lines.append(self.message)
        if self.out_dir is not None:
            lines.append(f"folder {self.out_dir}")
        return "\n".join(lines)


def _flat(d, prefix: str = "") -> dict:
    out = {}
    for k, v in (d or {}).items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flat(v, key + "."))
        else:
            out[key] = v
    return out


def settings_diff(a: dict, b: dict) -> list[tuple[str, object, object]]:
    """Keys whose values differ between two training dicts: ``(key, a, b)``,
    nested keys dotted (``optimizer.lr``), a missing key as None."""
    fa, fb = _flat(a), _flat(b)
    return [(k, fa.get(k), fb.get(k)) for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)]


def graph_diff(a, b) -> list[str]:
    """What changed in the network from run ``a`` to run ``b``, one line each."""
    out = []
    na, nb = a.nodes, b.nodes
    for nid in na.keys() - nb.keys():
        out.append(f"removed {na[nid].label()}")
    for nid in nb.keys() - na.keys():
        out.append(f"added {nb[nid].label()}")
    for nid in sorted(na.keys() & nb.keys()):
        x, y = na[nid], nb[nid]
        if x.type != y.type:
            out.append(f"{y.label()}: type {x.type} → {y.type}")
        for key in sorted(set(x.params) | set(y.params)):
            if x.params.get(key) != y.params.get(key):
                out.append(f"{y.label()}: {key} {json.dumps(x.params.get(key))} → "
                           f"{json.dumps(y.params.get(key))}")
    ea = {e.key() for e in a.edges}
    eb = {e.key() for e in b.edges}
    if ea != eb:
        out.append(f"connections: {len(ea - eb)} removed, {len(eb - ea)} added")
    return out


def compare_text(runs: list[RunRecord]) -> str:
    """The side-by-side of several runs as plain lines (the first is the reference)."""
    if len(runs) < 2:
        return "Check two or more runs to compare them."
    ref = runs[0]
    lines = []
    for r in runs[1:]:
        lines.append(f"{ref.id} → {r.id}")
        sd = settings_diff(ref.training, r.training)
        gd = graph_diff(ref.graph, r.graph)
        for key, x, y in sd:
            lines.append(f"  setting {key}: {json.dumps(x)} → {json.dumps(y)}")
        lines += [f"  network {g}" for g in gd]
        if not sd and not gd:
            lines.append("  same settings and network (only randomness differs)")
    lines.append("")
    lines += [r.summary() for r in runs]
    return "\n".join(lines)


class RunsPanel(QWidget):
    """The list of runs (check = shown on the plots) and the comparison text.

    Signals:
        visibility_changed(list): the checked run ids.
        resume_requested(str), export_requested(str): for the selected run.
        load_requested(str, str): load the selected run's ``"best"`` or
            ``"last"`` checkpoint into the model.
    """

    visibility_changed = Signal(list)
    resume_requested = Signal(str)
    export_requested = Signal(str)
    load_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.records: dict[str, RunRecord] = {}
        self._busy = False  # a run is going: no resume meanwhile
        self.list = QListWidget()
        # long summaries wrap instead of running off the side (the tooltip has it all)
        self.list.setWordWrap(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.compare = QTextBrowser()
        self.compare.setPlaceholderText("Check two or more runs to compare them.")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the selected stopped run from its last checkpoint")
        self.load_button = QToolButton()
        self.load_button.setText("Load weights")
        self.load_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.load_button.setToolTip("Put the selected run's trained weights (its best "
                                    "checkpoint; the arrow offers the last one) into the model: "
                                    "the next Start trains from them and File → Export → "
                                    "Weights exports them")
        menu = QMenu(self.load_button)
        self.load_best_action = menu.addAction("Best checkpoint")
        self.load_last_action = menu.addAction("Last checkpoint")
        self.load_button.setMenu(menu)
        self.export_button = QPushButton("Export weights…")
        self.export_button.setToolTip("Save the selected run's trained weights to a file")
        buttons = QHBoxLayout()
        buttons.addWidget(self.resume_button)
        buttons.addWidget(self.load_button)
        buttons.addWidget(self.export_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.list, 2)
        lay.addLayout(buttons)
        lay.addWidget(self.compare, 3)
        self.list.itemChanged.connect(self._checked)
        self.list.currentItemChanged.connect(lambda *_: self.update_buttons())
        self.resume_button.clicked.connect(lambda: self._emit(self.resume_requested))
        self.export_button.clicked.connect(lambda: self._emit(self.export_requested))
        self.load_button.clicked.connect(lambda: self._load(None))
        self.load_best_action.triggered.connect(lambda: self._load("best"))
        self.load_last_action.triggered.connect(lambda: self._load("last"))
        self.update_buttons()

    def add(self, record: RunRecord, select: bool = True) -> None:
        self.records[record.id] = record
        item = QListWidgetItem(record.summary())
        item.setToolTip(record.details())
        item.setData(Qt.ItemDataRole.UserRole, record.id)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        self.list.blockSignals(True)
        item.setCheckState(Qt.CheckState.Checked)
        self.list.addItem(item)
        self.list.blockSignals(False)
        if select:
            self.list.setCurrentItem(item)
        self._checked()

    def remove(self, run_id: str) -> None:
        """Forget one run (a Start refused before training keeps no run)."""
        self.records.pop(run_id, None)
        self.list.blockSignals(True)
        for i in reversed(range(self.list.count())):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == run_id:
                self.list.takeItem(i)
        self.list.blockSignals(False)
        self._checked()
        self.update_buttons()

    def clear(self) -> None:
        """Forget every run (another document)."""
        self.records.clear()
        self.list.blockSignals(True)
        self.list.clear()
        self.list.blockSignals(False)
        self._checked()
        self.update_buttons()

    def refresh(self, run_id: str) -> None:
        """Re-read a record's summary line (status, last metrics)."""
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == run_id:
                self.list.blockSignals(True)
                item.setText(self.records[run_id].summary())
                item.setToolTip(self.records[run_id].details())
                self.list.blockSignals(False)
        self._show_compare()
        self.update_buttons()

    def checked(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def set_checked(self, run_ids) -> None:
        want = set(run_ids)
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in want
                               else Qt.CheckState.Unchecked)
        self.list.blockSignals(False)
        self._checked()

    def current(self) -> RunRecord | None:
        item = self.list.currentItem()
        return self.records.get(item.data(Qt.ItemDataRole.UserRole)) if item else None

    def select(self, run_id: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == run_id:
                self.list.setCurrentRow(i)

    def update_buttons(self, busy: bool | None = None) -> None:
        if busy is not None:
            self._busy = busy
        busy = self._busy
        rec = self.current()
        self.resume_button.setEnabled(bool(rec and not busy
                                           and rec.status in ("stopped", "interrupted")
                                           and rec.checkpoint("last")))
        best, last = (rec.checkpoint("best"), rec.checkpoint("last")) if rec else (None, None)
        self.export_button.setEnabled(bool(best or last))
        self.load_button.setEnabled(bool(best or last) and rec.status != "running")
        for action, which, path in ((self.load_best_action, "best", best),
                                    (self.load_last_action, "last", last)):
            action.setEnabled(bool(path))
            epoch = rec.epoch_of(which) if rec and path else None
            action.setText(f"{which.capitalize()} checkpoint"
                           + (f" (epoch {epoch})" if epoch is not None else ""))

    def _emit(self, signal) -> None:
        rec = self.current()
        if rec is not None:
            signal.emit(rec.id)

    def _load(self, which: str | None) -> None:
        rec = self.current()
        if rec is None:
            return
        if which is None:
            which = "best" if rec.checkpoint("best") else "last"
        self.load_requested.emit(rec.id, which)

    def _checked(self, *_args) -> None:
        self.visibility_changed.emit(self.checked())
        self._show_compare()

    def _show_compare(self) -> None:
        runs = [self.records[r] for r in self.checked()]
        # pre-wrap: long settings lines wrap in the narrow side panel instead of being cut
        self.compare.setHtml("<pre style='white-space: pre-wrap'>"
                             + html.escape(compare_text(runs)) + "</pre>")

    def compare_plain(self) -> str:
        return self.compare.toPlainText()
