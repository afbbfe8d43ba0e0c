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
"""

from __future__ import annotations

import copy

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QLabel, QLineEdit, QSizePolicy, QSpinBox, QWidget)

from graph import training_names as vocab
from graph.problems import ERROR
from graph.training_check import per_output
from runtime.data import builtin_catalog

from ..binding import DocumentBinding
from .dataset_probe import Prober, dataset_base, file_of
from .augment_preview import AugmentPreview
from .settings_augment import AugmentSettings
from .settings_data import (FILE_KINDS, LOSSES, MOMENTUM, OPTIMIZERS, SCHEDULES, SetTraining,
                            SettingsParseError, dataset_text, fit_problem, format_kwargs,
                            memory_problem, memory_text, parse_kwargs)
from .settings_fields import FloatEdit, obj, state
from .settings_loss import (LOSS_FIELDS, BoundedSpin, ClassWeights, OptionalIntEdit,
                            class_names, effective_loss, reductions, set_loss_options, takes)
from .settings_outputs import OutputLosses, output_rows, write_output_losses
from .settings_values import KEYS_OF, field_of, keep_untouched, shown_values

_DEFAULT = "(default)"


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
        # the loss's own settings: shown for the losses that take them (load)
        smoothing = vocab.LOSSES["CrossEntropyLoss"]["label_smoothing"]
        self.label_smoothing = BoundedSpin("label smoothing", smoothing.lo, smoothing.hi)
        self.label_smoothing.setToolTip("Targets become (1 − ε)·one-hot + ε/classes: "
                                        "the network is not pushed to certainty")
        self.reduction = self._combo([_DEFAULT])
        self.ignore_index = OptionalIntEdit("ignore index")
        self.ignore_index.setToolTip("A target class index that takes no loss (e.g. padding)")
        self.class_weights = ClassWeights()
        # several Outputs: a row per Output (its loss and weight) instead of one loss
        self.output_losses = OutputLosses()
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
        # what early stopping watches: the graph's Outputs decide the choices
        self.monitor = self._combo(vocab.monitors())
        self.monitor.setToolTip("The metric early stopping and the best checkpoint watch; "
                                "with several Outputs, each one's own too")
        self.amp = QCheckBox("mixed precision (CUDA)")
        # as wide as its text: a click in the empty row beside it does nothing,
        # so the box must not look as if it spanned the row
        self.amp.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.device = self._combo(self.devices)
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1)
        # training.augment: its own rows and a strip of samples as the network sees them
        self.augment = AugmentSettings()
        self.augment_preview = AugmentPreview()
        self.error = QLabel()
        self.fit = QLabel()
        self.memory = QLabel()
        for lab in (self.error, self.fit, self.memory):
            lab.setWordWrap(True)
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet("color: #d22;")
        rows = (("Dataset", self.dataset), ("Target", self.target),
                ("Validation", self.val_fraction), ("Task", self.task), ("Loss", self.loss),
                ("Losses", self.output_losses),
                ("Label smoothing", self.label_smoothing), ("Reduction", self.reduction),
                ("Ignore index", self.ignore_index), ("Class weights", self.class_weights),
                ("Optimizer", self.optimizer), ("Learning rate", self.lr),
                ("Momentum", self.momentum), ("Weight decay", self.weight_decay),
                ("Schedule", self.schedule), ("Schedule params", self.schedule_params),
                ("Epochs", self.epochs), ("Batch size", self.batch_size),
                ("Grad. accumulation", self.accum), ("Grad. clipping", self.clip),
                ("L1 penalty", self.l1), ("Early stopping", self.patience),
                ("Watch metric", self.monitor), ("AMP", self.amp),
                ("Device", self.device), ("Seed", self.seed),
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

    @staticmethod
    def _combo(items) -> QComboBox:
        c = QComboBox()
        c.addItems(list(items))
        return c

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
        # a warning (a loss that wants a LogSoftmax) marks its field, which still
        # shows the value; an error means the value cannot be shown
        v = shown_values(t, {field_of(p.location) for p in problems if p.severity == ERROR})
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
            self._load_loss_options(t, v)
            per = self._load_output_losses(t, problems)
            self._load_augment(t, problems)
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
            self._load_monitors(v["monitor"], v["patience"] > 0)
            self.clip.set_value(v["clip"])
            self.l1.set_value(v["l1"])
            self.amp.setChecked(v["amp"])
            if self.device.findText(v["device"]) < 0:
                self.device.addItem(v["device"])
            self.device.setCurrentText(v["device"])
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
        self._read_loss_options(t, read)
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
            mon = self.monitor.currentText()
            if mon and (mon != "val_loss" or "monitor" in es):  # the default stays unwritten
                es["monitor"] = mon
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

    def _load_monitors(self, current: str, enabled: bool) -> None:
        """The metrics early stopping may watch in this network (each Output's
        own where it has several), ``current`` chosen (kept even when it is
        not one of them: the field is marked with the problem)."""
        outputs = [o.id for o in self.doc.graph.ends("output")]
        items = list(vocab.monitors(outputs))
        if current not in items:
            items.append(current)
        if [self.monitor.itemText(i) for i in range(self.monitor.count())] != items:
            self.monitor.clear()
            self.monitor.addItems(items)
        self.monitor.setCurrentText(current)
        self.monitor.setEnabled(enabled)

    # ------------------------------------------------------------ the loss's own settings
    def _load_loss_options(self, t: dict, v: dict) -> None:
        """Show the loss's settings, and only the rows of those the loss takes."""
        loss = effective_loss(t, self.doc.analyzer.dataset)
        for field in LOSS_FIELDS:
            self.form.setRowVisible(getattr(self, field), takes(loss, field))
        self.reduction.clear()
        self.reduction.addItems([_DEFAULT, *reductions(loss)])
        self.reduction.setCurrentText(v["reduction"] or _DEFAULT)
        self.label_smoothing.setValue(v["label_smoothing"])
        self.ignore_index.set_value(v["ignore_index"])
        self.class_weights.set_classes(class_names(t, self.doc.analyzer.dataset),
                                       v["class_weights"])

    def _read_loss_options(self, t: dict, read) -> None:
        """Put the loss's settings the fields show into ``t["loss"]`` (a field
        that cannot be read keeps the old value; see :meth:`_read`)."""
        if self.loss.currentText() == _DEFAULT and self._shown.get("loss", _DEFAULT) != _DEFAULT:
            return  # the loss was just set back to the default: its settings go with it
        loss = effective_loss(t, self.doc.analyzer.dataset)
        if not takes(loss, "reduction") and not takes(loss, "class_weights"):
            return  # a per-output loss, or none known: nothing shown here
        old = obj(t.get("loss"))
        reduction = self.reduction.currentText()  # (the old loss's list, when it just changed)
        values = {
            "label_smoothing": read(self.label_smoothing.checked, old.get("label_smoothing")),
            "reduction": reduction if reduction in reductions(loss) else None,
            "ignore_index": read(self.ignore_index.value, old.get("ignore_index")),
            "class_weights": read(self.class_weights.value, old.get("weight")),
        }
        set_loss_options(t, loss, values)

    # ------------------------------------------------------------ one loss per Output
    def _outputs(self) -> list[tuple[str, str]]:
        return [(n.id, n.name) for n in self.doc.graph.ends("output")]

    def _load_output_losses(self, t: dict, problems) -> bool:
        """Show a row per Output where the network has several (or the file a loss
        per Output id), in place of the one loss and its settings; whether it does."""
        outputs = self._outputs()
        per = len(outputs) > 1 or per_output(t.get("loss"), [oid for oid, _ in outputs])
        self.form.setRowVisible(self.output_losses, per)
        self.form.setRowVisible(self.loss, not per)
        if not per:
            return False
        for field in LOSS_FIELDS:  # each Output's own settings stay in the file as they are
            self.form.setRowVisible(getattr(self, field), False)
        marks: dict[str, list[str]] = {}
        for p in problems:
            parts = str(p.location or "").split(".")
            if len(parts) > 2 and parts[:2] in (["training", "loss"],
                                                ["training", "loss_weights"]):
                marks.setdefault(parts[2], []).append(p.message)
        self.output_losses.load(output_rows(t, outputs), marks)
        return True

    def _output_losses_edited(self) -> None:
        """A row's loss or weight changed: one undo step with the new ``loss``
        and ``loss_weights``."""
        if self._loading or self.doc is None:
            return
        t = self.training()
        write_output_losses(t, self.output_losses.shown(), self.output_losses.rows())
        self.push(t, "Change output losses")

    # ------------------------------------------------------------ augmentation
    def _load_augment(self, t: dict, problems) -> None:
        """Show ``augment`` for this network's inputs, its problems, and its samples."""
        inputs = [{**n.spec.defaults(), **n.params} for n in self.doc.graph.ends("input")]
        images = any(p.get("dtype") != "int64" and len(p.get("shape") or ()) == 3
                     for p in inputs)
        tokens = any(p.get("dtype") == "int64" for p in inputs)
        self.augment.load(t.get("augment"), (images, tokens))
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
        t = self.doc.project.training or {}
        state, shape = self._file_shape(t)
        problem = fit_problem(self.doc.graph, t, shape)
        self._fit_problem = problem
        self._show_errors()
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
