"""Functional forms and tensor methods import as the blocks of their module forms.

Each case is a model written in the functional style; it must import onto
the listed blocks, and the code generated from the import, given the
original's weights, must compute the same outputs.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from codegen import generate
from codegen.compile import module_class
from codegen.fx_import import ModelImportError, import_model


class Fn(nn.Module):
    """A model whose forward is ``fn(self, x)``, with optional layers."""

    def __init__(self, fn, **layers):
        super().__init__()
        self.fn = fn
        for name, layer in layers.items():
            setattr(self, name, layer)

    def forward(self, x):
        return self.fn(self, x)


def round_trip(model, shape, dtype="float32"):
    """Import ``model``, rebuild it from the generated code with its weights,
    and assert both compute the same; returns the imported graph."""
    g = import_model(model, input_shapes=[shape], input_dtypes=[dtype])
    again = module_class(generate(g))()
    again.load_state_dict(model.state_dict())
    model.eval(), again.eval()
    torch.manual_seed(0)
    x = torch.randn(3, *shape) if dtype == "float32" else torch.randint(0, 10, (3, *shape))
    with torch.no_grad():
        want, got = model(x), again(x)
    assert got.shape == want.shape
    assert torch.allclose(got, want, rtol=1e-5, atol=1e-6), (got - want).abs().max()
    return g


def layer_types(g):
    return [n.type for n in g.nodes.values() if n.type not in ("Input", "Output")]


CASES = [
    # activations: F.<name>, torch.<name>, x.<name>()
    ("F.relu", lambda m, x: F.relu(x), (6,), ["ReLU"], {}),
    ("torch.relu", lambda m, x: torch.relu(x), (6,), ["ReLU"], {}),
    ("x.relu()", lambda m, x: x.relu(), (6,), ["ReLU"], {}),
    ("F.relu inplace", lambda m, x: F.relu(x, inplace=True), (6,), ["ReLU"], {}),
    ("F.leaky_relu", lambda m, x: F.leaky_relu(x, 0.2), (6,), ["LeakyReLU"],
     {"negative_slope": 0.2}),
    ("F.elu", lambda m, x: F.elu(x, alpha=0.5), (6,), ["ELU"], {"alpha": 0.5}),
    ("F.selu", lambda m, x: F.selu(x), (6,), ["SELU"], {}),
    ("F.celu", lambda m, x: F.celu(x, 2.0), (6,), ["CELU"], {"alpha": 2.0}),
    ("F.gelu", lambda m, x: F.gelu(x), (6,), ["GELU"], {}),
    ("F.gelu tanh", lambda m, x: F.gelu(x, approximate="tanh"), (6,), ["GELU"],
     {"approximate": "tanh"}),
    ("F.silu", lambda m, x: F.silu(x), (6,), ["SiLU"], {}),
    ("F.mish", lambda m, x: F.mish(x), (6,), ["Mish"], {}),
    ("torch.sigmoid", lambda m, x: torch.sigmoid(x), (6,), ["Sigmoid"], {}),
    ("x.sigmoid()", lambda m, x: x.sigmoid(), (6,), ["Sigmoid"], {}),
    ("F.sigmoid", lambda m, x: F.sigmoid(x), (6,), ["Sigmoid"], {}),
    ("torch.tanh", lambda m, x: torch.tanh(x), (6,), ["Tanh"], {}),
    ("x.tanh()", lambda m, x: x.tanh(), (6,), ["Tanh"], {}),
    ("F.hardtanh", lambda m, x: F.hardtanh(x, -0.5, 0.5), (6,), ["Hardtanh"],
     {"min_val": -0.5, "max_val": 0.5}),
    ("F.relu6", lambda m, x: F.relu6(x * 4), (6,), ["Scale", "ReLU6"], None),
    ("F.softplus", lambda m, x: F.softplus(x, beta=2), (6,), ["Softplus"], {"beta": 2.0}),
    ("F.softsign", lambda m, x: F.softsign(x), (6,), ["Softsign"], {}),
    ("F.softmax", lambda m, x: F.softmax(x, dim=1), (6,), ["Softmax"], {"dim": 1}),
    ("torch.softmax", lambda m, x: torch.softmax(x, -1), (6,), ["Softmax"], {}),
    ("x.softmax", lambda m, x: x.softmax(dim=-1), (2, 6), ["Softmax"], {}),
    ("F.log_softmax", lambda m, x: F.log_softmax(x, dim=-1), (6,), ["LogSoftmax"], {}),
    ("x.log_softmax", lambda m, x: x.log_softmax(1), (6,), ["LogSoftmax"], {"dim": 1}),
    ("torch.abs", lambda m, x: torch.abs(x), (6,), ["AbsoluteReLU"], {}),
    ("torch.atan", lambda m, x: x.atan(), (6,), ["ArcTan"], {}),
    # pooling
    ("F.max_pool1d", lambda m, x: F.max_pool1d(x, 2), (2, 8), ["MaxPool1d"], {}),
    ("F.max_pool2d", lambda m, x: F.max_pool2d(x, 2), (2, 8, 8), ["MaxPool2d"], {}),
    ("F.max_pool2d stride", lambda m, x: F.max_pool2d(x, 3, stride=2, padding=1), (2, 8, 8),
     ["MaxPool2d"], {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("F.max_pool2d tuple", lambda m, x: F.max_pool2d(x, (2, 2)), (2, 8, 8), ["MaxPool2d"], {}),
    ("F.max_pool3d", lambda m, x: F.max_pool3d(x, 2), (1, 4, 4, 4), ["MaxPool3d"], {}),
    ("F.avg_pool1d", lambda m, x: F.avg_pool1d(x, 2), (2, 8), ["AvgPool1d"], {}),
    ("F.avg_pool2d", lambda m, x: F.avg_pool2d(x, 4), (2, 8, 8), ["AvgPool2d"],
     {"kernel_size": 4}),
    ("F.avg_pool2d ceil", lambda m, x: F.avg_pool2d(x, 3, 2, ceil_mode=True), (2, 8, 8),
     ["AvgPool2d"], {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
    ("F.avg_pool3d", lambda m, x: F.avg_pool3d(x, 2), (1, 4, 4, 4), ["AvgPool3d"], {}),
    ("F.adaptive_avg_pool1d", lambda m, x: F.adaptive_avg_pool1d(x, 2), (2, 8),
     ["AdaptiveAvgPool1d"], {"output_size": 2}),
    ("F.adaptive_avg_pool2d", lambda m, x: F.adaptive_avg_pool2d(x, (1, 1)), (2, 8, 8),
     ["AdaptiveAvgPool2d"], {}),
    ("F.adaptive_max_pool1d", lambda m, x: F.adaptive_max_pool1d(x, 3), (2, 8),
     ["AdaptiveMaxPool1d"], {"output_size": 3}),
    ("F.adaptive_max_pool2d", lambda m, x: F.adaptive_max_pool2d(x, 2), (2, 8, 8),
     ["AdaptiveMaxPool2d"], {"output_size": 2}),
    # regularisation and normalisation
    ("F.dropout", lambda m, x: F.dropout(x, 0.3, training=m.training), (6,), ["Dropout"],
     {"p": 0.3}),
    ("F.dropout2d", lambda m, x: F.dropout2d(x, training=m.training), (2, 4, 4),
     ["Dropout2d"], {}),
    ("F.dropout1d", lambda m, x: F.dropout1d(x, 0.1, m.training), (2, 4), ["Dropout1d"],
     {"p": 0.1}),
    ("F.alpha_dropout", lambda m, x: F.alpha_dropout(x, 0.2, m.training), (6,),
     ["AlphaDropout"], {"p": 0.2}),
    ("F.layer_norm", lambda m, x: F.layer_norm(x, (4,)), (3, 4), ["LayerNorm"],
     {"elementwise_affine": False}),
    ("F.layer_norm 2 dims", lambda m, x: F.layer_norm(x, [3, 4], eps=1e-3), (3, 4),
     ["LayerNorm"], {"normalized_dims": 2, "eps": 1e-3, "elementwise_affine": False}),
    # rearranging
    ("torch.flatten", lambda m, x: torch.flatten(x, 1), (2, 3, 3), ["Flatten"], {}),
    ("x.flatten", lambda m, x: x.flatten(1), (2, 3, 3), ["Flatten"], {}),
    ("x.view(x.size(0), -1)", lambda m, x: x.view(x.size(0), -1), (2, 3, 3), ["Reshape"],
     {}),
    ("x.view(-1, n)", lambda m, x: x.view(-1, 18), (2, 3, 3), ["Reshape"], {"shape": [18]}),
    ("x.reshape(N, 3, 6)", lambda m, x: x.reshape(x.shape[0], 3, 6), (2, 3, 3), ["Reshape"],
     {"shape": [3, 6]}),
    ("x.squeeze(1)", lambda m, x: x.squeeze(1), (1, 6), ["Reshape"], {"shape": [6]}),
    ("x.squeeze()", lambda m, x: x.squeeze(), (1, 6, 1), ["Reshape"], {"shape": [6]}),
    ("x.unsqueeze(1)", lambda m, x: x.unsqueeze(1), (6,), ["Reshape"], {"shape": [1, 6]}),
    ("x.unsqueeze(-1)", lambda m, x: x.unsqueeze(-1), (2, 3), ["Reshape"],
     {"shape": [2, 3, 1]}),
    ("x.permute", lambda m, x: x.permute(0, 2, 1), (2, 3), ["Permute"], {}),
    ("x.transpose(1, 2)", lambda m, x: x.transpose(1, 2), (2, 3), ["Permute"], {}),
    ("x.transpose(-1, -3)", lambda m, x: x.transpose(-1, -3), (2, 3, 4), ["Permute"],
     {"dims": [0, 3, 2, 1]}),
    ("x.mean(dim)", lambda m, x: x.mean(dim=1), (2, 3), ["Mean"], {}),
    ("x.mean(-1)", lambda m, x: x.mean(-1), (2, 3), ["Mean"], {"dim": -1}),
    ("torch.cat", lambda m, x: torch.cat([x, x.tanh()], dim=1), (4,), ["Tanh", "Concat"], {}),
    # arithmetic
    ("x + f(x)", lambda m, x: x + x.relu(), (4,), ["ReLU", "Add"], {}),
    ("x * f(x)", lambda m, x: x * x.sigmoid(), (4,), ["Sigmoid", "Multiply"], {}),
    ("x * c", lambda m, x: x * math.sqrt(8), (4,), ["Scale"], {"value": math.sqrt(8)}),
    ("c * x", lambda m, x: 0.5 * x, (4,), ["Scale"], {"value": 0.5}),
    ("x * int", lambda m, x: x * 3, (4,), ["Scale"], {"value": 3.0}),
    ("x.mul(c)", lambda m, x: x.mul(2.5), (4,), ["Scale"], {"value": 2.5}),
    # indexing
    ("out[:, -1]", lambda m, x: x[:, -1], (5, 3), ["SelectTimestep"], {}),
    ("out[:, -1, :]", lambda m, x: x[:, -1, :], (5, 3), ["SelectTimestep"], {}),
    ("out[:, 0]", lambda m, x: x[:, 0], (5, 3), ["SelectTimestep"], {"index": 0}),
    ("x[:, :, 1]", lambda m, x: x[:, :, 1], (5, 3), ["Select"], {"dim": 2, "index": 1}),
    ("x[..., 0]", lambda m, x: x[..., 0], (5, 3), ["Select"], {"index": 0}),
    ("x[..., 0, :]", lambda m, x: x[..., 0, :], (2, 5, 3), ["Select"], {"dim": -2, "index": 0}),
]


@pytest.mark.parametrize("name,fn,shape,types,params", CASES, ids=[c[0] for c in CASES])
def test_functional_form_imports_as_its_block_and_computes_the_same(name, fn, shape, types,
                                                                  params):
    g = round_trip(Fn(fn), shape)
    assert layer_types(g) == types
    if params is not None:
        block = next(n for n in g.nodes.values() if n.type == types[-1])
        assert block.params == params


def test_functional_forms_mix_with_modules_and_keep_their_weights():
    def forward(m, x):
        x = F.max_pool2d(F.relu(m.conv1(x)), 2)
        x = x.view(-1, 4 * 4 * 4)
        return F.log_softmax(m.fc(F.dropout(x, training=m.training)), dim=1)

    model = Fn(forward, conv1=nn.Conv2d(1, 4, 3, padding=1), fc=nn.Linear(64, 10))
    g = round_trip(model, (1, 8, 8))
    assert layer_types(g) == ["Conv2d", "ReLU", "MaxPool2d", "Reshape", "Dropout", "Linear",
                              "LogSoftmax"]


def test_functional_dropout_follows_the_models_mode_or_is_refused():
    off = Fn(lambda m, x: F.dropout(x, 0.5, training=False) + F.alpha_dropout(x, 0.5))
    assert layer_types(round_trip(off, (6,))) == ["Add"]  # neither ever drops
    model = Fn(lambda m, x: F.dropout(x, 0.5, training=m.training))
    model.eval()  # imported in evaluation mode: training=self.training is False now
    assert layer_types(import_model(model, input_shapes=[(6,)])) == ["Dropout"]
    always = Fn(lambda m, x: F.dropout(x, 0.5, training=True))
    always.eval()
    with pytest.raises(ModelImportError, match=r"F\.dropout\(\) drops in evaluation too"):
        import_model(always, input_shapes=[(6,)])


def test_the_final_state_of_a_recurrent_layer_by_index():
    def last(m, x):
        _, (hidden, _) = m.lstm(x)
        return hidden[-1]

    def last_of_two_directions(m, x):
        _, hidden = m.gru(x)
        return m.fc(torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1))

    def squeezed(m, x):
        _, hidden = m.rnn(x)
        return hidden.squeeze(0)

    g = round_trip(Fn(last, lstm=nn.LSTM(3, 5, num_layers=2, batch_first=True)), (4, 3))
    assert [n.params.get("return_sequences") for n in g.nodes.values() if n.type == "LSTM"] \
        == [False]
    g = round_trip(Fn(last_of_two_directions, gru=nn.GRU(3, 5, bidirectional=True,
                                                          batch_first=True),
                      fc=nn.Linear(10, 2)), (4, 3))
    assert layer_types(g) == ["GRU", "Linear"]
    g = round_trip(Fn(squeezed, rnn=nn.RNN(3, 5, batch_first=True)), (4, 3))
    assert layer_types(g) == ["RNN"]


BAD = [
    ("F.softmax without dim", lambda m, x: F.softmax(x), (6,),
     "F.softmax() without dim= (the block needs it)"),
    ("transpose of the batch", lambda m, x: x.transpose(0, 1), (6,),
     ".transpose(0, 1) moves the batch dimension (dim 0)"),
    ("squeeze of the batch", lambda m, x: x.squeeze(0), (6,),
     ".squeeze(0,) removes the batch dimension (dim 0)"),
    ("unsqueeze before the batch", lambda m, x: x.unsqueeze(0), (6,),
     ".unsqueeze(0,) adds a dimension before the batch"),
    ("a pool with divisor_override", lambda m, x: F.avg_pool2d(x, 2, divisor_override=3),
     (1, 4, 4), "torch.avg_pool2d() with divisor_override=3 (not supported)"),
    ("a pool with a kernel the block refuses", lambda m, x: F.max_pool2d(x, 0), (1, 4, 4),
     "F.max_pool2d(): kernel_size must be >= 1, got 0"),
]


@pytest.mark.parametrize("name,fn,shape,words", BAD, ids=[c[0] for c in BAD])
def test_a_functional_form_without_an_exact_block_is_named(name, fn, shape, words):
    with pytest.raises(ModelImportError) as info:
        import_model(Fn(fn), input_shapes=[shape])
    assert words in str(info.value)


def test_a_functional_layer_norm_with_the_models_own_weight_is_named():
    model = Fn(lambda m, x: F.layer_norm(x, (6,), m.gamma), gamma=nn.Parameter(torch.ones(6)))
    with pytest.raises(ModelImportError) as info:
        import_model(model, input_shapes=[(6,)])
    assert ("F.layer_norm() with a tensor where LayerNorm needs a constant (e.g. a weight "
            "passed in) has no block") in str(info.value)
