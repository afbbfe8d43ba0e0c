"""The lines under the training settings that say, before Start, whether the
chosen dataset fits the graph's ``Input`` and whether a training step with the
chosen batch size fits the device's memory.

A file dataset's sample shape is read in the background by a
:class:`~gui.training.dataset_probe.Prober`; while it is read the fit line
says so, and the panel refreshes the lines when the prober is ready.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QLabel

from .dataset_probe import Prober, dataset_base, file_of
from .settings_data import fit_problem, memory_problem, memory_text


class SettingsChecks:
    """The dataset-fit and memory lines, and the reader of file datasets' shapes.

    Args:
        parent: the Qt parent of the prober (the settings panel).

    Attributes:
        fit: the dataset-fit line (red with the problem where it does not fit).
        memory: the memory line (red where a step does not fit).
        prober: reads a file dataset's sample shape; its ``ready`` signal says
            a read is done (the lines are due again).
    """

    def __init__(self, parent: QObject | None = None):
        self.prober = Prober(parent)
        self.fit = QLabel()
        self.memory = QLabel()
        for lab in (self.fit, self.memory):
            lab.setWordWrap(True)
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    @staticmethod
    def device(training: dict, devices: list[str]) -> str:
        """The device a run would use (``auto`` resolved as the engine does,
        among the ``devices`` this machine offers)."""
        dev = str(training.get("device", "auto"))
        if dev == "auto":
            dev = "cuda" if "cuda" in devices else "cpu"
        return dev

    def update(self, doc, available: int | None, device: str) -> str | None:
        """Refresh both lines for ``doc``'s settings.

        Args:
            doc: the document (its graph, analysis and ``training`` section).
            available: the device's free memory in bytes (None: not known).
            device: the device a run would use.

        Returns:
            The reason the dataset does not fit, or None.
        """
        t = doc.project.training or {}
        state, shape = self.file_shape(doc, t)
        problem = fit_problem(doc.graph, t, shape)
        if problem:
            self.fit.setText(f"⛔ {problem}")
        elif state == "pending":
            self.fit.setText("Reading the file's sample shape…")
        else:
            self.fit.setText("")
        self.fit.setStyleSheet("color: #d22;" if problem else "")
        try:
            text, fits = memory_text(doc.analyzer, t, available, device)
        except (TypeError, ValueError):
            text, fits = "", True
        self.memory.setText(text)
        self.memory.setStyleSheet("" if fits else "color: #d22;")
        return problem

    def file_shape(self, doc, training: dict):
        """``(state, shape)`` of a file dataset from the prober (``("", None)`` for
        a built-in set); a pending read refreshes the checks when it is done."""
        base = dataset_base(doc)
        where = file_of((training or {}).get("dataset") or {}, base)
        if where is None:
            return "", None
        return self.prober.get(*where, training["dataset"], base)

    def memory_error(self, doc, training: dict, available: int | None,
                     device: str) -> tuple[str, str | None] | None:
        """Why a training step will not fit in the device's memory, and the node
        to show (None: it fits, or the network has errors, or it cannot be told)."""
        if not doc.analyzer.valid():
            return None
        try:
            return memory_problem(doc.analyzer, training, available, device)
        except (TypeError, ValueError):  # a bad batch size: the engine names it at Start
            return None

    def fit_error(self, doc) -> str | None:
        """The reason the dataset does not fit, if known before loading (a file
        still being read is checked by the engine when it loads)."""
        t = doc.project.training or {}
        return fit_problem(doc.graph, t, self.file_shape(doc, t)[1])
