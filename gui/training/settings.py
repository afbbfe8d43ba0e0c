"""The training settings panel: every key of the project's ``training`` section.

Each field edits one key; a change pushes one
:class:`~gui.training.settings_data.SetTraining` on the document's undo
stack, so settings are undone like graph edits, and undo/redo (or opening
another project) reloads the fields from the project.  Under the fields the
panel says, before Start, whether the chosen dataset fits the graph's
``Input`` and how much memory the chosen batch size needs.  Augmentation
(``augment``) has its own rows (:mod:`~gui.training.settings_augment`), each
edit one undo step, and a strip of augmented training samples
(:mod:`~gui.training.augment_preview`).

A section written by hand may hold values no field can show (``"loss":
"CrossEntropyLoss"``, ``"lr": "fast"``): the field shows its default, its
label turns red with the problem (from :mod:`graph.training_check`, as the
analysis lists it) as tooltip, and the problems are listed under the
fields; the file's value stays until the user edits that very field.

The panel composes groups of rows, each an object that shows its part of a
section and writes it back: the dataset (:mod:`~gui.training.settings_dataset`),
the loss (:mod:`~gui.training.settings_loss_rows`), the optimizer and schedule
(:mod:`~gui.training.settings_optimizer`), the training loop
(:mod:`~gui.training.settings_loop`), and the fit and memory lines
(:mod:`~gui.training.settings_checks`).  The panel keeps what ties them
together: binding, marking problems, reading every field into one undo step.
"""

from __future__ import annotations

import copy

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QWidget

from graph.problems import ERROR
from graph.training_check import augment_inputs

from ..binding import DocumentBinding
from .augment_preview import AugmentPreview
from .dataset_probe import dataset_base
from .settings_augment import AugmentSettings
from .settings_checks import SettingsChecks
from .settings_data import SetTraining, SettingsParseError
from .settings_dataset import DatasetRows
from .settings_fields import state
from .settings_loop import LoopRows
from .settings_loss_rows import LossRows
from .settings_optimizer import OptimizerRows
from .settings_outputs import DEFAULT as _DEFAULT
from .settings_values import KEYS_OF, field_of, keep_untouched, shown_values


class TrainingSettings(QWidget):
    """The form; :meth:`bind` binds it to a document.

    Signals:
        changed: the settings (or the fit/memory lines) were refreshed.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = None
        self.binding = DocumentBinding(analysed=self.load)
        self._loading = False
        #: messages: the training section's problems, and fields that cannot be read
        self._section_errors: list[str] = []
        self._parse_errors: list[str] = []
        #: the dataset-fit line's problem (not listed twice)
        self._fit_problem: str | None = None
        #: the section as loaded and what each field showed then (see :meth:`_read`)
        self._loaded: dict = {}
        self._shown: dict = {}
        # the dataset-fit and memory lines; a file's shape arrives later
        self.checks = SettingsChecks(self)
        self.prober = self.checks.prober
        self.prober.ready.connect(self.update_checks)
        self.devices = ["auto", "cpu"]
        from runtime.memory import device_memory

        self.device_memory: dict[str, int | None] = {"cpu": device_memory("cpu")}
        f = self.form = QFormLayout(self)
        f.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # each group of rows below is an object of its own; its fields are the panel's too
        self.datasets = DatasetRows()
        self.dataset, self.dataset_info = self.datasets.dataset, self.datasets.dataset_info
        self.target, self.val_fraction = self.datasets.target, self.datasets.val_fraction
        self.task = QComboBox()
        self.task.addItems([_DEFAULT, "classification", "regression"])
        self.losses = LossRows(f)
        (self.loss, self.output_losses, self.label_smoothing, self.reduction, self.ignore_index,
         self.class_weights) = (w for _label, w in self.losses.rows())
        self.optimizers = OptimizerRows()
        (self.optimizer, self.lr, self.momentum, self.weight_decay, self.schedule,
         self.schedule_params) = (w for _label, w in self.optimizers.rows())
        self.loop = LoopRows(self.devices)
        (self.epochs, self.batch_size, self.accum, self.clip, self.l1, self.patience,
         self.monitor, self.amp, self.device, self.seed) = (w for _l, w in self.loop.rows())
        # training.augment: its own rows and a strip of samples as the network sees them
        self.augment = AugmentSettings()
        self.augment_preview = AugmentPreview()
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet("color: #d22;")
        self.fit, self.memory = self.checks.fit, self.checks.memory
        rows = (("Dataset", self.dataset), ("Target", self.target),
                ("Validation", self.val_fraction), ("Task", self.task), *self.losses.rows(),
                *self.optimizers.rows(), *self.loop.rows(),
                ("Augmentation", self.augment), ("Augmented samples", self.augment_preview))
        for label, w in rows:
            f.addRow(label, w)
        # a full-width row: a wrapped label beside a field gets a wrong height
        f.insertRow(1, self.dataset_info)
        f.addRow(self.error)
        f.addRow(self.fit)
        f.addRow(self.memory)
        self.dataset.activated.connect(self._dataset_chosen)
        self.target.editingFinished.connect(self._dataset_options)
        self.val_fraction.valueChanged.connect(self._dataset_options)
        for combo in (self.task, self.loss, self.reduction, self.optimizer, self.schedule,
                      self.device, self.monitor):
            combo.currentIndexChanged.connect(self.commit)
        for edit in (self.lr, self.momentum, self.weight_decay, self.schedule_params, self.clip,
                     self.l1, self.ignore_index):
            edit.editingFinished.connect(self.commit)
        self.label_smoothing.valueChanged.connect(self.commit)
        self.class_weights.edited.connect(self.commit)
        self.output_losses.edited.connect(self._output_losses_edited)
        for spin in (self.epochs, self.batch_size, self.accum, self.patience, self.seed):
            spin.valueChanged.connect(self.commit)
        self.amp.toggled.connect(self.commit)
        self.augment.edited.connect(self._augment_edited)

    # ------------------------------------------------------------ binding
    def bind(self, doc) -> None:
        """Show and edit the settings of ``doc`` (see :mod:`gui.binding`).

        The fields reload whenever the document's analysis is brought up to
        date: after a change of the settings (an edit, undo, redo) and after
        a graph edit, which can change what the analysis says of them.
        """
        self.doc = self.binding.bind(doc)
        self.load()

    def training(self) -> dict:
        t = self.doc.project.training if self.doc else None
        return copy.deepcopy(t) if isinstance(t, dict) else {}

    def set_devices(self, devices: list[str], memory: dict[str, int | None]) -> None:
        """What this machine offers (from the worker module, once torch is loaded)."""
        self.devices = list(devices)
        self.device_memory = dict(memory)
        self._loading = True
        try:
            self.loop.set_devices(self.devices)
        finally:
            self._loading = False
        self.load()

    def load(self) -> None:
        """Show the project's settings in the fields.

        A value a field cannot show (a malformed one, see
        :mod:`~gui.training.settings_values`) shows the default, and the
        field is marked with its problem; the value itself is kept until the
        user edits that field.
        """
        if self.doc is None:
            return
        raw = self.doc.project.training
        t = raw if isinstance(raw, dict) else {}
        problems = [p for p in self.doc.analyzer.problems() if p.location is not None]
        marks: dict[str, list[str]] = {}
        for p in problems:
            field = field_of(p.location)
            if field is not None:
                marks.setdefault(field, []).append(p.message)
        # a warning (a loss that wants a LogSoftmax) marks its field, which still
        # shows the value; an error means the value cannot be shown
        v = shown_values(t, {field_of(p.location) for p in problems if p.severity == ERROR})
        self._loading = True
        try:
            self.datasets.load(t, v)
            self.task.setCurrentText(v["task"] or _DEFAULT)
            per = self.losses.load(t, v, self.doc.analyzer.dataset, self._outputs(), problems)
            self._load_augment(t, problems)
            self.optimizers.load(v)
            self.loop.load(v, [oid for oid, _name in self._outputs()])
        finally:
            self._loading = False
        if per and "loss" not in marks:
            marks["loss"] = ["one loss per Output: each Output's row under Losses sets its own"]
        self._mark(marks)
        self._section_errors = [p.message for p in problems if p.severity == ERROR]
        self._show_errors()
        # what each field shows now: a field still showing it leaves its key as it is
        self._loaded = copy.deepcopy(t)
        self._shown = {f: state(getattr(self, f)) for f in KEYS_OF}
        self.update_checks()

    def _mark(self, marks: dict[str, list[str]]) -> None:
        """Mark the fields with problems (red label, the problem as tooltip)."""
        for field in (*KEYS_OF, "dataset", "target", "val_fraction"):
            w = getattr(self, field)
            label = self.form.labelForField(w)
            why = "\n".join(marks.get(field, ()))
            w.setToolTip(why)
            if label is not None:
                label.setStyleSheet("color: #d22;" if why else "")
                label.setToolTip(why)

    def _show_errors(self) -> None:
        # the dataset-fit line says the Input's problem already: not twice
        self.error.setText("\n".join([*(m for m in self._section_errors
                                        if m != self._fit_problem),
                                      *self._parse_errors]))

    # ------------------------------------------------------------ edits
    def push(self, training: dict, text: str) -> None:
        """Push the new settings as one undo step (nothing when unchanged)."""
        if self.doc is None or training == (self.doc.project.training or {}):
            return
        self.doc.push(SetTraining(self.doc, training, text))

    def set_dataset(self, spec: dict) -> None:
        """Choose a dataset (keeps the validation fraction)."""
        t = self.training()
        t["dataset"] = self.datasets.replacing(t.get("dataset"), spec)
        self.push(t, "Set dataset")

    def _dataset_chosen(self, index: int) -> None:
        spec = self.datasets.chosen(index, self)
        if spec is not None:
            self.set_dataset(spec)
        else:  # the file dialog was cancelled: show the dataset the section has
            self.load()

    def _dataset_options(self, *_args) -> None:
        if self._loading or self.doc is None:
            return
        t = self.training()
        ds = self.datasets.with_options(t.get("dataset"))
        if ds is None:
            return  # nothing chosen, or a malformed value the dataset list replaces
        t["dataset"] = ds
        self.push(t, "Set dataset options")

    def commit(self, *_args) -> None:
        """Read every field (but the dataset) into a new training dict and push it."""
        if self._loading or self.doc is None:
            return
        errors: list[str] = []
        t = self._read(errors)
        self._parse_errors = errors
        self._show_errors()
        self.push(t, "Change training settings")

    def _read(self, errors: list[str]) -> dict:
        """The settings from the fields; a field that cannot be read keeps its old
        value and adds its message to ``errors``."""
        t = self.training()
        old = copy.deepcopy(t)

        def read(fn, fallback):
            try:
                return fn()
            except SettingsParseError as exc:
                errors.append(str(exc))
                return fallback

        task = self.task.currentText()
        if task == _DEFAULT:
            t.pop("task", None)
        else:
            t["task"] = task
        self.losses.read(t, read, self._shown.get("loss", _DEFAULT), self.doc.analyzer.dataset)
        self.optimizers.read(t, old, read)
        self.loop.read(t, old, read)
        if self._shown:
            keep_untouched(t, self._loaded, self._shown,
                           {f: state(getattr(self, f)) for f in KEYS_OF})
        return t

    # ------------------------------------------------------------ one loss per Output
    def _outputs(self) -> list[tuple[str, str]]:
        return [(n.id, n.name) for n in self.doc.graph.ends("output")]

    def _output_losses_edited(self) -> None:
        """A row's loss or weight changed: one undo step with the new ``loss``
        and ``loss_weights``."""
        if self._loading or self.doc is None:
            return
        t = self.training()
        self.losses.write_outputs(t)
        self.push(t, "Change output losses")

    # ------------------------------------------------------------ augmentation
    def _load_augment(self, t: dict, problems) -> None:
        """Show ``augment`` for this network's inputs, its problems, and its samples."""
        inputs = [{**n.spec.defaults(), **n.params} for n in self.doc.graph.ends("input")]
        self.augment.load(t.get("augment"), augment_inputs(self.doc.graph))
        self.augment.set_problem("\n".join(p.message for p in problems if p.severity == ERROR
                                           and str(p.location).startswith("training.augment")))
        first = inputs[0] if inputs else {}
        seed = t.get("seed", 0)
        aug = t.get("augment")
        self.augment_preview.request(t.get("dataset"), first.get("shape"),
                                     first.get("dtype", "float32"),
                                     aug if isinstance(aug, dict) else None,
                                     seed if isinstance(seed, int) else 0,
                                     dataset_base(self.doc))

    def _augment_edited(self) -> None:
        """An augmentation row changed: one undo step with the new ``augment``."""
        if self._loading or self.doc is None:
            return
        t = self.training()
        value = self.augment.value()
        if value is None:
            t.pop("augment", None)
        else:
            t["augment"] = value
        self.push(t, "Change augmentation")

    # ------------------------------------------------------------ checks
    def update_checks(self) -> None:
        """Refresh the dataset-fit and memory lines (after any edit)."""
        if self.doc is None:
            return
        dev = self.checks.device(self.doc.project.training or {}, self.devices)
        self._fit_problem = self.checks.update(self.doc, self.device_memory.get(dev), dev)
        self._show_errors()
        self.changed.emit()

    def memory_error(self) -> tuple[str, str | None] | None:
        """Why a training step will not fit in the device's memory, and the node
        to show (None: it fits, or the network has errors, or it cannot be told)."""
        if self.doc is None:
            return None
        t = self.training()
        dev = self.checks.device(t, self.devices)
        return self.checks.memory_error(self.doc, t, self.device_memory.get(dev), dev)

    def fit_error(self) -> str | None:
        """The reason the dataset does not fit, if known before loading (a file
        still being read is checked by the engine when it loads)."""
        return None if self.doc is None else self.checks.fit_error(self.doc)
