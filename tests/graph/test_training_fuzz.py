"""Random ``training`` sections (quality.md R9): hypothesis puts random JSON at
every key, nested, mixed with near-valid settings (real loss, optimizer and
schedule names with random settings), and the check, the analysis and the
``check`` command must never raise; every problem has a location starting
with ``training`` and a message that starts with it.

The strategies (tests/training_sections.py) are shared with
tests/runtime/test_training_config_fuzz.py, which builds the runtime
configuration (and torch's objects) from the same sections.
"""

from __future__ import annotations

import contextlib
import io
import json
import types

from hypothesis import given, settings

from graph import analyze, cli
from graph.problems import ERROR, WARNING, Code
from graph.training_check import section_problems, training_problems
from support import chain
from training_sections import json_value, section

CODES = Code.all()


def check_problem(p) -> None:
    assert p.location is not None and p.location.startswith("training"), p
    assert p.message.startswith(p.location + ": "), p
    assert p.code in CODES and p.severity in (ERROR, WARNING), p


GRAPH = chain(("Linear", {"out_features": 3}), input_shape=(4,))


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(section)
def test_the_check_and_the_analysis_never_raise_and_locate_every_problem(training):
    json.dumps(training, allow_nan=False)  # a section a file can hold
    for p in section_problems(training) + training_problems(training, GRAPH):
        check_problem(p)
    an = analyze(GRAPH, training)
    try:
        for p in an.problems():
            if p.location is not None:
                check_problem(p)
            else:  # the network's own problems stay the network's
                assert p.node in GRAPH.nodes
        assert an.model_errors() == []
        # the section's errors are exactly what makes this valid network invalid
        assert an.valid() == (not [p for p in section_problems(training, ["y"])
                                   if p.severity == ERROR])
    finally:
        an.close()


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(json_value)
def test_any_json_value_as_the_whole_section_is_named_not_raised(value):
    for p in section_problems(value):
        check_problem(p)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(section)
def test_the_check_command_reports_them_all(tmp_path_factory, training):
    path = tmp_path_factory.mktemp("fuzz") / "p.json"
    path.write_text(json.dumps({"format": "netcanvas", "version": 1, "nodes": [
        {"id": "x", "type": "Input", "params": {"shape": [4]}},
        {"id": "fc", "type": "Linear", "params": {"out_features": 3}},
        {"id": "y", "type": "Output"}], "edges": [{"source": "x", "target": "fc"},
                                                  {"source": "fc", "target": "y"}],
        "training": training}), "utf-8")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.check(types.SimpleNamespace(file=str(path), json=True))
    report = json.loads(out.getvalue())
    assert code == (0 if report["valid"] else 1)
    for p in report["problems"]:
        assert p["location"].startswith("training") and p["message"].startswith(p["location"])
