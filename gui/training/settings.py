"""The training settings panel: every key of the project's ``training`` section.

Each field edits one key; a change pushes one
:class:`~gui.training.settings_data.SetTraining` on the document's undo
stack, so settings are undone like graph edits, and undo/redo (or opening
another project) reloads the fields from the project.  Under the fields the
panel says, before Start, whether the chosen dataset fits the graph's
``Input`` and how much memory the chosen batch size needs.

A section written by hand may hold values no field can show (``"loss":
"CrossEntropyLoss"``, ``"lr": "fast"``): the field shows its default, its
label turns red with the problem (from :mod:`graph.training_check`, as the
analysis lists it) as tooltip, and the problems are listed under the
fields; the file's value stays until the user edits that very field.
"""

from __future__ import annotations

import copy

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QLabel, QLineEdit, QSpinBox, QWidget)

from graph.problems import ERROR
from graph.training_check import per_output
from runtime.data import builtin_catalog

from .dataset_probe import Prober, dataset_base, file_of
from .settings_data import (FILE_KINDS, LOSSES, MOMENTUM, OPTIMIZERS, SCHEDULES, SetTraining,
                            SettingsParseError, dataset_text, fit_problem, format_kwargs,
                            memory_problem, memory_text, parse_kwargs)
from .settings_fields import FloatEdit, obj, state
from .settings_values import KEYS_OF, field_of, keep_untouched, shown_values

_DEFAULT = "(default)"


class TrainingSettings(QWidget):
    """The form; :meth:`set_document` binds it to a document.

    Signals:
        changed: the settings (or the fit/memory lines) were refreshed.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = None
        self._loading = False
        #: messages: the training section's problems, and fields that cannot be read
        self._section_errors: list[str] = []
        self._parse_errors: list[str] = []
        #: the section as loaded and what each field showed then (see :meth:`_read`)
        self._loaded: dict = {}
        self._shown: dict = {}
        self.prober = Prober(self)
        self.prober.ready.connect(self.update_checks)
        self.devices = ["auto", "cpu"]
        from runtime.memory import device_memory

        self.device_memory: dict[str, int | None] = {"cpu": device_memory("cpu")}
        f = self.form = QFormLayout(self)
        f.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.dataset = QComboBox()
        for name, info in builtin_catalog().items():
            self.dataset.addItem(name, ("name", name))
            self.dataset.setItemData(self.dataset.count() - 1, info.description,
                                     Qt.ItemDataRole.ToolTipRole)
        for kind, label in FILE_KINDS.items():
            self.dataset.addItem(label, (kind, None))
        self.dataset_info = QLabel()
        self.dataset_info.setWordWrap(True)
        self.target = QLineEdit()
        self.target.setPlaceholderText("target column (CSV)")
        self.val_fraction = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=0.9, singleStep=0.05)
        self.task = self._combo([_DEFAULT, "classification", "regression"])
        self.loss = self._combo([_DEFAULT, *LOSSES])
        self.optimizer = self._combo(list(OPTIMIZERS))
        self.lr = FloatEdit("learning rate")
        self.momentum = FloatEdit("momentum")
        self.weight_decay = FloatEdit("weight decay")
        self.schedule = self._combo(["none", *SCHEDULES])
        self.schedule_params = QLineEdit()
        self.epochs = QSpinBox(minimum=1, maximum=100000)
        self.batch_size = QSpinBox(minimum=1, maximum=1 << 20)
        self.accum = QSpinBox(minimum=1, maximum=1024)
        self.clip = FloatEdit("gradient clipping")
        self.clip.setPlaceholderText("none")
        self.l1 = FloatEdit("L1 penalty")
        self.patience = QSpinBox(minimum=0, maximum=1000, specialValueText="off")
        self.amp = QCheckBox("mixed precision (CUDA)")
        self.device = self._combo(self.devices)
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1)
        self.error = QLabel()
        self.fit = QLabel()
        self.memory = QLabel()
        for lab in (self.error, self.fit, self.memory):
            lab.setWordWrap(True)
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet("color: #d22;")
        rows = (("Dataset", self.dataset), ("Target", self.target),
                ("Validation", self.val_fraction), ("Task", self.task), ("Loss", self.loss),
                ("Optimizer", self.optimizer), ("Learning rate", self.lr),
                ("Momentum", self.momentum), ("Weight decay", self.weight_decay),
                ("Schedule", self.schedule), ("Schedule params", self.schedule_params),
                ("Epochs", self.epochs), ("Batch size", self.batch_size),
                ("Grad. accumulation", self.accum), ("Grad. clipping", self.clip),
                ("L1 penalty", self.l1), ("Early stopping", self.patience), ("AMP", self.amp),
                ("Device", self.device), ("Seed", self.seed))
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
        for combo in (self.task, self.loss, self.optimizer, self.schedule, self.device):
            combo.currentIndexChanged.connect(self.commit)
        for edit in (self.lr, self.momentum, self.weight_decay, self.schedule_params, self.clip,
                     self.l1):
            edit.editingFinished.connect(self.commit)
        for spin in (self.epochs, self.batch_size, self.accum, self.patience, self.seed):
            spin.valueChanged.connect(self.commit)
        self.amp.toggled.connect(self.commit)

    @staticmethod
    def _combo(items) -> QComboBox:
        c = QComboBox()
        c.addItems(list(items))
        return c

    # ------------------------------------------------------------ binding
    def set_document(self, doc) -> None:
        self.doc = doc
        doc.undo.indexChanged.connect(self._undo_moved)
        doc.analysed.connect(self.update_checks)
        self.load()

    def _undo_moved(self, _index: int) -> None:
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
            self.device.clear()
            self.device.addItems(self.devices)
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
        v = shown_values(t, {f for f, _ in marks.items()})
        self._loading = True
        try:
            kind, name = v["dataset"]
            for i in range(self.dataset.count()):
                k, item = self.dataset.itemData(i)
                if k == kind and (k != "name" or item == name):
                    self.dataset.setCurrentIndex(i)
                    break
            else:  # none chosen, or one the list cannot show: blank, not the last one's
                self.dataset.setCurrentIndex(-1)
            self.target.setText(v["target"])
            self.target.setEnabled(kind == "csv")
            self.val_fraction.setValue(float(v["val_fraction"]))
            self.dataset_info.setText(dataset_text(t.get("dataset")))
            self.task.setCurrentText(v["task"] or _DEFAULT)
            self.loss.setCurrentText(v["loss"] or _DEFAULT)
            self.optimizer.setCurrentText(v["optimizer"])
            self.lr.set_value(v["lr"])
            self.momentum.set_value(v["momentum"])
            self.momentum.setEnabled(v["optimizer"] in MOMENTUM)
            self.weight_decay.set_value(v["weight_decay"])
            self.schedule.setCurrentText(v["schedule"] or "none")
            self.schedule_params.setText(format_kwargs(v["schedule_params"]))
            self.schedule_params.setEnabled(v["schedule"] is not None)
            for spin, key in ((self.epochs, "epochs"), (self.batch_size, "batch_size"),
                              (self.accum, "accum"), (self.patience, "patience"),
                              (self.seed, "seed")):
                spin.setValue(max(spin.minimum(), min(spin.maximum(), v[key])))
            self.clip.set_value(v["clip"])
            self.l1.set_value(v["l1"])
            self.amp.setChecked(v["amp"])
            if self.device.findText(v["device"]) < 0:
                self.device.addItem(v["device"])
            self.device.setCurrentText(v["device"])
        finally:
            self._loading = False
        if per_output(t.get("loss")) and "loss" not in marks:
            marks["loss"] = ["one loss per Output (set in the project file); choosing a loss "
                             "here replaces them"]
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
        self.error.setText("\n".join([*self._section_errors, *self._parse_errors]))

    # ------------------------------------------------------------ edits
    def push(self, training: dict, text: str) -> None:
        """Push the new settings as one undo step (nothing when unchanged)."""
        if self.doc is None or training == (self.doc.project.training or {}):
            return
        self.doc.undo.push(SetTraining(self.doc, training, text))

    def set_dataset(self, spec: dict) -> None:
        """Choose a dataset (keeps the validation fraction)."""
        t = self.training()
        old = t.get("dataset") if isinstance(t.get("dataset"), dict) else {}
        spec = dict(spec)
        if "val_fraction" in old and "val_fraction" not in spec:
            spec["val_fraction"] = old["val_fraction"]
        t["dataset"] = spec
        self.push(t, "Set dataset")

    def _dataset_chosen(self, index: int) -> None:
        kind, name = self.dataset.itemData(index)
        if kind == "name":
            self.set_dataset({"name": name})
            return
        if kind == "image_folder":
            path = QFileDialog.getExistingDirectory(self, "Image folder (one subfolder per class)")
        else:
            path, _ = QFileDialog.getOpenFileName(self, FILE_KINDS[kind].rstrip("…"), "",
                                                  f"{kind.upper()} files (*.{kind});;All files (*)")
        if path:
            spec = {kind: path}
            if kind == "csv" and self.target.text().strip():
                spec["target"] = self.target.text().strip()
            self.set_dataset(spec)
        else:
            self.load()

    def _dataset_options(self, *_args) -> None:
        if self._loading or self.doc is None:
            return
        t = self.training()
        ds = t.get("dataset")
        if not isinstance(ds, dict) or not ds:
            return  # nothing chosen, or a malformed value the dataset list replaces
        ds = dict(ds)
        ds["val_fraction"] = round(self.val_fraction.value(), 4)
        if "csv" in ds:
            target = self.target.text().strip()
            if target:
                ds["target"] = target
            else:
                ds.pop("target", None)
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

        def put(key, value, default=None):
            if value is None or value == default:
                t.pop(key, None)
            else:
                t[key] = value

        put("task", None if self.task.currentText() == _DEFAULT else self.task.currentText())
        loss = self.loss.currentText()
        old_loss = obj(t.get("loss"))
        put("loss", None if loss == _DEFAULT else
            ({**old_loss, "type": loss} if old_loss.get("type") == loss else {"type": loss}))
        kind = self.optimizer.currentText()
        opt = dict(obj(t.get("optimizer")))
        if opt.get("type") != kind:
            opt = {"type": kind}
        old_opt = obj(old.get("optimizer"))
        lr = read(self.lr.value, old_opt.get("lr", 1e-3))
        opt["lr"] = lr if lr is not None else 1e-3
        for key, edit in (("momentum", self.momentum), ("weight_decay", self.weight_decay)):
            v = read(edit.value, old_opt.get(key)) if (key != "momentum" or kind in MOMENTUM) \
                else None
            if v is None:
                opt.pop(key, None)
            else:
                opt[key] = v
        t["optimizer"] = opt
        sch = self.schedule.currentText()
        old_sch = obj(t.get("scheduler"))
        if sch == "none":
            t.pop("scheduler", None)
        elif old_sch.get("type") != sch:
            t["scheduler"] = {"type": sch, **SCHEDULES[sch]}
        else:
            t["scheduler"] = read(lambda: {"type": sch, **parse_kwargs(self.schedule_params.text())},
                                  old_sch)
        put("epochs", self.epochs.value())
        put("batch_size", self.batch_size.value())
        put("grad_accum_steps", self.accum.value(), 1)
        def clip_value():
            clip = self.clip.value()
            if clip is not None and clip <= 0:
                raise SettingsParseError("gradient clipping must be a positive number "
                                         "(empty: none)")
            return clip

        put("grad_clip_norm", read(clip_value, old.get("grad_clip_norm")))
        put("l1", read(self.l1.value, old.get("l1", 0.0)), 0.0)
        es = dict(obj(t.get("early_stopping")))
        if self.patience.value():
            es["patience"] = self.patience.value()
            t["early_stopping"] = es
        else:
            t.pop("early_stopping", None)
        put("amp", self.amp.isChecked(), False)
        put("device", self.device.currentText(), "auto")
        put("seed", self.seed.value(), 0)
        if self._shown:
            keep_untouched(t, self._loaded, self._shown,
                           {f: state(getattr(self, f)) for f in KEYS_OF})
        return t

    # ------------------------------------------------------------ checks
    def update_checks(self) -> None:
        """Refresh the dataset-fit and memory lines (after any edit)."""
        if self.doc is None:
            return
        t = self.doc.project.training or {}
        state, shape = self._file_shape(t)
        problem = fit_problem(self.doc.graph, t, shape)
        if problem:
            self.fit.setText(f"⛔ {problem}")
        elif state == "pending":
            self.fit.setText("Reading the file's sample shape…")
        else:
            self.fit.setText("")
        self.fit.setStyleSheet("color: #d22;" if problem else "")
        dev = self._device(t)
        try:
            text, fits = memory_text(self.doc.analyzer, t, self.device_memory.get(dev), dev)
        except (TypeError, ValueError):
            text, fits = "", True
        self.memory.setText(text)
        self.memory.setStyleSheet("" if fits else "color: #d22;")
        self.changed.emit()

    def _file_shape(self, training: dict):
        """``(state, shape)`` of a file dataset from the prober (``("", None)`` for
        a built-in set); a pending read refreshes the checks when it is done."""
        base = dataset_base(self.doc)
        where = file_of((training or {}).get("dataset") or {}, base)
        if where is None:
            return "", None
        return self.prober.get(*where, training["dataset"], base)

    def _device(self, training: dict) -> str:
        """The device a run would use (``auto`` resolved as the engine does)."""
        dev = str(training.get("device", "auto"))
        if dev == "auto":
            dev = "cuda" if "cuda" in self.devices else "cpu"
        return dev

    def memory_error(self) -> tuple[str, str | None] | None:
        """Why a training step will not fit in the device's memory, and the node
        to show (None: it fits, or the network has errors, or it cannot be told)."""
        if self.doc is None or not self.doc.analyzer.valid():
            return None
        t = self.training()
        dev = self._device(t)
        try:
            return memory_problem(self.doc.analyzer, t, self.device_memory.get(dev), dev)
        except (TypeError, ValueError):  # a bad batch size: the engine names it at Start
            return None

    def fit_error(self) -> str | None:
        """The reason the dataset does not fit, if known before loading (a file
        still being read is checked by the engine when it loads)."""
        if self.doc is None:
            return None
        t = self.doc.project.training or {}
        return fit_problem(self.doc.graph, t, self._file_shape(t)[1])
