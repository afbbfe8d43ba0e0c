"""Where the blocks a user adds go, and the View settings that steer it.

- A block double-clicked in the palette lands next to the selected block
  (below it, or right of it when the network flows left to right) and is
  connected to it when their ports fit; View → Connect Added Blocks turns
  that off.  Without a selected block (or with the option off) it lands at
  the free spot nearest the centre of the visible canvas, so blocks added one
  after another sit side by side, never on one point.
- View → Flow Left to Right switches the auto-layout (and the ports) between
  top to bottom and left to right.

Both settings are remembered per user.  The geometry (free spots) is
:mod:`graph.layout`'s; this module only supplies the canvas's boxes.
"""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from graph import blocks
from graph.analysis import analyze
from graph.graph import Graph, GraphEditError
from graph.placement import free_spot
from graph.problems import ERROR, Code

from . import commands
from .canvas import layout as canvas_layout
from .canvas.layout import LAYER_GAP, type_size
from .unit_commands import DefineUnit

AUTO_CONNECT = "canvas/connect_added_blocks"
#: problems that say an edge's tensor does not suit the block it enters
MISFITS = {Code.RANK, Code.DTYPE, Code.WINDOW, Code.ZERO_SIZE, Code.SIZE}


def _settings():
    from .file_ops import settings
    return settings()


def auto_connect() -> bool:
    """Whether a palette block is put next to the selected one and connected."""
    return str(_settings().value(AUTO_CONNECT, "true")).lower() == "true"


def set_auto_connect(on: bool) -> None:
    _settings().setValue(AUTO_CONNECT, "true" if on else "false")


def init_actions(actions: dict) -> None:
    """Make the two View toggles checkable and show the remembered settings."""
    direction = actions["layout_lr"]
    direction.setCheckable(True)
    direction.setChecked(canvas_layout.direction() == "LR")
    connect = actions["auto_connect"]
    connect.setCheckable(True)
    connect.setChecked(auto_connect())


def toggle_direction(window) -> None:
    """View → Flow Left to Right: remember the choice and lay the network out."""
    flow = "LR" if window.actions["layout_lr"].isChecked() else "TB"
    canvas_layout.set_direction(flow)
    window.scene.set_vertical(flow == "TB")
    window.view_layout()


class ConnectNew(QUndoCommand):
    """Connect a block to one its macro has just added (the new block's id is
    only known once that ``AddNode`` ran)."""

    def __init__(self, graph: Graph, source: str, source_port: str, add_node, target_port: str):
        super().__init__("Connect")
        self.graph, self.source, self.source_port = graph, source, source_port
        self.add_node, self.target_port = add_node, target_port
        self.edge = None

    def redo(self) -> None:
        self.edge = self.graph.connect(self.source, self.add_node.node.id,
                                       self.source_port, self.target_port)

    def undo(self) -> None:
        if self.edge is not None:
            self.graph.disconnect(self.edge)


def fitting_ports(graph: Graph, source: str, type_name: str, tensor,
                  spec=None) -> tuple[str, str] | None:
    """The (output, input) ports by which a new block of ``type_name`` can
    follow ``source``: the source's first output into the block's first
    input, when the block takes the source's tensor (``tensor``, the type the
    analysis gives that output, None when unknown) without a rank, dtype or
    size error; None when it does not fit.  ``spec``: the block's spec when
    the graph does not know its type yet (a library unit being added)."""
    sspec, tspec = graph.nodes[source].spec, spec or graph.spec_of_type(type_name)
    if sspec is None or tspec is None or sspec.role == "output":
        return None
    if not sspec.outputs or not tspec.inputs:
        return None
    out, inp = sspec.outputs[0].name, tspec.inputs[0].name
    if tensor is None or blocks.get(type_name) is None:
        return out, inp  # a unit, or an unknown shape: the ports decide
    trial = Graph()
    trial.add_node("Input", {"shape": list(tensor.shape[1:]), "dtype": tensor.dtype}, id="x")
    trial.add_node(type_name, {}, id="b")
    trial.connect("x", "b", None, inp)
    an = analyze(trial)
    try:
        bad = [p for p in an.problems() if p.node == "b" and p.severity == ERROR
               and p.code in MISFITS]
    finally:
        an.close()
    return None if bad else (out, inp)


def add_from_palette(window, type_name: str) -> str | None:
    """Add a block double-clicked in the palette (see the module docstring);
    returns its id, or None when it was refused (the status bar says why)."""
    scene, view = window.scene, window.view
    graph = scene.graph
    size = type_size(graph, type_name)
    boxes = [(r.x(), r.y(), r.width(), r.height())
             for r in (item.mapRectToScene(item.rect) for item in scene.nodes.values())]
    selected = scene.selected_node_ids()
    anchor = selected[0] if len(selected) == 1 and auto_connect() else None
    if anchor is not None:
        r = scene.nodes[anchor].mapRectToScene(scene.nodes[anchor].rect)
        if scene.vertical:
            want = (r.center().x() - size[0] / 2, r.bottom() + LAYER_GAP)
        else:
            want = (r.right() + LAYER_GAP, r.center().y() - size[1] / 2)
    else:
        c = view.mapToScene(view.viewport().rect().center())
        want = (c.x() - size[0] / 2, c.y() - size[1] / 2)
    spot = free_spot(boxes, size, want)
    cmd, why = commands.add_block(window.doc, type_name, spot)
    if cmd is None:
        scene.message.emit(why)
        return None
    ports = None
    if anchor is not None:
        result = window.doc.view_analyzer.results.get(anchor)
        spec = graph.nodes[anchor].spec
        out = spec.outputs[0].name if spec is not None and spec.outputs else None
        tensor = result.outs.get(out) if result is not None and result.outs and out else None
        ports = fitting_ports(graph, anchor, cmd_type(cmd, type_name), tensor, new_spec(cmd))
    if ports is not None:
        cmd.add(ConnectNew(graph, anchor, ports[0], cmd.add_node, ports[1]))
        cmd.setText(f"Add {type_name} after {graph.nodes[anchor].name}")
    try:
        window.doc.push(cmd)
    except GraphEditError as exc:
        scene.message.emit(str(exc))
        return None
    nid = cmd.node.id
    scene.clearSelection()
    scene.nodes[nid].setSelected(True)
    if not view.mapToScene(view.viewport().rect()).boundingRect().contains(
            scene.nodes[nid].sceneBoundingRect()):
        view.centerOn(scene.nodes[nid])
    return nid


def new_spec(cmd):
    """The spec of a unit the add command defines first (a library unit), or None."""
    return next((c.unit.spec() for c in cmd.children if isinstance(c, DefineUnit)), None)


def cmd_type(cmd, type_name: str) -> str:
    """The type an add command makes (a library unit's name, without prefix)."""
    return cmd.add_node.args["type"] if cmd.add_node is not None else type_name
