"""Symbolic sizes: arithmetic, canonical forms, safe evaluation."""

import pytest

from graph import dims


def test_linear_forms_stay_readable():
    assert dims.add("T", -2) == "T-2"
    assert dims.add(dims.add("T", -2), -2) == "T-4"
    assert dims.mul("T", 16) == "16*T"
    assert dims.floordiv(dims.mul("T", 4), 2) == "2*T"
    assert dims.window_out("T", 3) == "T-2"
    assert dims.window_out("T", 3, pad_total=2) == "T"


@pytest.mark.parametrize("size,k,s,p,d", [(8, 3, 1, 2, 1), (9, 2, 2, 0, 1), (17, 3, 2, 2, 2), (5, 5, 1, 0, 1)])
def test_window_out_matches_formula_for_symbolic_sizes(size, k, s, p, d):
    concrete = dims.window_out(size, k, s, p, d)
    symbolic = dims.window_out("T", k, s, p, d)
    assert dims.evaluate(symbolic, {"T": size}) == concrete


def test_evaluate_refuses_anything_but_arithmetic():
    with pytest.raises(ValueError):
        dims.evaluate("__import__('os')", {})
    with pytest.raises(KeyError):
        dims.evaluate("T+1")
    assert dims.evaluate("T+1", default=3) == 4


def test_format_shape():
    assert dims.format_shape(("N", 16, 8, 8)) == "N×16×8×8"
    assert dims.format_shape(("N", "T-2", 4)) == "N×(T-2)×4"
    assert dims.format_shape(("N", "T", 4)) == "N×T×4"


def test_nominal_counts_symbolic_sizes_for_estimates():
    assert dims.numel(("N", "T", 4)) == dims.NOMINAL * 4


def test_window_out_in_ceil_mode_has_an_exact_formula_for_symbolic_sizes():
    """Found by the random-graph fuzz: ceil mode over a variable length had no
    formula when the last window may start in the right padding (PyTorch then
    drops it).  The symbolic result equals the concrete one at every length
    that gives an output."""
    assert dims.window_out("T", 2, 3, 2, ceil_mode=True) == "(T//3)+1"
    assert dims.window_out("T", 3, 2, 0, ceil_mode=True) == "((T-2)//2)+1"  # plain ceiling
    checked = 0
    for k in range(1, 6):
        for d in range(1, 4):
            for s in range(1, 7):
                for pad in range(k // 2 + 1):
                    symbolic = dims.window_out("T", k, s, 2 * pad, d, ceil_mode=True)
                    for size in range(1, 40):
                        concrete = dims.window_out(size, k, s, 2 * pad, d, ceil_mode=True)
                        if concrete >= 1:
                            assert dims.evaluate(symbolic, {"T": size}) == concrete, \
                                (k, d, s, pad, size, symbolic)
                            checked += 1
    assert checked > 5_000
