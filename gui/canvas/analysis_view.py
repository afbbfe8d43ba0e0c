"""The document's analysis on the canvas: shape labels on the edges,
parameter counts and problem marks on the blocks, and quick-fix badges.

The analysis is applied when the document says it is up to date
(``analysed``), and only to items whose analysis result changed, so no
analysis runs on paint.  A badge sits where it covers no block, no shape
label and no other badge.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QPointF, QRectF

from graph.dims import format_shape
from graph.fixes import plan_fix
from graph.graph import Edge, GraphEditError

from .. import commands
from . import layout
from .fix_item import FixMarker


@functools.lru_cache(maxsize=4096)
def _shape_text(shape: tuple) -> str:
    """A shape label's text (a large network repeats a few shapes thousands of times)."""
    return format_shape(shape)


def edge_label(edge: Edge, result) -> tuple[str, bool]:
    """An edge's shape label from its source's analysis result, and
    whether it is an error (no shape)."""
    tt = result.outs.get(edge.source_port) if result and result.outs else None
    return (_shape_text(tuple(tt.shape)) if tt else "?"), tt is None


class AnalysisView:
    """What the canvas shows of one document's analysis (see the module docstring).

    Args:
        scene: the :class:`~gui.canvas.scene.CanvasScene`; its ``doc``,
            ``graph``, ``nodes``, ``edges``, ``message`` and item list are used.
    """

    def __init__(self, scene):
        self._scene = scene
        self.markers: list[FixMarker] = []
        self._results: dict[str, object] = {}  # the result each block shows
        self._problems: dict[str, tuple] = {}  # the problems each block shows

    def stale(self, nid: str) -> None:
        """Block ``nid`` (or an edge out of it) is new: show its analysis anew."""
        self._results.pop(nid, None)

    def forget(self, nid: str) -> None:
        """Block ``nid`` is gone."""
        self._results.pop(nid, None)
        self._problems.pop(nid, None)

    def apply(self) -> None:
        """Update labels, counts and problem marks whose analysis changed."""
        scene = self._scene
        an = scene.doc.view_analyzer
        scene.overview_changed()  # problem marks may have changed
        by_node: dict[str, list] = {}
        for p in an.problems():
            if p.node is not None:
                by_node.setdefault(p.node, []).append(p)
        results = an.results
        for nid, item in scene.nodes.items():
            r = results.get(nid)
            probs = tuple(by_node.get(nid, ()))
            changed = self._results.get(nid) is not r
            if changed or self._problems.get(nid) != probs:
                item.set_result(r.n_params if r else 0, list(probs))
                self._problems[nid] = probs
            if changed:
                self._results[nid] = r
                for e in item.edges:
                    if e.edge.source == nid:
                        e.set_label(*edge_label(e.edge, r))
        self.place_markers(by_node)

    def replace_markers(self) -> None:
        """Place the badges of the problems shown again (the edges moved)."""
        self.place_markers({k: list(v) for k, v in self._problems.items() if v})

    def place_markers(self, by_node: dict[str, list]) -> None:
        """Replace the badges with those of the fixable problems in ``by_node``."""
        scene = self._scene
        for m in self.markers:
            scene.removeItem(m)
        self.markers = []
        wanted = [(nid, p) for nid, probs in by_node.items() for p in probs
                  if p.fix and nid in scene.nodes]
        if not wanted:
            return
        # badges also keep off the shape labels (skipped when there are very many)
        taken: list[QRectF] = ([e.label_rect() for e in scene.edges.values()]
                               if len(wanted) * len(scene.edges) <= 200_000 else [])
        for nid, p in wanted:
            marker = FixMarker(p, self.apply_fix)
            marker.setPos(self._marker_pos(nid, p, marker, taken))
            taken.append(marker.sceneBoundingRect())
            scene.addItem(marker)
            self.markers.append(marker)

    def _marker_pos(self, nid: str, p, marker: FixMarker, taken: list[QRectF]) -> QPointF:
        """Where a quick-fix badge goes: an insert under the label of the edge
        it goes into, a parameter change above its node; never over a node
        (its ports and border), a shape label or another badge."""
        scene = self._scene
        plan = plan_fix(scene.graph, p)
        item = scene.nodes[nid]
        half = marker.rect.height() / 2
        if plan is not None and plan.kind == "insert" and plan.edge in scene.edges:
            edge = scene.edges[plan.edge]
            label = edge.label_rect()
            at = QPointF(label.center().x(), label.bottom() + half + 3)
            ends = [edge.src.parentItem().sceneBoundingRect(), edge.dst.parentItem().sceneBoundingRect()]
        else:
            margin = item.pos().y() - item.sceneBoundingRect().top()  # the item's paint margin
            at = item.pos() + QPointF(item.rect.width() / 2, -margin - half - 3)
            ends = [item.sceneBoundingRect()]
        blocked = ends + taken
        for _ in range(len(blocked) + 1):
            rect = marker.rect.translated(at)
            hit = [r for r in blocked if r.intersects(rect)]
            if not hit:
                break
            at = QPointF(at.x(), max(r.bottom() for r in hit) + half + 3)
        return at

    def apply_fix(self, problem) -> None:
        """Apply ``problem``'s quick fix (one undo step), or say why not."""
        scene = self._scene
        graph = scene.graph
        cmd = commands.quick_fix(graph, problem, size_of=lambda t: layout.type_size(graph, t))
        if cmd is None:
            scene.message.emit("this quick fix no longer applies")
            return
        try:
            scene.doc.push(cmd)
        except GraphEditError as exc:
            scene.message.emit(f"quick fix failed: {exc}")
