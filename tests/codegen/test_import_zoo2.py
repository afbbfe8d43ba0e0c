"""A second zoo: models written the way tutorials, books and torchvision write
them, each imported exactly (the code generated from the import, given the
original's weights, computes the same) or refused with a clean message that
names the first cause first, with the line of the model's source that makes
it, once (never a traceback, never a silently different model).

Sizes are small so the whole zoo runs in seconds.
"""

import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from codegen.fx_import import ModelImportError, import_model
from import_support import round_trip as _round_trip

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).name


def round_trip(model, shapes, dtypes=None, batch=3):
    """:func:`import_support.round_trip` at batch 3, a size no dimension of
    these models has, so a batch moved to another place shows."""
    return _round_trip(model, shapes, dtypes, batch)


def layers(g):
    return [n.type for n in g.nodes.values() if n.type not in ("Input", "Output")]


class Fn(nn.Module):
    """A model whose forward is ``fn(self, x)``, with the given layers."""

    def __init__(self, fn, **named):
        super().__init__()
        self.fn = fn
        for name, layer in named.items():
            setattr(self, name, layer)

    def forward(self, x):
        return self.fn(self, x)


# ------------------------------------------------------------------ CNNs
class BlitzNet(nn.Module):
    """The PyTorch 60-minute blitz CIFAR-10 network."""

    def __init__(self, flatten="torch.flatten"):
        super().__init__()
        self.flatten = flatten
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        if self.flatten == "torch.flatten":
            x = torch.flatten(x, 1)
        elif self.flatten == "view(-1, n)":
            x = x.view(-1, 16 * 5 * 5)
        elif self.flatten == "view(x.shape[0], -1)":
            x = x.view(x.shape[0], -1)
        elif self.flatten == "reshape(x.size(0), -1)":
            x = x.reshape(x.size(0), -1)
        elif self.flatten == "view(x.size()[0], -1)":
            x = x.view(x.size()[0], -1)
        else:  # sizes multiplied out
            x = x.view(x.size(0), x.size(1) * x.size(2) * x.size(3))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


@pytest.mark.parametrize("flatten", ["torch.flatten", "view(-1, n)", "view(x.shape[0], -1)",
                                     "reshape(x.size(0), -1)", "view(x.size()[0], -1)",
                                     "view(x.size(0), C*H*W)"])
def test_the_blitz_cnn_with_each_way_of_flattening(flatten):
    g = round_trip(BlitzNet(flatten), [(3, 32, 32)])
    assert layers(g)[:6] == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d"]
    assert layers(g)[6] in ("Flatten", "Reshape")
    assert layers(g)[7:] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]


class AlexNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(8, 16, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5), nn.Linear(16 * 2 * 2, 32), nn.ReLU(inplace=True),
            nn.Dropout(p=0.5), nn.Linear(32, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def test_alexnet_style_sequentials_with_dropout():
    g = round_trip(AlexNet(), [(3, 32, 32)])
    assert layers(g).count("Dropout") == 2 and "AdaptiveAvgPool2d" in layers(g)


class BasicConv2d(nn.Module):
    def __init__(self, in_channels, out_channels, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)


class InceptionA(nn.Module):
    def __init__(self, in_channels, pool_features):
        super().__init__()
        self.branch1x1 = BasicConv2d(in_channels, 8, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(in_channels, 6, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(6, 8, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 8, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(8, 12, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(in_channels, pool_features, kernel_size=1)

    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        branch_pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)
        branch_pool = self.branch_pool(branch_pool)
        outputs = [branch1x1, branch5x5, branch3x3dbl, branch_pool]
        return torch.cat(outputs, 1)


class InceptionNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = BasicConv2d(3, 8, kernel_size=3)
        self.mixed = InceptionA(8, pool_features=4)
        self.fc = nn.Linear(32, 5)

    def forward(self, x):
        x = self.mixed(self.stem(x))
        x = F.adaptive_avg_pool2d(x, (1, 1))
        x = torch.flatten(x, 1)
        return self.fc(x)


def test_inception_module_with_four_branches_and_cat():
    g = round_trip(InceptionNet(), [(3, 10, 10)])
    assert "InceptionA" in layers(g)
    inner = g.units["InceptionA"].graph
    assert [n.type for n in inner.nodes.values()].count("Concat") == 1


class DenseLayer(nn.Module):
    def __init__(self, in_channels, growth):
        super().__init__()
        self.norm = nn.BatchNorm2d(in_channels)
        self.conv = nn.Conv2d(in_channels, growth, 3, padding=1, bias=False)

    def forward(self, x):
        return self.conv(F.relu(self.norm(x)))


class DenseBlock(nn.Module):
    def __init__(self, num_layers, in_channels, growth):
        super().__init__()
        self.layers = nn.ModuleList(
            [DenseLayer(in_channels + i * growth, growth) for i in range(num_layers)])

    def forward(self, x):
        for layer in self.layers:
            new = layer(x)
            x = torch.cat([x, new], 1)
        return x


class DenseNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv0 = nn.Conv2d(3, 8, 3, padding=1)
        self.block = DenseBlock(3, 8, 4)
        self.classifier = nn.Linear(20, 3)

    def forward(self, x):
        x = F.relu(self.block(self.conv0(x)))
        x = F.adaptive_avg_pool2d(x, 1)
        return self.classifier(torch.flatten(x, 1))


def test_densenet_block_concatenating_in_a_loop_over_a_module_list():
    g = round_trip(DenseNet(), [(3, 8, 8)])
    assert "DenseBlock" in layers(g)


class SqueezeExcite(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 1)
        self.fc1 = nn.Linear(4, 2)
        self.fc2 = nn.Linear(2, 4)

    def forward(self, x):
        x = self.conv(x)
        s = x.mean((2, 3), keepdim=True)
        w = torch.sigmoid(self.fc2(F.relu(self.fc1(s.flatten(1)))))
        return x * w.view(x.size(0), 4, 1, 1)


def test_squeeze_excitation_with_a_mean_that_keeps_its_dims():
    g = round_trip(SqueezeExcite(), [(4, 5, 5)])
    assert layers(g)[:2] == ["Conv2d", "AdaptiveAvgPool2d"]
    assert layers(g)[-2:] == ["Reshape", "Multiply"]


class ConvAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid())

    def forward(self, x):
        return self.decoder(self.encoder(x))


def test_convolutional_autoencoder_with_transposed_convolutions():
    g = round_trip(ConvAutoencoder(), [(1, 8, 8)])
    assert layers(g).count("ConvTranspose2d") == 2


# -------------------------------------------------------- containers, loops
class ModuleListMLP(nn.Module):
    def __init__(self, depth=3):
        super().__init__()
        self.depth = depth
        self.hidden = nn.ModuleList([nn.Linear(8, 8) for _ in range(depth)])
        self.out = nn.Linear(8, 2)

    def forward(self, x):
        for layer in self.hidden:
            x = torch.relu(layer(x))
        for _ in range(2):  # a loop over a Python int: unrolled
            x = x * 0.5
        return self.out(x)


class ModuleDictNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.choices = nn.ModuleDict({"conv": nn.Conv2d(1, 4, 3), "pool": nn.MaxPool2d(2)})
        self.activations = nn.ModuleDict({"relu": nn.ReLU(), "lrelu": nn.LeakyReLU(0.1)})

    def forward(self, x):
        x = self.choices["pool"](self.choices["conv"](x))
        return self.activations["lrelu"](x)


def test_module_list_iterated_and_a_python_range_loop():
    g = round_trip(ModuleListMLP(), [(8,)])
    assert layers(g) == ["Linear", "ReLU"] * 3 + ["Scale", "Scale", "Linear"]


def test_module_dict():
    g = round_trip(ModuleDictNet(), [(1, 8, 8)])
    assert layers(g) == ["Conv2d", "MaxPool2d", "LeakyReLU"]


# ------------------------------------------------- functional forms and arithmetic
FORMS = [
    ("F.dropout training=self.training", lambda m, x: F.dropout(x, 0.2, training=m.training),
     (6,), ["Dropout"]),
    ("torch.relu", lambda m, x: torch.relu(x), (6,), ["ReLU"]),
    ("x.relu()", lambda m, x: x.relu(), (6,), ["ReLU"]),
    ("F.gelu", lambda m, x: F.gelu(x), (6,), ["GELU"]),
    ("F.gelu tanh", lambda m, x: F.gelu(x, approximate="tanh"), (6,), ["GELU"]),
    ("F.leaky_relu 0.2", lambda m, x: F.leaky_relu(x, 0.2), (6,), ["LeakyReLU"]),
    ("F.elu", lambda m, x: F.elu(x), (6,), ["ELU"]),
    ("F.silu", lambda m, x: F.silu(x), (6,), ["SiLU"]),
    ("torch.sigmoid", lambda m, x: torch.sigmoid(x), (6,), ["Sigmoid"]),
    ("x.tanh()", lambda m, x: x.tanh(), (6,), ["Tanh"]),
    ("F.softmax dim=1", lambda m, x: F.softmax(x, dim=1), (6,), ["Softmax"]),
    ("F.softmax dim=-1", lambda m, x: F.softmax(x, dim=-1), (2, 6), ["Softmax"]),
    ("F.log_softmax", lambda m, x: F.log_softmax(x, dim=1), (6,), ["LogSoftmax"]),
    ("x.mean([2, 3])", lambda m, x: x.mean([2, 3]), (2, 4, 4), ["GlobalAvgPool"]),
    ("x.mean(dim=1) of a sequence", lambda m, x: x.mean(dim=1), (5, 3), ["Mean"]),
    ("x.transpose(1, 2)", lambda m, x: x.transpose(1, 2), (5, 3), ["Permute"]),
    ("x.permute(0, 2, 1)", lambda m, x: x.permute(0, 2, 1), (5, 3), ["Permute"]),
    ("x.unsqueeze(1)", lambda m, x: x.unsqueeze(1), (5, 3), ["Reshape"]),
    ("x * 0.5", lambda m, x: x * 0.5, (6,), ["Scale"]),
    ("0.5 * x", lambda m, x: 0.5 * x, (6,), ["Scale"]),
    ("x / 2", lambda m, x: x / 2, (6,), ["Scale"]),
    ("x / 3", lambda m, x: x / 3, (6,), ["Scale"]),
    ("x.div(4)", lambda m, x: x.div(4), (6,), ["Scale"]),
    ("torch.div(x, 4)", lambda m, x: torch.div(x, 4), (6,), ["Scale"]),
    ("x / math.sqrt(d)", lambda m, x: x / math.sqrt(8), (6,), ["Scale"]),
    ("x / math.sqrt(x.size(-1))", lambda m, x: x / math.sqrt(x.size(-1)), (6,), ["Scale"]),
    ("x / x.size(-1) ** 0.5", lambda m, x: x / x.size(-1) ** 0.5, (6,), ["Scale"]),
    ("-x", lambda m, x: -x, (6,), ["Scale"]),
    ("x - y", lambda m, x: x - x.tanh(), (6,), ["Tanh", "Scale", "Add"]),
    ("torch.sub", lambda m, x: torch.sub(x.relu(), x), (6,), ["ReLU", "Scale", "Add"]),
    ("torch.add", lambda m, x: torch.add(x, x.tanh()), (6,), ["Tanh", "Add"]),
    ("torch.mul", lambda m, x: torch.mul(x, x.sigmoid()), (6,), ["Sigmoid", "Multiply"]),
    (".contiguous()", lambda m, x: x.transpose(1, 2).contiguous(), (5, 3), ["Permute"]),
    (".float()", lambda m, x: x.float().relu(), (6,), ["ReLU"]),
    (".clone()", lambda m, x: x.clone().relu(), (6,), ["ReLU"]),
    (".to(x.device)", lambda m, x: x.to(x.device).relu(), (6,), ["ReLU"]),
    (".detach() of the input", lambda m, x: x.detach().relu(), (6,), ["ReLU"]),
]


@pytest.mark.parametrize("name,fn,shape,types", FORMS, ids=[f[0] for f in FORMS])
def test_functional_forms_and_arithmetic_of_tutorials(name, fn, shape, types):
    assert layers(round_trip(Fn(fn), [shape])) == types


def test_a_difference_is_exact_bit_for_bit():
    model = Fn(lambda m, x: m.a(x) - m.b(x), a=nn.Linear(4, 4), b=nn.Linear(4, 4))
    g = round_trip(model, [(4,)])
    assert layers(g) == ["Linear", "Linear", "Scale", "Add"]


def test_computing_under_no_grad_from_the_input_is_a_frozen_block():
    def forward(m, x):
        with torch.no_grad():
            features = m.backbone(x)
        return m.head(features)

    g = round_trip(Fn(forward, backbone=nn.Linear(4, 6), head=nn.Linear(6, 2)), [(4,)])
    frozen = {n.name: n.frozen for n in g.nodes.values() if n.type == "Linear"}
    assert frozen == {"backbone": True, "head": False}


def test_layers_with_frozen_weights_are_frozen_blocks():
    model = Fn(lambda m, x: m.head(m.body(m.embed(x)).mean(dim=1)),
               embed=nn.Embedding.from_pretrained(torch.randn(10, 4)),  # _freeze=True
               body=nn.Linear(4, 4), head=nn.Linear(4, 2))
    model.body.requires_grad_(False)
    g = round_trip(model, [(5,)], ["int64"])
    assert {n.name: n.frozen for n in g.nodes.values() if n.type in ("Embedding", "Linear")} \
        == {"embed": True, "body": True, "head": False}


@pytest.mark.parametrize("freeze,words", [
    (lambda m: m.a.weight.requires_grad_(False),
     "module a (Linear) has some weights frozen (requires_grad=False) and others not"),
    (lambda m: m.bn.requires_grad_(False),
     "module bn (BatchNorm1d) has frozen weights but keeps updating its statistics"),
], ids=["half a layer", "a batch norm"])
def test_frozen_weights_a_frozen_block_cannot_hold_are_named(freeze, words):
    model = Fn(lambda m, x: m.bn(m.a(x)), a=nn.Linear(4, 4), bn=nn.BatchNorm1d(4))
    freeze(model)
    with pytest.raises(ModelImportError) as info:
        import_model(model, input_shapes=[(4,)])
    assert words in str(info.value)


# ----------------------------------------------------------------- sequences
class CharRNN(nn.Module):
    """Embedding, a two-layer LSTM and a Linear on every step."""

    def __init__(self, vocab=20):
        super().__init__()
        self.embedding = nn.Embedding(vocab, 8)
        self.lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True, dropout=0.1)
        self.fc = nn.Linear(16, vocab)

    def forward(self, x):
        out, _ = self.lstm(self.embedding(x))
        return self.fc(out.contiguous())


class LSTMWithZeroState(nn.Module):
    """The tutorial way: h0 and c0 zeros of the batch's size."""

    def __init__(self):
        super().__init__()
        self.hidden_size, self.num_layers = 8, 2
        self.lstm = nn.LSTM(4, 8, 2, batch_first=True)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        h0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size).to(x.device)
        c0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size).to(x.device)
        out, _ = self.lstm(x, (h0, c0))
        return self.fc(out[:, -1, :])


class CausalDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(20, 8)
        self.layer = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
        self.fc = nn.Linear(8, 20)

    def forward(self, x):
        e = self.embedding(x) * math.sqrt(8)
        mask = nn.Transformer.generate_square_subsequent_mask(x.size(1))
        return self.fc(self.layer(e, e, tgt_mask=mask))


def test_char_rnn_with_a_linear_on_every_step():
    assert layers(round_trip(CharRNN(), [(5,)], ["int64"])) == ["Embedding", "LSTM", "Linear"]


def test_lstm_with_a_zero_initial_state_made_in_forward():
    g = round_trip(LSTMWithZeroState(), [(5, 4)])
    assert layers(g) == ["LSTM", "SelectTimestep", "Linear"]


def test_decoder_layer_with_a_square_subsequent_mask_is_causal():
    g = round_trip(CausalDecoder(), [(5,)], ["int64"])
    assert layers(g) == ["Embedding", "Scale", "TransformerDecoderLayer", "Linear"]


def test_an_import_leaves_each_layers_mode_as_it_was():
    model = AlexNet()
    model.features.eval()  # a frozen backbone while the rest trains
    import_model(model, input_shapes=[(3, 32, 32)])
    assert model.training and model.classifier.training
    assert not any(m.training for m in model.features.modules())


# ------------------------------------------------------------------ refusals
class UNet(nn.Module):
    def __init__(self, up="interpolate"):
        super().__init__()
        self.mode = up
        self.down1 = nn.Conv2d(1, 4, 3, padding=1)
        self.down2 = nn.Conv2d(4, 8, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.out = nn.Conv2d(12, 2, 3, padding=1)

    def forward(self, x):
        a = F.relu(self.down1(x))
        b = F.relu(self.down2(F.max_pool2d(a, 2)))
        if self.mode == "interpolate":
            b = F.interpolate(b, scale_factor=2)
        else:
            b = self.up(b)
        return self.out(torch.cat([a, b], dim=1))


class LearnedPositions(nn.Module):
    def __init__(self):
        super().__init__()
        self.pos = nn.Parameter(torch.randn(1, 5, 8))
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        x = x + self.pos
        return self.fc(x)


class Padded(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)

    def forward(self, x):
        x = F.pad(x, (1, 1, 1, 1))
        return self.conv(x)


class CharRNNFlattened(CharRNN):
    def forward(self, x):
        out, _ = self.lstm(self.embedding(x))
        out = out.contiguous().view(-1, 16)
        return self.fc(out)


class TransformerLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(20, 8)
        self.decoder = nn.TransformerDecoder(
            nn.TransformerDecoderLayer(8, 2, 16, batch_first=True), num_layers=2)
        self.fc = nn.Linear(8, 20)

    def forward(self, x):
        e = self.embedding(x)
        mask = nn.Transformer.generate_square_subsequent_mask(x.size(1))
        h = self.decoder(e, e, tgt_mask=mask)
        return self.fc(h)


class MaskedEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(20, 8)
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), num_layers=1,
            enable_nested_tensor=False)

    def forward(self, x):
        mask = nn.Transformer.generate_square_subsequent_mask(x.size(1))
        h = self.encoder(self.embedding(x), mask=mask, is_causal=True)
        return h


class NoisyInTraining(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        x = self.fc(x)
        if self.training:
            x = x * 0.9
        return x


class OldBlitz(nn.Module):
    """The 60-minute blitz's first version, with num_flat_features."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3)
        self.fc1 = nn.Linear(6 * 6 * 6, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = x.view(-1, self.num_flat_features(x))
        return self.fc1(x)

    def num_flat_features(self, x):
        size = x.size()[1:]
        num_features = 1
        for s in size:
            num_features *= s
        return num_features


class DataDependent(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        if x.sum() > 0:
            x = self.fc(x)
        return x


def _no_grad_after_a_layer(m, x):
    x = m.a(x)
    with torch.no_grad():
        x = m.b(x)
    return x


def _no_grad_batch_norm(m, x):
    with torch.no_grad():
        x = m.bn(x)
    return m.a(x)


REFUSED = [  # model, shape, dtype, the source line's text, the reason
    ("F.interpolate", UNet("interpolate"), (1, 8, 8), "float32",
     "b = F.interpolate(b, scale_factor=2)", "function interpolate has no block"),
    ("nn.Upsample", UNet("module"), (1, 8, 8), "float32",
     "b = self.up(b)", "module up (Upsample) has no block"),
    ("F.pad", Padded(), (1, 6, 6), "float32", "x = F.pad(x, (1, 1, 1, 1))",
     "function pad has no block"),
    ("learned positions", LearnedPositions(), (5, 8), "float32", "x = x + self.pos",
     "Add of the model's own tensor self.pos (an nn.Parameter or buffer, not a layer) has "
     "no block"),
    ("view(-1, hidden) of a sequence", CharRNNFlattened(), (5,), "int64",
     "out = out.contiguous().view(-1, 16)",
     ".view(-1, 16) folds the batch into other dimensions (a block keeps the batch as dim 0; "
     "the input is N×5×16)"),
    ("TransformerDecoder", TransformerLM(), (5,), "int64",
     "h = self.decoder(e, e, tgt_mask=mask)",
     "module decoder (TransformerDecoder) has no block"),
    ("TransformerEncoder with a mask", MaskedEncoder(), (5,), "int64",
     "h = self.encoder(self.embedding(x), mask=mask, is_causal=True)",
     "encoder: TransformerEncoder called with mask=a tensor is not supported"),
    ("if self.training", NoisyInTraining(), (4,), "float32", "x = x * 0.9",
     "forward computes something else in training than in evaluation"),
    (".detach() after a layer", Fn(lambda m, x: m.a(x).detach(), a=nn.Linear(4, 4)), (4,),
     "float32", "lambda m, x: m.a(x).detach()",
     ".detach() stops the gradients of the layers before it; no block does that"),
    ("no_grad after a layer", Fn(_no_grad_after_a_layer, a=nn.Linear(4, 4),
                                 b=nn.Linear(4, 4)), (4,), "float32", "x = m.b(x)",
     "computing under torch.no_grad() stops the gradients of the layers before it"),
    ("no_grad batch norm", Fn(_no_grad_batch_norm, bn=nn.BatchNorm1d(4), a=nn.Linear(4, 4)),
     (4,), "float32", "x = m.bn(x)",
     "module bn (BatchNorm1d) under torch.no_grad() keeps updating its statistics"),
    ("x + 1", Fn(lambda m, x: x + 1), (4,), "float32", "lambda m, x: x + 1",
     "Add of a constant (1) has no block"),
    ("x - 1", Fn(lambda m, x: x - 1), (4,), "float32", "lambda m, x: x - 1",
     "subtracting a constant (1) has no block"),
    ("1 - x", Fn(lambda m, x: 1 - x), (4,), "float32", "lambda m, x: 1 - x",
     "subtracting from a constant (1 - a tensor) has no block"),
    ("x / y", Fn(lambda m, x: x / x.sigmoid()), (4,), "float32", "x / x.sigmoid()",
     "dividing by a tensor has no block"),
    ("x // 2", Fn(lambda m, x: torch.div(x, 2, rounding_mode="floor")), (4,), "float32",
     "rounding_mode", "division with rounding_mode='floor' has no block"),
    ("torch.add alpha", Fn(lambda m, x: torch.add(x, x.relu(), alpha=2)), (4,), "float32",
     "alpha=2", "Add with alpha=2 has no block"),
    ("random state", Fn(lambda m, x: m.gru(x, torch.randn(1, x.size(0), 4))[0],
                        gru=nn.GRU(3, 4, batch_first=True)), (5, 3), "float32",
     "torch.randn(1, x.size(0), 4)", "function randn draws random numbers; no block does"),
    (".float() of token ids", Fn(lambda m, x: x.float()), (4,), "int64", "x.float()",
     ".float() of a int64 tensor (a type conversion) has no block"),
    ("a fixed batch size", Fn(lambda m, x: x.view(64, -1)), (2, 3), "float32",
     "x.view(64, -1)", ".view(64, -1) fixes the batch size to 64"),
    ("torch.flatten(x) from dim 0", Fn(lambda m, x: torch.flatten(x)), (2, 3), "float32",
     "torch.flatten(x)", "flatten from dim 0 folds the batch into the features"),
    ("x.view(-1)", Fn(lambda m, x: x.view(-1)), (2, 3), "float32", "x.view(-1)",
     ".view(-1) folds the batch into other dimensions"),
    ("a slice of the features", Fn(lambda m, x: m.a(x)[0][:, -1, :6],
                                   a=nn.LSTM(4, 6, batch_first=True, bidirectional=True)),
     (5, 4), "float32", "[:, -1, :6]", "indexing [:, -1, :6] has no block"),
    ("a key padding mask", Fn(lambda m, x: m.attn(x, x, x, key_padding_mask=x[..., 0] > 0)[0],
                              attn=nn.MultiheadAttention(4, 2, batch_first=True)),
     (5, 4), "float32", "key_padding_mask", "function gt has no block"),
]


@pytest.mark.parametrize("name,model,shape,dtype,line,reason", REFUSED,
                         ids=[r[0] for r in REFUSED])
def test_a_refusal_names_its_first_cause_once_with_the_source_line(name, model, shape, dtype,
                                                                   line, reason):
    with pytest.raises(ModelImportError) as info:
        import_model(model, input_shapes=[shape], input_dtypes=[dtype])
    lines = str(info.value).splitlines()
    assert lines[0].startswith(f"{type(model).__name__} cannot be imported exactly ("), lines
    first = lines[1].strip()
    assert first.startswith(f"{HERE}:"), first
    assert line in first and "  — " + reason in first, first
    assert len(lines) == len(set(lines)), lines  # each cause once


def test_a_unet_refused_at_its_upsampling_not_at_the_skip_concatenation():
    with pytest.raises(ModelImportError) as info:
        import_model(UNet(), input_shapes=[(1, 8, 8)])
    assert len(str(info.value).splitlines()) == 2  # the header and the one cause


def test_a_mode_branch_is_refused_even_where_both_branches_have_blocks():
    with pytest.raises(ModelImportError) as info:
        import_model(NoisyInTraining(), input_shapes=[(4,)])
    assert "(it reads self.training here)" in str(info.value)
    assert len(str(info.value).splitlines()) == 2


def test_a_mask_in_a_multihead_attention_call_that_it_cannot_take_is_named():
    model = Fn(lambda m, x: m.attn(x, x, x, key_padding_mask=m.pad)[0],
               attn=nn.MultiheadAttention(4, 2, batch_first=True))
    model.register_buffer("pad", torch.zeros(3, 5, dtype=torch.bool))
    with pytest.raises(ModelImportError) as info:
        import_model(model, input_shapes=[(5, 4)])
    assert ("attn: MultiheadAttention called with key_padding_mask=a tensor is not supported "
            "(the block attends to every key)") in str(info.value)


@pytest.mark.parametrize("model,line,reason", [
    (OldBlitz(), "for s in size:", "a loop over a tensor or its size (x.size()[1:]) cannot "
     "be traced"),
    (DataDependent(), "if x.sum() > 0:", "an if or while on a tensor's value"),
], ids=["num_flat_features", "if on a value"])
def test_untraceable_python_names_the_line(model, line, reason):
    with pytest.raises(ModelImportError) as info:
        import_model(model, input_shapes=[(1, 14, 14) if isinstance(model, OldBlitz) else (4,)])
    text = str(info.value)
    assert text.startswith(f"cannot trace {type(model).__name__}: {HERE}:"), text
    assert f"  {line}  — {reason}" in text
    assert "\n" not in text and "Traceback" not in text


def test_a_wrong_input_shape_asks_whether_the_shape_is_right():
    with pytest.raises(ModelImportError) as info:
        import_model(BlitzNet(), input_shapes=[(3, 28, 28)])
    assert "the weights of fc1 do not fit its block Linear" in str(info.value)
    assert str(info.value).endswith("is the input shape the one the model was built for?")


# ------------------------------------------------------------------ the CLI
MODEL_FILE = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 4 * 4, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = x.view(x.size(0), -1)
        return F.log_softmax(self.fc(x / 2), dim=1)


class Up(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)

    def forward(self, x):
        x = self.conv(x)
        x = F.interpolate(x, scale_factor=2)
        return torch.cat([x, x], 1)


class Loop(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        for s in x.size()[1:]:
            x = x * s
        return self.fc(x)
'''


def _cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_cli_imports_a_tutorial_model_that_divides_and_views(tmp_path):
    model = tmp_path / "model.py"
    model.write_text(MODEL_FILE)
    r = _cli("import", model, "--class", "Net", "--input-shape", "1,8,8", "-o",
             tmp_path / "net.json")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "net.json").exists()
    assert _cli("check", tmp_path / "net.json").returncode == 0


@pytest.mark.parametrize("cls,line,reason", [
    ("Up", "model.py:26  x = F.interpolate(x, scale_factor=2)",
     "function interpolate has no block"),
    ("Loop", "model.py:36  for s in x.size()[1:]:",
     "a loop over a tensor or its size (x.size()[1:]) cannot be traced"),
])
def test_cli_refusal_is_one_clean_message_on_stderr(tmp_path, cls, line, reason):
    model = tmp_path / "model.py"
    model.write_text(MODEL_FILE)
    out = tmp_path / "out.json"
    r = _cli("import", model, "--class", cls, "--input-shape", "1,8,8" if cls == "Up" else "4",
             "-o", out)
    assert r.returncode == 1
    assert r.stderr.startswith(f"error: cannot import '{model}': "), r.stderr
    assert f"{line}  — {reason}" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert not out.exists()
    if cls == "Up":  # the concatenation only consumes the refused value: not listed
        assert len(r.stderr.strip().splitlines()) == 2, r.stderr
