"""A model whose weights alone exceed the machine's memory is said on its
largest node (validation), and the code generator refuses to build it."""

import pytest

from graph import Analyzer, analyze
from graph.checks import machine_memory
from graph.problems import WARNING, Code
from support import chain

HUGE = 2**20  # a 2²⁰×2²⁰ Linear: 1.1 T parameters, 4.4 TB of float32 weights


def huge_linear():
    return chain(("Linear", {"out_features": HUGE}), input_shape=(HUGE,))


def too_large(an):
    return [p for p in an.problems() if p.code == Code.TOO_LARGE]


def test_weights_beyond_the_machines_memory_warn_on_the_layer():
    assert machine_memory() and machine_memory() < 4 * HUGE * HUGE
    g = huge_linear()
    an = analyze(g)
    (p,) = too_large(an)
    assert p.severity == WARNING and p.node == "l1"
    assert p.message.startswith(f"{g.nodes['l1'].label()}: its 1.1 T parameters need 4.4 TB "
                                "for the weights alone, more than this machine's memory (")
    assert p.message.endswith("it cannot be built, exported with weights or trained here — "
                              "make it smaller")
    assert an.valid()  # a warning: the graph itself is fine


def test_a_model_whose_layers_add_up_past_the_memory_names_its_largest_layer():
    g = chain(("Linear", {"out_features": 300}), ("Linear", {"out_features": 200}),
              input_shape=(1000,))  # 300,300 + 60,200 parameters: 1.4 MB
    (p,) = too_large(Analyzer(g, memory=1_300_000).refresh())
    assert p.node == "l1"
    assert p.message.startswith("the model's 360.5 k parameters need 1.4 MB for the weights "
                                "alone, more than this machine's memory (1.3 MB); the largest "
                                f"layer is {g.nodes['l1'].label()} (300.3 k parameters)")
    assert too_large(Analyzer(g, memory=2_000_000).refresh()) == []
    assert too_large(Analyzer(g, memory=None).refresh()) == []  # unknown: nothing said


def test_the_warning_follows_a_parameter_edit():
    g = chain(("Linear", {"out_features": 10}), input_shape=(HUGE,))
    an = Analyzer(g).refresh()
    assert too_large(an) == []
    g.set_param("l1", "out_features", HUGE)
    assert [p.node for p in too_large(an)] == ["l1"]
    g.set_param("l1", "out_features", 10)
    assert too_large(an) == []


def test_building_refuses_instead_of_allocating():
    pytest.importorskip("torch")
    from codegen import CodegenError, build_model

    with pytest.raises(CodegenError) as err:
        build_model(huge_linear())
    assert str(err.value).startswith("the model cannot be built here: its 1.1 T parameters "
                                     "need 4.4 TB for the weights alone, more than this "
                                     "machine's memory (")
