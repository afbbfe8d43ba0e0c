"""Import is exact or refused (issue 12): every constructor argument of every
catalogue block backed by a torch module, the represented arguments, matching
by identity, the numeric check and the messages."""

import inspect

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from codegen import generate
from codegen.compile import module_class
from codegen.fx_import import ModelImportError, import_model
from graph import analyze, blocks
from graph.blocks.module_import import MISSING, attribute, constructor_arguments


class Wrap(nn.Module):
    """A user's model around one layer, called the way ``call`` says."""

    def __init__(self, layer, call):
        super().__init__()
        self.layer = layer
        self.call = call

    def forward(self, x):
        return self.call(self.layer, x)


def _seq(m, x):
    return m(x)[0]


# block type → (positional constructor arguments, sample input shape, dtype, call)
BASE = {
    "Linear": ((6, 4), (6,), "float32", None),
    "Bilinear": ((6, 6, 3), (6,), "float32", lambda m, x: m(x, x)),
    "Identity": ((), (6,), "float32", None),
    "Conv1d": ((2, 4, 3), (2, 9), "float32", None),
    "Conv2d": ((2, 4, 3), (2, 9, 9), "float32", None),
    "Conv3d": ((2, 4, 3), (2, 7, 7, 7), "float32", None),
    "ConvTranspose1d": ((2, 4, 3), (2, 9), "float32", None),
    "ConvTranspose2d": ((2, 4, 3), (2, 9, 9), "float32", None),
    "MaxPool1d": ((2,), (2, 9), "float32", None),
    "MaxPool2d": ((2,), (2, 9, 9), "float32", None),
    "MaxPool3d": ((2,), (2, 7, 7, 7), "float32", None),
    "AvgPool1d": ((2,), (2, 9), "float32", None),
    "AvgPool2d": ((2,), (2, 9, 9), "float32", None),
    "AvgPool3d": ((2,), (2, 7, 7, 7), "float32", None),
    "AdaptiveAvgPool1d": ((3,), (2, 9), "float32", None),
    "AdaptiveAvgPool2d": ((3,), (2, 9, 9), "float32", None),
    "AdaptiveMaxPool1d": ((3,), (2, 9), "float32", None),
    "AdaptiveMaxPool2d": ((3,), (2, 9, 9), "float32", None),
    "BatchNorm1d": ((4,), (4, 5), "float32", None),
    "BatchNorm2d": ((4,), (4, 5, 5), "float32", None),
    "BatchNorm3d": ((4,), (4, 3, 3, 3), "float32", None),
    "InstanceNorm1d": ((4,), (4, 5), "float32", None),
    "InstanceNorm2d": ((4,), (4, 5, 5), "float32", None),
    "LayerNorm": ((8,), (3, 8), "float32", None),
    "RMSNorm": ((8,), (3, 8), "float32", None),
    "GroupNorm": ((2, 4), (4, 5), "float32", None),
    "LocalResponseNorm": ((2,), (4, 5, 5), "float32", None),
    "RNN": ((8, 6), (5, 8), "float32", _seq),
    "LSTM": ((8, 6), (5, 8), "float32", _seq),
    "GRU": ((8, 6), (5, 8), "float32", _seq),
    "Embedding": ((20, 8), (5,), "int64", None),
    "MultiheadAttention": ((8, 2), (5, 8), "float32", lambda m, x: m(x, x, x)[0]),
    "TransformerEncoderLayer": ((8, 2), (5, 8), "float32", None),
    "TransformerDecoderLayer": ((8, 2), (5, 8), "float32", lambda m, x: m(x, x)),
    "TransformerEncoder": ((None, 2), (5, 8), "float32", None),  # the layer made per test
    "Flatten": ((), (2, 3, 4), "float32", None),
    "Dropout2d": ((), (4, 5, 5), "float32", None),
    "Softmax": ((), (5,), "float32", None),
    "LogSoftmax": ((), (5,), "float32", None),
    "PReLU": ((), (4, 5), "float32", None),
}
KWARGS = {"Softmax": {"dim": -1}, "LogSoftmax": {"dim": -1},
          "TransformerEncoderLayer": {"dim_feedforward": 16, "dropout": 0.0},
          "TransformerDecoderLayer": {"dim_feedforward": 16, "dropout": 0.0}}

# arguments whose non-default values cannot be derived from the default
SPECIAL = {
    "padding_idx": [0, 3], "max_norm": [0.5], "kdim": [8], "vdim": [8],
    "divisor_override": [3], "momentum": [None, 0.3], "dtype": [torch.float64],
    "padding_mode": ["reflect", "circular", "replicate"], "padding": [1, "same"],
    "nonlinearity": ["relu"], "activation": ["gelu", F.gelu, nn.GELU(), nn.GELU("tanh"),
                                             nn.SiLU()],
    "output_padding": [1], "dim": [1, None], "start_dim": [2], "end_dim": [2],
    "eps": [1e-3], "proj_size": [3], "groups": [2], "size": [3],
    "num_parameters": [4], "init": [0.5], "output_size": [(2, 3)],
    "min_val": [-2.0], "max_val": [2.0], "min_value": [-2.0], "max_value": [2.0],
    "_freeze": [True], "approximate": ["tanh"],
    "norm": [nn.LayerNorm(8), nn.LayerNorm(8, eps=1e-6), nn.RMSNorm(8)], "stride": [1, 3], "dilation": [2], "kernel_size": [2],
}
NOT_TRIED = {"device", "_weight"}
#: settings that cannot change a result here, so the rebuilt layer may store
#: them otherwise: dropout between stacked layers of a one-layer RNN, and the
#: padding-mask check of a stack that is never given a mask
NO_EFFECT = {"RNN": ("dropout",), "LSTM": ("dropout",), "GRU": ("dropout",),
             "TransformerEncoder": ("mask_check",)}  # where the weights live; the first weight (loaded anyway)


def _torch_blocks():
    return sorted(s.type for s in blocks.all_specs() if s.role == "layer"
                  and isinstance(getattr(nn, s.type, None), type))


def _values(arg: inspect.Parameter) -> list:
    if arg.name in SPECIAL:
        return [v for v in SPECIAL[arg.name] if not _is(v, arg.default)]
    d = arg.default
    if isinstance(d, bool):
        return [not d]
    if isinstance(d, int):
        return [d + 2]
    if isinstance(d, float):
        return [round(d * 0.5 + 0.05, 6)]
    return [_NO_VALUE]


_NO_VALUE = "<no test value: add the argument to SPECIAL>"


def _is(a, b) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


def _cases():
    for kind in _torch_blocks():
        yield pytest.param(kind, None, None, id=f"{kind}-defaults")
        for arg in constructor_arguments(getattr(nn, kind)):
            if arg.default is inspect.Parameter.empty or arg.name in NOT_TRIED:
                continue
            for value in _values(arg):
                yield pytest.param(kind, arg.name, value, id=f"{kind}-{arg.name}={value!r}")


#: blocks with nothing to give: no required argument, any float input N×4×5
PLAIN = ((), (4, 5), "float32", None)


def test_every_torch_backed_block_has_a_row():
    needs = {k for k in _torch_blocks()
             if any(a.default is inspect.Parameter.empty
                    for a in constructor_arguments(getattr(nn, k)))}
    assert needs <= set(BASE), needs - set(BASE)


def _build(kind, arg, value):
    args, shape, dtype, call = BASE.get(kind, PLAIN)
    kwargs = dict(KWARGS.get(kind, {}))
    if arg is not None:
        kwargs[arg] = value
    cls = getattr(nn, kind)
    if kind == "TransformerEncoder":
        args = (nn.TransformerEncoderLayer(8, 2, 16, 0.0),) + args[1:]
    return cls(*args, **kwargs), shape, dtype, call or (lambda m, x: m(x))


def _sample(shape, dtype):
    torch.manual_seed(3)
    if dtype == "int64":
        return torch.randint(0, 20, (2,) + shape)
    return torch.randn((2,) + shape)


@pytest.mark.parametrize("kind, arg, value", list(_cases()))
def test_each_constructor_argument_is_imported_exactly_or_refused_by_name(kind, arg, value):
    assert value is not _NO_VALUE, f"{kind}({arg}=...): {_NO_VALUE}"
    torch.manual_seed(0)
    try:
        layer, shape, dtype, call = _build(kind, arg, value)
    except Exception:  # noqa: BLE001  (torch refuses the combination: nothing to import)
        pytest.skip("torch itself refuses this value")
    original = Wrap(layer, call).eval()
    x = _sample(shape, dtype)
    floats = {p.dtype for p in layer.parameters()}
    if x.is_floating_point() and floats and torch.float32 not in floats:
        x = x.to(floats.pop())  # the model's own type: the refusal must name dtype
    try:
        with torch.no_grad():
            want = original(x.clone())  # a copy: an in-place layer overwrites it
    except Exception:  # noqa: BLE001
        pytest.skip("torch cannot run this layer on the sample")
    try:
        g = import_model(original, input_shapes=[shape], input_dtypes=[dtype])
    except ModelImportError as exc:
        # the plain layer imports; a setting may be refused, naming path and argument
        assert arg is not None and arg in str(exc) and "layer" in str(exc), str(exc)
        return
    # imported: the same numbers and the same stored settings as the original
    rebuilt = module_class(generate(g))().eval()
    if not hasattr(rebuilt, "layer"):  # written as an operation of forward (x.flatten(2))
        assert not layer.state_dict()
        rebuilt.layer = nn.Identity()
    else:
        rebuilt.layer.load_state_dict(layer.state_dict())
    with torch.no_grad():
        got = rebuilt(x.clone())
    got = got[0] if isinstance(got, tuple) else got
    assert got.shape == want.shape
    assert torch.allclose(got.double(), want.double(), rtol=1e-5, atol=1e-6)
    if isinstance(rebuilt.layer, nn.Identity) or arg is None:
        return
    stored, back = attribute(layer, arg), attribute(rebuilt.layer, arg)
    if arg not in NO_EFFECT.get(kind, ()) + ("inplace",) and stored is not MISSING and back is not MISSING and not callable(stored):
        assert repr(back) == repr(stored) or back == stored, (arg, stored, back)
    assert {k: v.shape for k, v in rebuilt.layer.state_dict().items()} == \
        {k: v.shape for k, v in layer.state_dict().items()}


# ------------------------------------------------------------ represented arguments
def _round_trip(model, shape, dtype="float32"):
    g = import_model(model, input_shapes=[shape], input_dtypes=[dtype])
    assert analyze(g).valid()
    return g, g.nodes[next(i for i, n in g.nodes.items() if n.name == "layer")]


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_sequence_first_recurrent_layers_stay_sequence_first(kind):
    model = Wrap(getattr(nn, kind)(8, 16), _seq)  # PyTorch's default: batch_first=False
    g, node = _round_trip(model, (5, 8))
    assert node.params["batch_first"] is False
    assert "batch_first=False" in generate(g).source


def test_lstm_projection_is_kept():
    g, node = _round_trip(Wrap(nn.LSTM(8, 16, batch_first=True, proj_size=4), _seq), (5, 8))
    assert node.params["proj_size"] == 4
    an = analyze(g)
    out = next(n.id for n in g.nodes.values() if n.type == "Output")
    assert an.output_type(out).shape == ("N", 5, 4)
    assert an.totals()["params"] == sum(p.numel() for p in nn.LSTM(8, 16, proj_size=4)
                                        .parameters())


def test_a_projection_as_large_as_the_hidden_state_is_explained():
    g, node = _round_trip(Wrap(nn.LSTM(8, 16, batch_first=True, proj_size=4), _seq), (5, 8))
    g.set_param(node.id, "proj_size", 16)
    problems = analyze(g).errors()
    assert any("proj_size=16 must be below hidden_size=16" in p.message for p in problems)


def test_embedding_arguments_are_kept():
    emb = nn.Embedding(50, 8, padding_idx=1, max_norm=1.0, norm_type=1.5,
                       scale_grad_by_freq=True)
    g, node = _round_trip(Wrap(emb, lambda m, x: m(x)), (5,), "int64")
    assert node.params == {"num_embeddings": 50, "embedding_dim": 8, "padding_idx": 1,
                           "max_norm": 1.0, "norm_type": 1.5, "scale_grad_by_freq": True}
    assert "nn.Embedding(50,8,padding_idx=1,max_norm=1.0,norm_type=1.5," \
           "scale_grad_by_freq=True)" in "".join(generate(g).source.split())


def test_sparse_embedding_is_refused_by_name():
    with pytest.raises(ModelImportError, match=r"layer: Embedding\(sparse=True\) is not supported"):
        import_model(Wrap(nn.Embedding(50, 8, sparse=True), lambda m, x: m(x)),
                     input_shapes=[(5,)], input_dtypes=["int64"])


def test_sequence_first_attention_and_transformer_encoder_with_final_norm():
    layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.0)
    encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(16), enable_nested_tensor=False)
    g, node = _round_trip(Wrap(encoder, lambda m, x: m(x)), (5, 16))
    assert node.type == "TransformerEncoder"
    assert node.params["norm"] is True and node.params["batch_first"] is False
    assert analyze(g).totals()["params"] == sum(p.numel() for p in encoder.parameters())
    g, node = _round_trip(Wrap(nn.MultiheadAttention(16, 4), lambda m, x: m(x, x, x)[0]),
                          (5, 16))
    assert node.params["batch_first"] is False


def test_a_final_norm_other_than_the_layers_layer_norm_is_refused_by_name():
    layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True)
    encoder = nn.TransformerEncoder(layer, 2, norm=nn.RMSNorm(16), enable_nested_tensor=False)
    with pytest.raises(ModelImportError) as info:
        import_model(Wrap(encoder, lambda m, x: m(x)), input_shapes=[(5, 16)])
    assert "layer: TransformerEncoder(norm=RMSNorm) is not supported" in str(info.value)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True)
        self.body = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(16, eps=1e-6),
                                          enable_nested_tensor=False)

    def forward(self, x):
        return self.body(x)


def test_refusal_names_the_module_path_argument_and_value():
    with pytest.raises(ModelImportError) as info:
        import_model(Encoder(), input_shapes=[(5, 16)])
    assert "body: TransformerEncoder(norm=LayerNorm) is not supported" in str(info.value)


# ------------------------------------------------------------ identity, not names
class PositionalEncoding(nn.Module):
    """A user's own class that happens to share a catalogue block's name."""

    def __init__(self, d_model=8, max_len=16):
        super().__init__()
        self.register_buffer("pe", torch.randn(1, max_len, d_model) * 3)
        self.dropout = nn.Dropout(0.0)

    def forward(self, x):
        return self.dropout(x + self.pe[:, : x.size(1)])


class UsesOwnPE(nn.Module):
    def __init__(self):
        super().__init__()
        self.pos = PositionalEncoding()
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.pos(x))


def test_a_user_class_named_like_a_block_is_not_replaced_by_it():
    try:
        g = import_model(UsesOwnPE(), input_shapes=[(5, 8)])
    except ModelImportError:
        return  # refused is honest too (its buffer has no block); silently different is not
    assert "PositionalEncoding" not in [n.type for n in g.nodes.values()]


def test_netcanvas_helper_classes_come_back_by_their_marker():
    from support import chain

    g = chain(("PositionalEncoding", {"max_len": 16, "kind": "learned"}),
              ("Linear", {"out_features": 2}), input_shape=(5, 8))
    code = generate(g)
    assert '__netcanvas_block__ = "PositionalEncoding"' in code.source
    back = import_model(module_class(code)(), input_shapes=[(5, 8)])
    assert [n.type for n in back.nodes.values()] == [n.type for n in g.nodes.values()]
    assert back.nodes[[i for i, n in back.nodes.items() if n.type == "PositionalEncoding"][0]] \
        .params == {"max_len": 16, "kind": "learned"}


# ------------------------------------------------------------ the numeric check
def test_an_import_that_computes_something_else_is_refused_with_the_difference(monkeypatch):
    from codegen import fx_import

    real = fx_import._Builder.build

    def wrong(self):
        g = real(self)
        node = next(n for n in g.nodes.values() if n.type == "Linear")
        g.set_param(node.id, "bias", False)  # a silently different model
        return g

    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh())
    monkeypatch.setattr(fx_import._Builder, "build", wrong)
    with pytest.raises(ModelImportError, match="weights of 0 do not fit"):
        import_model(model, input_shapes=[(4,)])

    def scaled(self):
        g = real(self)
        node = next(n for n in g.nodes.values() if n.type == "LeakyReLU")
        g.set_param(node.id, "negative_slope", 0.2)
        return g

    model = nn.Sequential(nn.Linear(4, 3), nn.LeakyReLU(0.1))
    monkeypatch.setattr(fx_import._Builder, "build", scaled)
    with pytest.raises(ModelImportError) as info:
        import_model(model, input_shapes=[(4,)])
    msg = str(info.value)
    assert "computes something else" in msg and "differs by" in msg and "relative" in msg


# ------------------------------------------------------------ messages
class Tanhy(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2)
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        x = self.up(x)
        x = F.gelu(x, approximate="tanh")
        x = torch.relu(x) + x * 2
        return self.fc(x.flatten(1)).sum(dim=1, keepdim=True)


def test_a_refusal_lists_each_cause_once_with_its_source_line_and_no_knock_ons():
    with pytest.raises(ModelImportError) as info:
        import_model(Tanhy(), input_shapes=[(1, 2, 2)])
    lines = str(info.value).splitlines()
    assert lines[0].startswith("Tanhy cannot be imported exactly (2 unsupported operations")
    first, second = lines[1].strip(), lines[2].strip()
    assert first.startswith("test_import_exact.py:") and "x = self.up(x)" in first
    assert first.endswith("module up (Upsample) has no block")
    # the sum comes after the failure and is itself unsupported: listed; the
    # gelu, relu, add, fc that only consume the failed value are not
    assert "sum" in second and ".sum(dim=1, keepdim=True)" in second
    assert len(lines) == 3, lines


# ------------------------------------------------------------ NetCanvas's own helper classes
HELPER_ROWS = {  # block → (non-default parameters, sample shape, dtype)
    "PositionalEncoding": ({"kind": "learned", "max_len": 9, "dropout": 0.1}, (5, 8)),
    "AdditiveAttention": ({"hidden_size": 7, "bias": False}, None),
    "DepthwiseSeparableConv2d": ({"out_channels": 5, "kernel_size": 5, "stride": 2,
                                  "padding": 1, "dilation": 2, "bias": False}, (2, 13, 13)),
    "ISRU": ({"alpha": 0.5}, (4,)), "ISRLU": ({"alpha": 0.5}, (4,)),
    "GaussianNoise": ({"std": 0.3}, (4,)),
}


def _helper_blocks():
    return sorted(s.type for s in blocks.all_specs()
                  if s.type in blocks.HELPERS and "class " + s.type in blocks.HELPERS[s.type][0])


@pytest.mark.parametrize("kind", _helper_blocks())
def test_netcanvas_helper_classes_import_back_with_their_parameters(kind):
    from graph import Graph

    params, shape = HELPER_ROWS.get(kind, ({}, (4,)))
    g = Graph()
    if kind == "AdditiveAttention":
        q = g.add_node("Input", {"shape": [6]}).id
        k = g.add_node("Input", {"shape": [5, 4]}).id
        b = g.add_node(kind, params, name="layer").id
        g.connect(q, b, target_port="query")
        g.connect(k, b, target_port="keys")
        shapes = [(6,), (5, 4)]
    else:
        x = g.add_node("Input", {"shape": list(shape)}).id
        b = g.add_node(kind, params, name="layer").id
        g.connect(x, b)
        shapes = [shape]
    g.connect(b, g.add_node("Output", {}).id)
    code = generate(g)
    assert f'__netcanvas_block__ = "{kind}"' in code.source
    back = import_model(module_class(code)(), input_shapes=shapes)
    node = next(n for n in back.nodes.values() if n.name == "layer")
    assert (node.type, node.params) == (kind, params)
