"""R1 and R6 for code generation: random valid graphs, hostile names (hypothesis)."""

import ast
import io
import keyword
import os
import tempfile
import tokenize

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codegen import generate
from codegen.compile import module_class
from graph import Graph, analyze, blocks
from codegen_cases import FLOAT_SHAPES, _params
from support import run_and_compare

#: Blocks random graphs are made of: every single-tensor-input layer of the registry.
POOL = sorted(s.type for s in blocks.all_specs() if s.role == "layer"
              and len([p for p in s.inputs if not p.optional]) == 1 and len(s.outputs) == 1)
INPUTS = [shape for shape in FLOAT_SHAPES]


def _grow(data_draw, g: Graph, steps: int) -> None:
    """Add blocks one at a time at random places, keeping only additions that validate."""
    for _ in range(steps):
        t = data_draw(st.sampled_from(POOL))
        spec = blocks.get(t)
        src = data_draw(st.sampled_from(sorted(nid for nid, n in g.nodes.items() if n.type != "Output")))
        node = g.add_node(t, _params(spec))
        port = next(p for p in spec.inputs if not p.optional)
        g.connect(src, node.id, target_port=port.name)
        if port.variadic:
            other = data_draw(st.sampled_from(sorted(nid for nid, n in g.nodes.items()
                                                     if n.type != "Output" and nid != node.id)))
            g.connect(other, node.id, target_port=port.name)
        an = analyze(g)
        bad = any(p.node == node.id for p in an.errors())
        an.close()
        if bad:
            g.remove_node(node.id)


@st.composite
def valid_graphs(draw, max_steps=6):
    g = Graph()
    g.add_node("Input", {"shape": list(draw(st.sampled_from(INPUTS)))}, id="x")
    _grow(draw, g, draw(st.integers(1, max_steps)))
    sinks = [nid for nid in g.nodes if not g.out_edges(nid)]
    for k, nid in enumerate(sinks):
        g.connect(nid, g.add_node("Output", id=f"y{k}").id)
    return g


FAST = settings(max_examples=1200, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@FAST
@given(valid_graphs())
def test_random_valid_graphs_run_with_exactly_the_inferred_shapes(g):
    an = analyze(g)
    errors = an.errors()
    an.close()
    if errors:  # e.g. two Outputs on one node never happens; anything else is a bug below
        pytest.fail([p.message for p in errors])
    run_and_compare(g, batch=1)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_graphs(max_steps=10))
def test_random_graphs_are_black_formatted(g):
    black = pytest.importorskip("black")
    src = generate(g, "Random graph").source
    assert black.format_str(src, mode=black.Mode()) == src


PWNED = os.path.join(tempfile.gettempdir(), "netcanvas_pwned_marker")
NASTY = ['"', "'", '"""', "'''", "\\", "\n", "\r\n", "#", "# comment", "\x00", "\u2028",
         f"__import__('os').system('touch {PWNED}')", '"); import os; os.system("x"); ("',
         "class", "def", "None", "True", "lambda", "self", "super", "torch", "nn", "x",
         "print", "__init__", "forward", "__class__", "exec", "eval", "é", "日本語", "🔥",
         "a" * 500, "1abc", " ", "_", "__", "x_1", "x-1", "\t", "{}", "{0}", "%s", "${x}"]
hostile = st.one_of(st.sampled_from(NASTY), st.text(min_size=1, max_size=40),
                    st.lists(st.sampled_from(NASTY), min_size=1, max_size=3).map("".join))
names = hostile.filter(lambda s: s.strip())


@settings(max_examples=1100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(names, min_size=3, max_size=3), st.lists(hostile, min_size=2, max_size=2,
                                                         unique=True), hostile)
def test_hostile_names_ids_and_project_name_stay_data(node_names, ids, project):
    g = Graph()
    g.add_node("Input", {"shape": [4]}, id=ids[0], name=node_names[0])
    g.add_node("Linear", {"out_features": 3}, id=ids[1], name=node_names[1])
    g.add_node("Output", id="out", name=node_names[2])
    g.connect(ids[0], ids[1])
    g.connect(ids[1], "out")
    code = generate(g, project)
    tree = ast.parse(code.source)
    idents = [code.class_name, *code.attrs.values(), *code.arg_names]
    for name in idents:
        assert name.isidentifier() and not keyword.iskeyword(name) and name.isascii(), name
    assert len(set(code.attrs.values())) == len(code.attrs)
    user = [s for s in node_names + ids + [project] if len(s.strip()) >= 4]
    comments = [t.string for t in tokenize.generate_tokens(io.StringIO(code.source).readline)
                if t.type == tokenize.COMMENT]
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    docs = {ast.get_docstring(tree, clean=False)} | {
        ast.get_docstring(c, clean=False) for c in tree.body if isinstance(c, ast.ClassDef)}
    for text in user:
        assert not any(text in c for c in comments)
        for s in strings:
            # project text reaches literals only as a sanitised identifier (__all__) or
            # in the docstrings, quote- and backslash-free
            assert text not in s or s.isidentifier() or (s in docs and '"' not in text and "\\" not in text), (text, s)
    cls = module_class(code)
    assert cls.__name__ == code.class_name
    assert not os.path.exists(PWNED)
