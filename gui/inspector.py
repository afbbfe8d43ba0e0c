"""The inspector: name, parameters (widgets by kind), inferred values and
documentation of the selected node.  Every edit goes through a command."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QFormLayout, QLabel, QLineEdit, QScrollArea,
                               QSpinBox, QVBoxLayout, QWidget)

from graph.problems import Code, GraphEditError, ParamError

from . import commands
from .binding import DocumentBinding
from .param_editors import ParseError, format_value
from .tuple_editors import editor_for
from .unit_commands import SetRepeat

ERROR_STYLE = "color: #d22;"
NOTE_STYLE = "color: #777;"
MAX_REPEAT = 10000  # as the file format allows


def is_binding(value: Any) -> bool:
    """A ``"$name"`` value: a unit parameter standing in for a value."""
    return isinstance(value, str) and value.startswith("$") and value[1:].isidentifier()


class Inspector(QScrollArea):
    """Edits the one selected node of a document (empty otherwise)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        # the form narrows with the dock (spin boxes shrink) instead of scrolling sideways
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.doc = None
        self.binding = DocumentBinding(analysed=self.refresh)
        self.node_id: str | None = None
        self.editors: dict[str, Any] = {}
        self.errors: dict[str, QLabel] = {}
        self._show_empty()

    def bind(self, doc) -> None:
        """Edit the nodes of ``doc`` (see :mod:`gui.binding`); nothing is selected."""
        self.doc = self.binding.bind(doc)
        self.show_node(None)

    def _show_empty(self, text: str = "Select one block to edit its parameters.") -> None:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        label.setMargin(8)
        self.setWidget(label)
        self.editors, self.errors, self.inferred_labels = {}, {}, {}
        self.problem_label = self.name_error = self.repeat_edit = None

    def show_node(self, node_id: str | None) -> None:
        """Build the form for a node (None: nothing selected)."""
        self.node_id = node_id
        if node_id is None or self.doc is None or node_id not in self.doc.current_graph.nodes:
            self.node_id = None
            self._show_empty()
            return
        node = self.doc.current_graph.nodes[node_id]
        spec = node.spec
        if spec is None:
            self._show_empty(f"Unknown block type {node.type!r}.")
            return
        page = QWidget()
        outer = QVBoxLayout(page)
        title = QLabel(f"<b>{spec.type}</b>" + (f"<br><code>{spec.formula}</code>" if spec.formula else ""))
        title.setWordWrap(True)
        outer.addWidget(title)
        self.problem_label = QLabel()
        self.problem_label.setTextFormat(Qt.TextFormat.RichText)
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet(ERROR_STYLE)
        self.problem_label.hide()
        outer.addWidget(self.problem_label)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.name_edit = QLineEdit(node.name)
        self.name_edit.setToolTip("the layer's name in the generated code, exported files "
                                  "and checkpoints: a Python identifier, unique")
        self.name_edit.editingFinished.connect(self._rename)
        name_box, self.name_error = _with_error(self.name_edit)
        form.addRow("name", name_box)
        self.editors, self.errors, self.inferred_labels = {}, {}, {}
        for prm in spec.params:
            ed = editor_for(prm, lambda v, n=prm.name: self._commit(n, v))
            self.editors[prm.name] = ed
            label = QLabel(prm.name)
            label.setToolTip(prm.doc)
            box, self.errors[prm.name] = _with_error(ed.widget)
            form.addRow(label, box)
        self.repeat_edit = None
        if getattr(spec, "unit", None) is not None:
            self.repeat_edit = QSpinBox()
            self.repeat_edit.setRange(1, MAX_REPEAT)
            self.repeat_edit.setValue(node.repeat)
            self.repeat_edit.setToolTip("copies of the unit in a chain, each with its own weights "
                                        "(an nn.Sequential in the code)")
            self.repeat_edit.editingFinished.connect(self._commit_repeat)
            box, self.repeat_error = _with_error(self.repeat_edit)
            form.addRow("repeat", box)
        self.frozen_box = None
        if spec.weights or getattr(spec, "unit", None) is not None:
            self.frozen_box = QCheckBox("Frozen (not trained)")
            self.frozen_box.setToolTip("keep this block's weights as they are (loaded from "
                                       "pretraining): they are left out of the optimizer")
            self.frozen_box.setChecked(node.frozen)
            self.frozen_box.toggled.connect(self._commit_frozen)
            form.addRow("", self.frozen_box)
        for name in spec.inferred:
            lab = QLabel("—")
            lab.setToolTip("inferred from the input shape (read-only)")
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.inferred_labels[name] = lab
            key = QLabel(f"{name}<br><small><i>inferred</i></small>")
            key.setToolTip("follows from the input shape; not set by hand")
            form.addRow(key, lab)
        outer.addLayout(form)
        about = spec.doc + (f"<br><br>{spec.details}" if spec.details else "")
        if getattr(spec, "unit", None) is not None:
            about += ("<br><br>Double-click the block (or Edit → Open Unit) to edit the unit's "
                      "definition; every block of this unit follows.")
        doc = QLabel(about)
        doc.setWordWrap(True)
        outer.addWidget(doc)
        outer.addStretch(1)
        self.setWidget(page)
        self.refresh()

    def focus_first(self, node_id: str) -> bool:
        """Put the keyboard focus in ``node_id``'s first parameter editor (its
        name when it has no parameters), its text selected for typing over.

        Returns:
            False when there is no such node at the current level.
        """
        if node_id != self.node_id:
            self.show_node(node_id)
        if self.node_id != node_id:
            return False
        first = next(iter(self.editors.values()), None)
        widget = first.widget if first is not None else self.name_edit
        for cand in [widget, *widget.findChildren(QWidget)]:
            if cand.isEnabled() and cand.focusPolicy() & Qt.FocusPolicy.TabFocus:
                cand.setFocus(Qt.FocusReason.OtherFocusReason)
                if hasattr(cand, "selectAll"):
                    cand.selectAll()
                self.ensureWidgetVisible(cand)
                break
        return True

    def refresh(self) -> None:
        """Show the node's current values (after undo, or any edit)."""
        if self.node_id is None or self.doc is None:
            return
        graph = self.doc.current_graph
        if self.node_id not in graph.nodes:
            self.show_node(None)
            return
        node = graph.nodes[self.node_id]
        problems = self.doc.view_analyzer.node_problems(self.node_id)
        name_problem = next((p.message for p in problems if p.code == Code.BAD_NAME), None)
        if not self.name_edit.hasFocus():  # (a refused name stays while it is being typed)
            self.name_edit.setText(node.name)
            self._mark_name(name_problem)
        # a problem whose fix sets a parameter is about that parameter's value:
        # shown at its editor, a name the code cannot use at the name; the
        # others above the form
        blamed = {p.fix["param"]: p.message for p in problems
                  if p.fix and p.fix.get("kind") == "set_param" and p.fix.get("param") in self.editors}
        rest = [p for p in problems if p.message not in blamed.values() and p.code != Code.BAD_NAME]
        self.problem_label.setText("<br>".join(html.escape(p.message) for p in rest))
        self.problem_label.setVisible(bool(rest))
        for name, ed in self.editors.items():
            value = graph.get_param(self.node_id, name)
            if is_binding(value):  # inside a unit: "$channels" is the unit's parameter
                ed.set_value(None)
                self._mark(name, None)
                self.errors[name].setText(f"{value}: the unit's parameter {value[1:]}, set on "
                                          "each instance (type a value to fix it here)")
                self.errors[name].setStyleSheet(NOTE_STYLE)
                self.errors[name].show()
                continue
            ed.set_value(value)
            self._mark(name, blamed.get(name))
            try:
                ed.param.check(value)
            except ParamError as exc:
                self._mark(name, str(exc))
        if self.frozen_box is not None and self.frozen_box.isChecked() != node.frozen:
            self.frozen_box.blockSignals(True)  # (an undo: not a new edit)
            self.frozen_box.setChecked(node.frozen)
            self.frozen_box.blockSignals(False)
        if self.repeat_edit is not None:  # (refreshed only after an undo-stack step)
            self.repeat_edit.setValue(node.repeat)
        r = self.doc.view_analyzer.result(self.node_id)
        for name, lab in self.inferred_labels.items():
            v = r.inferred.get(name) if r else None
            lab.setText(format_value(v) if v is not None else "— (needs a valid input)")

    def _mark(self, name: str, reason: str | None) -> None:
        err = self.errors[name]
        err.setStyleSheet(ERROR_STYLE)
        if reason:
            err.setText(reason)
            err.show()
        else:
            err.hide()
        self.editors[name].mark(bool(reason))

    def _mark_name(self, reason: str | None) -> None:
        self.name_error.setText(reason or "")
        self.name_error.setVisible(bool(reason))
        self.name_edit.setStyleSheet("border: 1px solid #d22;" if reason else "")

    def error_text(self, name: str) -> str | None:
        err = self.errors.get(name)
        return err.text() if err is not None and not err.isHidden() else None

    def name_error_text(self) -> str | None:
        """Why the typed name was refused (or why the code cannot use the
        node's name), as shown under the name field; None when fine."""
        err = self.name_error
        return err.text() if err is not None and not err.isHidden() else None

    def _commit(self, name: str, value: Any) -> None:
        if self.node_id is None:
            return
        ed = self.editors[name]
        if isinstance(value, ParseError):
            self._mark(name, str(value))
            return
        try:
            checked = ed.param.check(value)
        except ParamError as exc:
            self._mark(name, str(exc))  # marked as typed; not applied
            return
        self._mark(name, None)
        graph = self.doc.current_graph
        try:
            current = ed.param.check(graph.get_param(self.node_id, name))
        except ParamError:
            current = object()
        if checked == current:
            return
        try:
            self.doc.push(commands.SetParam(graph, self.node_id, name, value))
        except GraphEditError as exc:
            self._mark(name, str(exc))

    def _commit_repeat(self) -> None:
        if self.node_id is None or self.repeat_edit is None:
            return
        graph = self.doc.current_graph
        value = self.repeat_edit.value()
        if value == graph.nodes[self.node_id].repeat:
            return
        try:
            self.doc.push(SetRepeat(graph, self.node_id, value).apply())
        except GraphEditError as exc:
            self.repeat_error.setText(str(exc))
            self.repeat_error.show()
            return
        self.repeat_error.hide()

    def repeat_error_text(self) -> str | None:
        err = getattr(self, "repeat_error", None)
        return err.text() if self.repeat_edit is not None and not err.isHidden() else None

    def _commit_frozen(self, checked: bool) -> None:
        if self.node_id is not None and self.doc is not None:
            self.doc.push(commands.SetFrozen(self.doc.current_graph, [self.node_id], checked))

    def _rename(self) -> None:
        if self.node_id is None:
            return
        text = self.name_edit.text().strip()
        graph = self.doc.current_graph
        node = graph.nodes.get(self.node_id)
        if node is None or text == node.name:
            return
        if not text:
            self.name_edit.setText(node.name)
            return
        # refused as typed (the text stays, marked, until corrected), like a
        # parameter value: the canvas and the code never disagree on a name
        why = graph.name_problem(text, self.node_id)
        if why is not None:
            self._mark_name(why)
            return
        try:
            self.doc.push(commands.Rename(graph, self.node_id, text))
        except GraphEditError as exc:
            self._mark_name(str(exc))
            return
        self._mark_name(None)


def _with_error(field: QWidget) -> tuple[QWidget, QLabel]:
    """``field`` with a red message line under it (hidden until a value is
    refused): the box for the form row, and the message label."""
    err = QLabel()
    err.setStyleSheet(ERROR_STYLE)
    err.setWordWrap(True)
    err.hide()
    box = QWidget()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(1)
    lay.addWidget(field)
    lay.addWidget(err)
    return box, err
