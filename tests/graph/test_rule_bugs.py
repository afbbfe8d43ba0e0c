"""A bug in a block's own functions (shape rule, parameter count) never takes the
editor down: it becomes a problem on the node; under ``graph.analysis.STRICT``
(which the test suite sets) it is raised, so a bug fails its test loudly.

The switch is read where the node is analysed (:mod:`graph.node_analysis`),
but it is set on :mod:`graph.analysis`, where it has always been.
"""

import pytest

import graph.analysis
from graph import Analyzer, Graph, analyze
from graph.blocks import BLOCKS, BlockSpec
from graph.problems import ERROR, Code


class RuleBug(Exception):
    """What the buggy block raises (not one of the analysis's own errors)."""


def _buggy_rule(ctx):
    raise RuleBug("index out of range in the rule")


def _buggy_count(ctx):
    raise RuleBug("bad count")


@pytest.fixture
def buggy(monkeypatch):
    """Two test blocks: one whose shape rule raises, one whose count raises."""
    monkeypatch.setitem(BLOCKS, "BuggyRule", BlockSpec(
        "BuggyRule", "structure", "a block whose shape rule has a bug", rule=_buggy_rule))
    monkeypatch.setitem(BLOCKS, "BuggyCount", BlockSpec(
        "BuggyCount", "structure", "a block whose count has a bug",
        rule=lambda ctx: ctx.x(), count=_buggy_count))


def _net(block: str) -> Graph:
    g = Graph()
    x = g.add_node("Input", params={"shape": [4]}, id="x")
    b = g.add_node(block, id="b")
    y = g.add_node("Output", id="y")
    g.connect(x.id, b.id)
    g.connect(b.id, y.id)
    return g


def test_a_rule_bug_is_a_problem_on_its_node_in_the_editor(buggy, monkeypatch):
    monkeypatch.setattr(graph.analysis, "STRICT", False)
    an = analyze(_net("BuggyRule"))
    (p,) = an.node_problems("b")
    assert p.severity == ERROR and p.code == Code.SIZE and p.node == "b"
    assert p.message == ('BuggyRule "buggy_rule_1": could not work out the output shape '
                         "(index out of range in the rule)")
    assert an.result("b").outs is None


def test_a_count_bug_leaves_the_shapes_and_no_problem_in_the_editor(buggy, monkeypatch):
    monkeypatch.setattr(graph.analysis, "STRICT", False)
    an = analyze(_net("BuggyCount"))
    assert an.valid() and str(an.output_type("b")) == "N×4"


@pytest.mark.parametrize("block", ["BuggyRule", "BuggyCount"])
def test_strict_raises_the_bug_itself(buggy, monkeypatch, block):
    monkeypatch.setattr(graph.analysis, "STRICT", True)
    with pytest.raises(RuleBug):
        analyze(_net(block))


def test_strict_is_read_at_each_analysis_not_when_the_analyser_is_made(buggy, monkeypatch):
    monkeypatch.setattr(graph.analysis, "STRICT", False)
    g = _net("BuggyCount")
    an = Analyzer(g).refresh()
    monkeypatch.setattr(graph.analysis, "STRICT", True)
    g.rename("b", "renamed")  # the node is analysed again (its messages name it)
    with pytest.raises(RuleBug):
        an.refresh()
