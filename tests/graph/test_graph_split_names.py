"""The analysis, the training-section check and the block spec were split
into modules named for what they hold (sizes: tests/test_module_sizes.py);
every name their importers use is still importable from where it was.
"""

import importlib

import pytest

#: module → the names other modules, tests and tools import from it
PUBLIC = {
    "graph.analysis": ["STRICT", "SATURATING_LIMIT", "NodeResult", "Analyzer", "analyze",
                       "shape_json", "problem_counts"],
    "graph.training_check": ["KEYS", "GEOMETRIC_KEYS", "did_you_mean", "per_output",
                             "section_problems", "training_problems",
                             "training_problems_with_graph", "training_errors",
                             "first_error_text", "loss_type", "loss_input_problems",
                             "augment_problems", "augment_problem", "augment_inputs",
                             "augment_input_problems"],
    "graph.blocks.base": ["FLOAT", "INT", "TT", "Port", "KINDS", "MAX_INT", "Param", "ParamError",
                          "INITS", "CONV_INITS", "init_params", "INIT_SCALE_MEANS",
                          "init_scale_problem", "init_problem", "P", "Ctx", "Emit", "lit", "call",
                          "Src", "BlockSpec"],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))


def test_the_public_names_are_still_where_importers_find_them(module):
    mod = importlib.import_module(module)
    missing = [n for n in PUBLIC[module] if not hasattr(mod, n)]
    assert not missing, f"{module} lost {missing}"
    assert set(PUBLIC[module]) <= set(mod.__all__)
