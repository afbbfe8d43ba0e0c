"""What the training area shows while a run goes: edge histograms and diagnosis.

A mixin of :class:`~gui.training.controller.TrainingArea` (it uses its
``doc``, ``info``, ``worker``, ``record``, ``watched`` and ``view``):

- a clicked edge's histograms, with a note under each panel when nothing can
  be drawn and why (an ``Input`` gives data, not gradients; a block computed
  in ``forward()`` has no layer module to sample);
- the diagnosis after every epoch, from the epoch event's findings.
"""

from __future__ import annotations

from .histograms import WAITING

#: Under the gradients panel for an edge leaving an Input.
INPUT_NO_GRADIENTS = "input data: no gradients (nothing before the Input learns from them)"
BEFORE_START = "Sampled while training: press Start to see this edge's values."


class LiveOps:
    """Edge histograms and live diagnosis of the training area."""

    def watch_edge(self, source: str | None, label: str = "") -> None:
        """Show live histograms of the edge leaving ``source`` (None: none)."""
        self.watched = source
        self.view.histograms.set_edge(label if source else "")
        if source:
            self.view.tabs.setCurrentWidget(self.view.histograms)
            self._explain_watch()
        if self.worker is not None:
            self.worker.watch(source)

    def _explain_watch(self) -> None:
        """Say under the histogram panels what the watched edge will (not) show."""
        h, src = self.view.histograms, self.watched
        if not src or self.doc is None or src not in self.doc.graph.nodes:
            return
        node = self.doc.graph.node(src)
        role = node.spec.role if node.spec is not None else ""
        running = self.worker is not None
        modules = (self.info.get("nodes") or {}) if running else {}
        h.set_note(WAITING if running else BEFORE_START)
        if role == "input":
            h.set_note(INPUT_NO_GRADIENTS, "gradients")
        elif running and modules and src not in modules:
            h.set_note(f"{node.label()} is computed in the model's forward() and has no layer "
                       "module whose values can be sampled; click the edge out of the layer "
                       "before it or after it instead.")

    def _points(self, p: dict) -> None:
        """The data points of a 2-D classification run: its decision map is shown."""
        self.view.decision_map.set_points(p["x"], p["y"], p["labels"], p.get("num_classes"))
        self.view.show_map(True)

    def _histogram(self, node: str, kind: str, edges, counts) -> None:
        if node == self.watched:
            self.view.histograms.set_histogram(kind, edges, counts)

    def _node_name(self, nid) -> str | None:
        if nid is None:
            return None
        return (self.info.get("nodes") or {}).get(nid, {}).get("name", nid)

    def _live_diagnosis(self, row: dict) -> None:
        """Show the findings that came with an epoch's metrics."""
        findings = [dict(f, node=self._node_name(f.get("node")))
                    for f in row.get("diagnosis") or ()]
        self.view.diagnosis.set_epoch_findings(findings, row.get("epoch", 0))

    def _plot_unsent_steps(self, result) -> None:
        """Draw the step losses a run ended before sending (a fault mid-batch)."""
        curve = self.view.plots.runs[self.record.id].curves["loss"]
        losses = list(result.step_losses or [])
        done = len(curve)
        if len(losses) > done:
            self.view.plots.add_steps(list(range(done + 1, len(losses) + 1)), losses[done:],
                                      run_id=self.record.id)
