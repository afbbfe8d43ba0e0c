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


def _digits() -> tuple:
    return tuple(str(i) for i in range(10))


def _tokens(v: int) -> tuple:
    return tuple(str(i) for i in range(v))


_C, _R = "classification", "regression"
_F, _I = "float32", "int64"

#: Defaults of the sequence sets (also read by the generators).
SEQ_DEFAULTS = {"adding": 50, "majority_token": 20, "next_token": 16}
VOCAB_DEFAULT = 8

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
}
_CATALOG = {k: v._replace(name=k) for k, v in _CATALOG.items()}

#: The sets read from scikit-learn's bundled files (fixed size; ``n`` subsamples).
REAL = ("digits", "iris", "wine", "breast_cancer")

#: The built-in sets' numeric options: (lowest, highest, whole numbers only).
RANGES = {"n": (4, 10_000_000, True), "noise": (0.0, 10.0, False), "seq_len": (2, 100_000, True),
          "vocab": (2, 1_000_000, True), "classes": (2, 5, True)}


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
