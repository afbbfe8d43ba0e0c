"""The built-in datasets as plain data: what each one is, its sample shape and
options.

This module is imported by the editor's palette and the Input block's dataset
check before torch is loaded, so it must stay cheap: standard library only (no
numpy, no scikit-learn, no torch).  The generators themselves live in
:mod:`runtime.data.synthetic` and :mod:`runtime.data.tabular`.
"""

from __future__ import annotations

import math
from typing import NamedTuple


class BuiltinInfo(NamedTuple):
    """What a built-in dataset gives, for menus and shape checks.

    ``input_shape`` and ``num_classes`` are those of the default options (a
    different ``seq_len``, ``vocab`` or ``classes`` changes them; the loaded
    :class:`~runtime.data.Dataset` has the real ones).
    """

    description: str
    input_shape: tuple
    input_dtype: str
    task: str
    num_classes: int | None
    default_n: int
    name: str = ""
    target_shape: tuple = ()
    #: option name -> default value (besides ``n`` and ``val_fraction``).
    options: tuple = ()
    class_names: tuple | None = None
    #: A set with one array per ``Input`` (``X_<input id>``, as an ``.npz`` may
    #: hold them): ``(input id, shape, dtype)`` of each, for the default
    #: options; empty for a set of one array ``X`` (it feeds the only Input).
    #: ``input_shape`` and ``input_dtype`` are then the first one's.
    inputs: tuple = ()
    #: The ``Output`` id its one target array belongs to (``y_<output id>``;
    #: "" for a set of one array ``y``).
    output: str = ""
    #: Token ids below this are special (a start token), not data: a set with
    #: ``vocab`` digit tokens then has ``vocab + reserved_tokens`` classes.
    reserved_tokens: int = 0
    #: A teacher-forced sequence-to-sequence set: ``{"source": <Input id>,
    #: "decoder": <Input id fed the target shifted behind the start token>,
    #: "start": <start token id>}``, so that a run can decode a few validation
    #: samples greedily after each epoch; None for every other set.
    decode: dict | None = None


def _digits() -> tuple:
    return tuple(str(i) for i in range(10))


def _tokens(v: int) -> tuple:
    return tuple(str(i) for i in range(v))


_C, _R = "classification", "regression"
_F, _I = "float32", "int64"

#: Defaults of the sequence sets (also read by the generators).
SEQ_DEFAULTS = {"adding": 50, "majority_token": 20, "next_token": 16, "reverse": 8,
                "masked_tokens": 24, "token_period": 24}
VOCAB_DEFAULT = 8
#: The reverse set's digit tokens by default (ids 1..10; 0 is the start token).
REVERSE_VOCAB = 10

_CATALOG: dict[str, BuiltinInfo] = {
    "digits": BuiltinInfo(
        "1,797 real 8×8 handwritten digits (scikit-learn's copy of the UCI set), pixels in [0, 1]",
        (1, 8, 8), _F, _C, 10, 1797, class_names=_digits()),
    "iris": BuiltinInfo(
        "150 iris flowers: 4 measurements → 3 species (features standardised)",
        (4,), _F, _C, 3, 150, class_names=("setosa", "versicolor", "virginica")),
    "wine": BuiltinInfo(
        "178 wines: 13 chemical measurements → 3 cultivars (features standardised)",
        (13,), _F, _C, 3, 178, class_names=("class_0", "class_1", "class_2")),
    "breast_cancer": BuiltinInfo(
        "569 breast tumour biopsies: 30 cell measurements → malignant or benign "
        "(features standardised)",
        (30,), _F, _C, 2, 569, class_names=("malignant", "benign")),
    "spirals": BuiltinInfo(
        "interleaved 2-D spiral arms, one class per arm (option classes: 2–5)",
        (2,), _F, _C, 2, 600, options=(("noise", 0.05), ("classes", 2)),
        class_names=("arm 0", "arm 1")),
    "moons": BuiltinInfo(
        "two interleaving half circles in 2-D",
        (2,), _F, _C, 2, 500, options=(("noise", 0.1),), class_names=("upper", "lower")),
    "circles": BuiltinInfo(
        "a small circle inside a large one in 2-D",
        (2,), _F, _C, 2, 500, options=(("noise", 0.05),), class_names=("outer", "inner")),
    "xor": BuiltinInfo(
        "2-D points in [-1, 1]²; the class is whether x and y have the same sign",
        (2,), _F, _C, 2, 500, options=(("noise", 0.05),),
        class_names=("different sign", "same sign")),
    "sine": BuiltinInfo(
        "regression of y = sin(x) + noise for x in [-π, π]",
        (1,), _F, _R, None, 500, target_shape=(1,), options=(("noise", 0.05),)),
    "adding": BuiltinInfo(
        "the adding problem: T steps of (value, marker); predict the sum of the two "
        "marked values (long-range memory)",
        (SEQ_DEFAULTS["adding"], 2), _F, _R, None, 2000, target_shape=(1,),
        options=(("seq_len", SEQ_DEFAULTS["adding"]),)),
    "majority_token": BuiltinInfo(
        "T random tokens; the class is the most frequent token (ties: the smallest); "
        "for Embedding + LSTM/Transformer",
        (SEQ_DEFAULTS["majority_token"],), _I, _C, VOCAB_DEFAULT, 2000,
        options=(("seq_len", SEQ_DEFAULTS["majority_token"]), ("vocab", VOCAB_DEFAULT)),
        class_names=_tokens(VOCAB_DEFAULT)),
    "next_token": BuiltinInfo(
        "token sequences following a hidden rule (a repeating pattern of period 2–4 or "
        "counting by a step mod vocab); predict every next token (GPT-style decoder)",
        (SEQ_DEFAULTS["next_token"],), _I, _C, VOCAB_DEFAULT, 2000,
        target_shape=(SEQ_DEFAULTS["next_token"],),
        options=(("seq_len", SEQ_DEFAULTS["next_token"]), ("vocab", VOCAB_DEFAULT)),
        class_names=_tokens(VOCAB_DEFAULT)),
    "reverse": BuiltinInfo(
        "sequence to sequence: reverse T random digits 0..vocab−1 (token ids 1..vocab; "
        "id 0 is the start token); Input src: the digits, Input tgt: the reversed digits "
        "shifted right behind the start token (teacher forcing); Output y: the reversed "
        "digits, one class per step (an encoder-decoder)",
        (SEQ_DEFAULTS["reverse"],), _I, _C, REVERSE_VOCAB + 1, 4000,
        target_shape=(SEQ_DEFAULTS["reverse"],),
        options=(("seq_len", SEQ_DEFAULTS["reverse"]), ("vocab", REVERSE_VOCAB)),
        class_names=("<start>", *_tokens(REVERSE_VOCAB)),
        inputs=(("src", (SEQ_DEFAULTS["reverse"],), _I), ("tgt", (SEQ_DEFAULTS["reverse"],), _I)),
        output="y", reserved_tokens=1, decode={"source": "src", "decoder": "tgt", "start": 0}),
}
# The pretraining pair (issue 17): one token distribution, two tasks.  Token ids
# 1..16 (synthetic.PATTERN_VOCAB); id 0 is [MASK], so one Embedding(17) reads both.
_PATTERN_TOKENS = ("[MASK]", *(str(i) for i in range(1, 17)))
_CATALOG["masked_tokens"] = BuiltinInfo(
    "masked-token pretraining (BERT style), unlabelled: token sequences (ids 1..16) that "
    "repeat a pattern of period 2–4 with some noise; a share mask_rate of the tokens is "
    "replaced by [MASK] (id 0); predict the original token at each masked position (the "
    "other positions hold -100, CrossEntropyLoss's ignore_index, and are not scored)",
    (SEQ_DEFAULTS["masked_tokens"],), _I, _C, len(_PATTERN_TOKENS), 4000,
    target_shape=(SEQ_DEFAULTS["masked_tokens"],),
    options=(("seq_len", SEQ_DEFAULTS["masked_tokens"]), ("mask_rate", 0.2), ("noise", 0.1)),
    class_names=_PATTERN_TOKENS, reserved_tokens=1)
_CATALOG["token_period"] = BuiltinInfo(
    "a small labelled set on masked_tokens' sequences (ids 1..16): the class is the "
    "period (2, 3 or 4) of the repeated pattern; for fine-tuning a pretrained encoder",
    (SEQ_DEFAULTS["token_period"],), _I, _C, 3, 400,
    options=(("seq_len", SEQ_DEFAULTS["token_period"]), ("noise", 0.1)),
    class_names=("period 2", "period 3", "period 4"))
_CATALOG = {k: v._replace(name=k) for k, v in _CATALOG.items()}

#: The sets read from scikit-learn's bundled files (fixed size; ``n`` subsamples).
REAL = ("digits", "iris", "wine", "breast_cancer")

#: The built-in sets' numeric options: (lowest, highest, whole numbers only).
RANGES = {"n": (4, 10_000_000, True), "noise": (0.0, 10.0, False), "seq_len": (2, 100_000, True),
          "vocab": (2, 1_000_000, True), "classes": (2, 5, True),
          "mask_rate": (0.01, 0.9, False)}


def node_arrays(info: BuiltinInfo, seq_len: int | None = None, vocab: int | None = None
                ) -> tuple[tuple, tuple, int | None]:
    """A built-in set's arrays for the given options: ``((input id, shape,
    dtype), ...)``, the target's shape and the class count.

    A set of one array ``X`` gives one input with id None.  ``seq_len``
    replaces the first sample axis (every sequence set has the sequence
    there; per-step targets follow it, one target per sequence does not);
    ``vocab`` sets the class count (plus the reserved tokens).  None: the
    default.
    """
    inputs = info.inputs or ((None, info.input_shape, info.input_dtype),)
    target, classes = tuple(info.target_shape), info.num_classes
    if seq_len is not None:
        if target and target[0] == info.input_shape[0]:
            target = (seq_len, *target[1:])
        inputs = tuple((i, (seq_len, *shape[1:]), dt) for i, shape, dt in inputs)
    if vocab is not None:
        classes = vocab + info.reserved_tokens
    return tuple((i, tuple(s), dt) for i, s, dt in inputs), target, classes


def builtin_catalog() -> dict[str, BuiltinInfo]:
    """Every built-in dataset by name, in menu order. Cheap: nothing is loaded."""
    return dict(_CATALOG)


def training_samples(dataset: object) -> int | None:
    """How many training samples a ``training.dataset`` object gives, without
    loading anything (for validation's "very large model" warning).

    The count is the one :func:`runtime.data.load_dataset` gives after the
    validation split (``n - ceil(n * val_fraction)``).

    Returns:
        The count for a built-in set; None for the user's files (their size
        is known only once read) and for settings the loader would refuse.
    """
    if not isinstance(dataset, dict) or not isinstance(dataset.get("name"), str):
        return None
    info = _CATALOG.get(dataset["name"])
    if info is None:
        return None
    n = dataset.get("n", info.default_n)
    vf = dataset.get("val_fraction", 0.2)
    lo, hi, _ = RANGES["n"]
    if type(n) is not int or not lo <= n <= hi or type(vf) not in (int, float) or not 0 < vf < 1:
        return None
    if info.name in REAL and n > info.default_n:
        return None  # a bundled file has a fixed number of samples: the loader refuses more
    return n - math.ceil(n * vf)
