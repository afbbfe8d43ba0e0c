"""The import tests' shared check: an imported model computes what the original does."""

from __future__ import annotations

import torch

from codegen import generate
from codegen.compile import module_class
from codegen.fx_import import import_model
from codegen.import_units import matching_state


def round_trip(model, shapes, dtypes=None, batch=2):
    """Import, re-generate, load the original's weights into the re-export and
    compare outputs; returns the imported graph."""
    g = import_model(model, input_shapes=shapes, input_dtypes=dtypes)
    again = module_class(generate(g, type(model).__name__))()
    # the original's weights: same keys, or nn.Sequential children named
    # features_0 for features.0 (see test_resnet18_state_dict_keys_are_the_originals)
    again.load_state_dict(matching_state(again, model))
    model.eval(), again.eval()
    torch.manual_seed(1)
    args = [torch.randint(0, 10, (batch, *s)) if d == "int64" else torch.randn(batch, *s)
            for s, d in zip(shapes, dtypes or ["float32"] * len(shapes))]
    with torch.no_grad():
        want, got = model(*args), again(*args)
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    assert len(want) == len(got)
    for w, o in zip(want, got):
        assert w.shape == o.shape
        assert torch.allclose(o, w, rtol=1e-5, atol=1e-6), (o - w).abs().max()
    return g
