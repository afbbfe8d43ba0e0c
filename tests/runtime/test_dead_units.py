"""Dead-unit counting is driven by the ``dead_units`` flag of the block specs.

Every flagged block is trained after a Linear layer and must be counted in
``dead_by_node``; unflagged ones never are; a flag added to or taken from a
spec changes what the engine counts, with no block type named in the runtime.
"""

from __future__ import annotations

import dataclasses

from graph.blocks import registry
from runtime import Trainer
from support import blobs, chain


def dead_by_node(*blocks):
    layers = []
    for b in blocks:
        layers += [("Linear", {"out_features": 8}), b]
    g = chain(*layers, ("Linear", {"out_features": 2}), input_shape=(2,))
    seen = []

    class Last:
        def on_epoch_end(self, m):
            seen.append(m)

    Trainer(g, {"epochs": 1, "batch_size": 32}, dataset=blobs(), callbacks=[Last()],
            report_every=0).run()
    return {g.nodes[nid].type for nid in seen[-1].get("dead_by_node", {})}


def test_relu_like_blocks_are_flagged_in_their_specs():
    flagged = {s.type for s in registry.all_specs() if s.dead_units}
    assert {"ReLU", "ReLU6"} <= flagged
    assert not flagged & {"LeakyReLU", "ELU", "Sigmoid", "BipolarReLU", "Linear"}


def test_every_flagged_block_is_counted_and_no_other():
    flagged = [s.type for s in registry.all_specs() if s.dead_units]
    assert dead_by_node(*flagged, "Sigmoid", "LeakyReLU") == set(flagged)


def test_the_flag_alone_decides_what_is_counted(monkeypatch):
    monkeypatch.setitem(registry.BLOCKS, "ReLU", dataclasses.replace(
        registry.get("ReLU"), dead_units=False))
    monkeypatch.setitem(registry.BLOCKS, "Softplus", dataclasses.replace(
        registry.get("Softplus"), dead_units=True))
    assert dead_by_node("ReLU", "Softplus") == {"Softplus"}
