"""A model zoo written the way tutorials and torchvision write models: each
imports, and the code generated from the import, loaded with the original's
state dict, computes the same outputs (within 1e-5 relative).

Sizes are small so the whole zoo runs in seconds.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from codegen import generate
from codegen.compile import module_class
from codegen.fx_import import import_model
from import_support import round_trip


def top_level(g):
    return [n.type for n in g.nodes.values()]


# ------------------------------------------------------------------ LeNet, MLP
class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class QuickstartMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 10))

    def forward(self, x):
        x = self.flatten(x)
        return self.linear_relu_stack(x)


def test_lenet_with_functional_pooling():
    g = round_trip(LeNet(), [(1, 28, 28)])
    assert top_level(g).count("MaxPool2d") == 2 and "Reshape" in top_level(g)


def test_quickstart_mlp():
    round_trip(QuickstartMLP(), [(1, 28, 28)])


# ------------------------------------------------------------------ ResNets
class CifarBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + x)


class CifarResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(CifarBlock(8, 8), CifarBlock(8, 8), CifarBlock(8, 8))
        self.linear = nn.Linear(8, 10)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer1(out)
        out = F.avg_pool2d(out, out.size()[3])
        out = out.view(out.size(0), -1)
        return self.linear(out)


def test_cifar_resnet_with_functional_average_pooling():
    g = round_trip(CifarResNet(), [(3, 8, 8)])
    block = next(n for n in g.nodes.values() if n.type == "CifarBlock")
    assert block.repeat == 3 and block.name == "layer1"


def conv3x3(i, o, stride=1):
    return nn.Conv2d(i, o, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(i, o, stride=1):
    return nn.Conv2d(i, o, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    """torchvision's ResNet, with narrow widths so the test stays quick."""

    def __init__(self, block, layers, width=4, num_classes=10):
        super().__init__()
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(block, width * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 8 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def test_resnet18_style_imports_as_units():
    g = round_trip(ResNet(BasicBlock, [2, 2, 2, 2]), [(3, 16, 16)])
    assert len(g.nodes) <= 20
    assert "BasicBlock" in g.units


@pytest.mark.xfail(strict=True, reason="a stage of different blocks (layer2 = [block with "
                   "downsample, block]) and the downsample Sequential inside a block keep "
                   "their torch keys (layer2.0.downsample.0.weight) only once a node can be "
                   "named like an nn.Sequential child (0, 1, ...); today they are layer2_0 "
                   "and downsample_0")
def test_resnet18_state_dict_keys_are_the_originals():
    model = ResNet(BasicBlock, [2, 2, 2, 2])
    g = import_model(model, input_shapes=[(3, 16, 16)])
    again = module_class(generate(g, "ResNet"))()
    again.load_state_dict(model.state_dict())


def test_resnet50_style_with_bottlenecks():
    g = round_trip(ResNet(Bottleneck, [3, 4, 6, 3], width=2), [(3, 16, 16)])
    assert "Bottleneck" in g.units


# ------------------------------------------------------------------ VGG, MobileNetV2, SqueezeNet
class VGG11(nn.Module):
    def __init__(self):
        super().__init__()
        cfg = [4, "M", 8, "M", 16, 16, "M", 32, 32, "M", 32, 32, "M"]
        layers, c = [], 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(c, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                c = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(nn.Linear(32 * 4, 16), nn.ReLU(True), nn.Dropout(),
                                        nn.Linear(16, 10))

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def test_vgg11_style():
    round_trip(VGG11(), [(3, 32, 32)])


class ConvBNReLU(nn.Sequential):
    def __init__(self, i, o, kernel_size=3, stride=1, groups=1):
        super().__init__(nn.Conv2d(i, o, kernel_size, stride, (kernel_size - 1) // 2,
                                   groups=groups, bias=False),
                         nn.BatchNorm2d(o), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio):
        super().__init__()
        hidden = inp * expand_ratio
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(ConvBNReLU(inp, hidden, kernel_size=1))
        layers += [ConvBNReLU(hidden, hidden, stride=stride, groups=hidden),
                   nn.Conv2d(hidden, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self):
        super().__init__()
        features = [ConvBNReLU(3, 8, stride=2)]
        c = 8
        for t, o, n, s in [(1, 8, 1, 1), (6, 12, 2, 2), (6, 16, 2, 2)]:
            for i in range(n):
                features.append(InvertedResidual(c, o, s if i == 0 else 1, t))
                c = o
        features.append(ConvBNReLU(c, 32, kernel_size=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(32, 10))

    def forward(self, x):
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, (1, 1))
        x = torch.flatten(x, 1)
        return self.classifier(x)


def test_mobilenet_v2_style():
    round_trip(MobileNetV2(), [(3, 16, 16)])


class Fire(nn.Module):
    def __init__(self, inplanes, squeeze, expand1x1, expand3x3):
        super().__init__()
        self.squeeze = nn.Conv2d(inplanes, squeeze, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat([self.expand1x1_activation(self.expand1x1(x)),
                          self.expand3x3_activation(self.expand3x3(x))], 1)


class SqueezeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=3, stride=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(16, 4, 8, 8), Fire(16, 4, 8, 8), Fire(16, 8, 16, 16))
        self.classifier = nn.Sequential(nn.Dropout(p=0.5), nn.Conv2d(32, 10, kernel_size=1),
                                        nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)))

    def forward(self, x):
        x = self.features(x)
        x = self.classifier(x)
        return torch.flatten(x, 1)


def test_squeezenet_style_fire_modules():
    g = round_trip(SqueezeNet(), [(3, 17, 17)])
    assert "Fire" in g.units


# ------------------------------------------------------------------ sequences
class LSTMClassifier(nn.Module):
    def __init__(self, bidirectional=False):
        super().__init__()
        self.bidirectional = bidirectional
        self.embedding = nn.Embedding(20, 8)
        self.lstm = nn.LSTM(8, 6, batch_first=True, bidirectional=bidirectional)
        self.fc = nn.Linear(12 if bidirectional else 6, 3)

    def forward(self, text):
        embedded = self.embedding(text)
        output, (hidden, cell) = self.lstm(embedded)
        if self.bidirectional:
            hidden = torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1)
        else:
            hidden = hidden[-1]
        return self.fc(hidden)


def test_lstm_text_classifier_with_hidden_minus_one():
    round_trip(LSTMClassifier(), [(7,)], ["int64"])


def test_bidirectional_lstm_classifier_with_both_final_states():
    round_trip(LSTMClassifier(bidirectional=True), [(7,)], ["int64"])


class WordLanguageModel(nn.Module):
    """PyTorch's word_language_model TransformerModel (sequence first)."""

    def __init__(self, ntoken=30, ninp=16, nhead=2, nhid=32, nlayers=2):
        super().__init__()
        layer = nn.TransformerEncoderLayer(ninp, nhead, nhid, 0.0)
        self.transformer_encoder = nn.TransformerEncoder(layer, nlayers)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.ninp = ninp
        self.decoder = nn.Linear(ninp, ntoken)

    def forward(self, src):
        src = self.encoder(src) * math.sqrt(self.ninp)
        output = self.transformer_encoder(src)
        return F.log_softmax(self.decoder(output), dim=-1)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # torch's, on building it
def test_word_language_model_transformer_sequence_first():
    round_trip(WordLanguageModel(), [(5,)], ["int64"], batch=6)


class GRUWithState(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 6, batch_first=True)
        self.fc = nn.Linear(6, 2)

    def forward(self, x, h):
        out, h = self.gru(x, h)
        return self.fc(out), h


def test_gru_with_a_state_argument_returning_output_and_state():
    # one sample: PyTorch takes h as 1×N×6 (batch second) and the import batch
    # first, N×1×6, so only N = 1 feeds both the same tensor; batches of several
    # are in tests/codegen/test_import_states.py
    round_trip(GRUWithState(), [(5, 4), (1, 6)], batch=1)
