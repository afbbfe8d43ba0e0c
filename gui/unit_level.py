"""The analysis of an opened unit's canvas, read from the project's analysis.

A unit's definition has no shapes of its own: they come from an instance
(``Input`` shapes are the instance's inputs).  The project's analyzer already
holds every instance's inner results by dotted id (``c1``, ``0.c1`` in a
repeated instance, ``b.0.c1`` nested); :class:`LevelAnalysis` reads those of
the instance the unit was opened from (the first copy of a repeated one), so
nothing is analysed twice and an edit in the unit shows as soon as the
project is re-analysed.  Opened without an instance (from the palette), the
first instance of the unit is used; with none, no shapes are known.
"""

from __future__ import annotations

from dataclasses import replace


class LevelAnalysis:
    """The part of :class:`graph.analysis.Analyzer`'s reading interface the
    canvas and the inspector use (``results``, ``result``, ``problems``,
    ``node_problems``, ``edge_type``, ``refresh``), for an opened unit."""

    def __init__(self, doc):
        self.doc = doc
        self.analyzer = doc.analyzer

    def _where(self) -> tuple[object | None, str, str]:
        """The top instance's result, the dotted prefix of this level's nodes
        inside it, and the top instance's id ("" when there is none)."""
        an = self.analyzer
        graph = self.doc.graph
        top_result, prefix, top_id = None, "", ""
        for depth, (name, _unit, inst) in enumerate(self.doc.levels):
            if inst is None or inst not in graph.nodes:
                found = graph.instances(name)
                inst = found[0] if found else None
            if inst is None:
                return None, "", ""
            node = graph.nodes[inst]
            copy = "0." if node.repeat > 1 else ""
            if depth == 0:
                top_result, top_id, prefix = an.result(inst), inst, copy
            else:
                prefix += f"{inst}.{copy}"
            graph = node.spec.unit.graph if getattr(node.spec, "unit", None) else None
            if graph is None:
                return None, "", ""
        return top_result, prefix, top_id

    def refresh(self):
        self.analyzer.refresh()
        return self

    @property
    def results(self) -> dict:
        top, prefix, _ = self._where()
        inner = top.inner if top is not None else {}
        out = {}
        for nid in self.doc.current_graph.nodes:
            r = inner.get(prefix + nid)
            if r is not None:
                out[nid] = r
        return out

    def result(self, node_id: str):
        return self.results.get(node_id)

    def edge_type(self, edge):
        r = self.result(edge.source)
        return r.outs.get(edge.source_port) if r and r.outs else None

    def problems(self) -> list:
        """The opened instance's inner problems, with this level's node ids."""
        _top, prefix, top_id = self._where()
        if not top_id:
            return []
        lead = f"{top_id}.{prefix}"
        nodes = self.doc.current_graph.nodes
        found = []
        for p in self.analyzer.problems():
            if p.node and p.node.startswith(lead):
                rest = p.node[len(lead):]
                # a problem deeper down belongs to the instance at this level
                nid = rest if rest in nodes else rest.split(".", 1)[0]
                if nid in nodes:
                    found.append(replace(p, node=nid))
        return found

    def node_problems(self, node_id: str) -> list:
        return [p for p in self.problems() if p.node == node_id]
