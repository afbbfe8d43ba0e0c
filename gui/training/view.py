"""The training view's display side: plots, map, confusion, histograms, words.

:class:`TrainingView` lays the widgets of this package out in tabs above a
progress line and the diagnosis text.  It holds no training logic: the
training panel (settings, Start/Stop) and the worker feed it through the
widgets' own methods (``view.plots.add_steps``, ``view.confusion.set_matrix``,
``view.set_progress`` ...).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QSplitter, QTabWidget, QVBoxLayout,
                               QWidget)

from gui.training.confusion import ConfusionMatrixView, PerClassAccuracy
from gui.training.decision_map import DecisionMap
from gui.training.diagnosis import DiagnosisPanel
from gui.training.histograms import EdgeHistograms
from gui.training.plots import TrainingPlots
from gui.training.progress import format_progress


class TrainingView(QWidget):
    """Tabs "Curves", "Decision map" (2-D data), "Confusion", "Inside" + progress + diagnosis.

    Args:
        task: ``"classification"`` or ``"regression"``.
    """

    #: The diagnosis's height without samples (two lines; more scrolls).
    DIAGNOSIS_HEIGHT = 40
    #: The most of the view's height the diagnosis takes to show decoded samples.
    DIAGNOSIS_SHARE = 0.4

    def __init__(self, parent: QWidget | None = None, task: str = "classification"):
        super().__init__(parent)
        self._map = False  # a 2-D classification run sent its data points
        self.plots = TrainingPlots(task=task)
        self.decision_map = DecisionMap()
        self.confusion = ConfusionMatrixView()
        self.class_accuracy = PerClassAccuracy()
        self.histograms = EdgeHistograms()
        self.diagnosis = DiagnosisPanel()
        self.progress = QLabel(" ")
        self.progress.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # two lines of findings (it scrolls): the plots get the height at 1280×800;
        # a seq2seq run's decoded samples make it grow to show them (_fit_diagnosis)
        self.diagnosis.setMinimumHeight(self.DIAGNOSIS_HEIGHT)

        confusion = QSplitter(Qt.Orientation.Horizontal)
        confusion.addWidget(self.confusion)
        confusion.addWidget(self.class_accuracy)
        confusion.setStretchFactor(0, 3)
        confusion.setStretchFactor(1, 2)
        confusion.setSizes([600, 400])  # the table's eleven columns first
        self.tabs = QTabWidget()
        self.tabs.addTab(self.plots, "Curves")
        self.tabs.addTab(self.decision_map, "Decision map")
        self.tabs.addTab(confusion, "Confusion")
        self.tabs.addTab(self.histograms, "Inside")
        self.tabs.setTabToolTip(3, "Click an edge on the canvas to see its activations and "
                                   "gradients while training")
        # the progress line and Follow sit in the tab bar's corner (Follow with the curves
        # only): two rows of plot height saved at 1280×800
        corner = QWidget()
        corner_lay = QHBoxLayout(corner)
        corner_lay.setContentsMargins(8, 0, 0, 0)
        corner_lay.addWidget(self.progress, 1)
        corner_lay.addWidget(self.plots.toolbar)
        self.tabs.setCornerWidget(corner, Qt.Corner.TopRightCorner)
        self.tabs.currentChanged.connect(
            lambda i: self.plots.toolbar.setVisible(self.tabs.widget(i) is self.plots))

        split = self.split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tabs)
        split.addWidget(self.diagnosis)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 1)
        # a height the user dragged to is theirs: the panel no longer fits itself
        self._user_sized = False
        self._height_before: int | None = None  # the diagnosis's height before samples
        split.splitterMoved.connect(self._user_moved)
        self.diagnosis.content_changed.connect(self._fit_diagnosis)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split, 1)
        self.set_task(task)

    def _user_moved(self, *_args) -> None:
        self._user_sized = True

    def _fit_diagnosis(self) -> None:
        """Give the diagnosis the height its decoded samples need (at most
        :attr:`DIAGNOSIS_SHARE` of the view), and the height it had before
        once there are none."""
        if self._user_sized:
            return
        sizes = self.split.sizes()
        total = sum(sizes)
        if total <= 0:
            return
        if not self.diagnosis.samples:
            if self._height_before is not None:
                before, self._height_before = self._height_before, None
                self.split.setSizes([total - before, before])
            return
        want = max(self.DIAGNOSIS_HEIGHT, min(self.diagnosis.content_height(),
                                              int(total * self.DIAGNOSIS_SHARE)))
        if sizes[1] != want:
            if self._height_before is None:
                self._height_before = sizes[1]
            self.split.setSizes([total - want, want])

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_diagnosis()  # a new width wraps the text anew

    def set_task(self, task: str) -> None:
        """Switch the metric panel; the confusion tab is for classification only
        (the decision map is shown by :meth:`show_map`, for 2-D data)."""
        self.plots.set_task(task)
        classify = task == "classification"
        self.tabs.setTabVisible(1, classify and self._map)
        self.tabs.setTabVisible(2, classify)

    def show_map(self, on: bool) -> None:
        """Show the decision-map tab: only a run on 2-D classification data has one."""
        self._map = on
        self.tabs.setTabVisible(1, on and self.plots.task == "classification")

    def set_progress(self, epoch: int, epochs: int, step: int, steps: int,
                     eta_s: float | None = None, samples_per_s: float | None = None) -> None:
        self.progress.setText(format_progress(epoch, epochs, step, steps, eta_s, samples_per_s))

    def clear(self) -> None:
        """Forget every run and empty the tabs (a new project)."""
        self.plots.clear()
        self.diagnosis.set_samples(None)
        self.diagnosis.set_findings([])
        self.histograms.set_edge("")
        self.progress.setText(" ")
        self.show_map(False)
