"""Totals with units (graph.humanize): what the status bar, the summaries and the
memory messages print."""

import pytest

from graph import analyze, humanize
from support import chain


@pytest.mark.parametrize("n,text", [(0, "0"), (288, "288"), (999, "999"), (1_370, "1.4 k"),
                                    (37_770, "37.8 k"), (999_960, "1.0 M"),
                                    (298_000_001_024, "298.0 G"),
                                    (1_099_512_676_352, "1.1 T")])
def test_counts_get_an_si_prefix_and_one_decimal(n, text):
    assert humanize.count(n) == text


@pytest.mark.parametrize("n,text", [(512, "512 FLOPs"), (4_940_000_000_000, "4.9 TFLOPs"),
                                    (12_345_678, "12.3 MFLOPs")])
def test_flops(n, text):
    assert humanize.flops(n) == text


@pytest.mark.parametrize("n,text", [(0, "0 B"), (1_036, "1.0 kB"), (1_192_000_004_096, "1.2 TB"),
                                    (4_398_050_705_408, "4.4 TB"), (2**30, "1.1 GB")])
def test_sizes_are_decimal(n, text):
    assert humanize.size(n) == text


def test_a_huge_network_reads_in_units_not_thousands_of_megabytes():
    # the numbers of a Conv2d with 999,999,999 output channels: the status bar showed
    # "FLOPs/sample: 4.94e+03G   Size: 1220000.00 MB"
    t = {"params": 305_000_000_000, "flops": 4_940_000_000_000, "size_bytes": 1_220_000_000_000}
    assert humanize.status_totals(t) == "Parameters: 305.0 G   FLOPs/sample: 4.9 TFLOPs   " \
                                        "Size: 1.2 TB"
    assert humanize.summary_totals(t) == ["total parameters:  305,000,000,000 (305.0 G)",
                                          "FLOPs per sample:  4.9 TFLOPs",
                                          "model size:        1.2 TB (float32)"]


def test_totals_of_a_real_graph():
    g = chain(("Linear", {"out_features": 32}), input_shape=(8,))
    t = analyze(g).totals()
    assert humanize.summary_totals(t)[0] == "total parameters:  288"
    assert humanize.status_totals(t) == "Parameters: 288   FLOPs/sample: 512 FLOPs   Size: 1.2 kB"
