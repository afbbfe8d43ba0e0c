"""Behaviour flags on block specs drive the checks, with no block named in them.

``outputs_probabilities`` (Softmax) makes the softmax-before-cross-entropy
warning; the test builds the verdict for every block of the registry, so a
flag lost from a spec, or a check that names block types again, fails here.
"""

from __future__ import annotations

import dataclasses

import pytest

from graph import analyze
from graph.blocks import registry
from graph.problems import Code
from support import chain

CE = {"loss": {"type": "CrossEntropyLoss"}}


def softmax_warnings(block: str, training=CE):
    g = chain(("Linear", {"out_features": 3}), block, input_shape=(4,))
    return [p for p in analyze(g, training).problems() if p.code == Code.SOFTMAX_LOSS]


def elementwise_specs():
    """The specs a ``N×3`` input feeds as they are (activations and any flagged block)."""
    return [s for s in registry.all_specs()
            if s.family == "activation" or s.outputs_probabilities]


def test_the_blocks_that_output_probabilities_are_flagged_in_their_specs():
    flagged = {s.type for s in registry.all_specs() if s.outputs_probabilities}
    assert "Softmax" in flagged
    assert not flagged & {"LogSoftmax", "Sigmoid", "ReLU", "Linear"}


@pytest.mark.parametrize("spec", elementwise_specs(), ids=lambda s: s.type)
def test_softmax_warning_follows_the_spec_flag(spec):
    found = softmax_warnings(spec.type)
    if spec.outputs_probabilities:
        (p,) = found
        assert p.node == "l2"
        assert p.message.endswith(f"CrossEntropyLoss applies log-softmax itself; a {spec.type} "
                                  "right before the output squashes the gradients — remove it "
                                  "(apply softmax only for predictions)")
        assert softmax_warnings(spec.type, {"loss": {"type": "MSELoss"}}) == []
    else:
        assert found == []


def test_a_new_block_with_the_flag_gets_the_warning_without_touching_the_checks(monkeypatch):
    # a block added to the registry with the flag, and Softmax with it taken away
    probs = dataclasses.replace(registry.get("Sigmoid"), type="Probabilities",
                                outputs_probabilities=True)
    monkeypatch.setitem(registry.BLOCKS, "Probabilities", probs)
    monkeypatch.setitem(registry.BLOCKS, "Softmax", dataclasses.replace(
        registry.get("Softmax"), outputs_probabilities=False))
    (p,) = softmax_warnings("Probabilities")
    assert "a Probabilities right before the output" in p.message
    assert softmax_warnings("Softmax") == []
