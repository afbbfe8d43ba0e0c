"""Names: unique default node names and safe Python identifiers.

Identifiers made from user text never shadow a keyword, a builtin, or a name
the generated module itself uses, and are unique within their namespace (the
same idea as torch.fx's ``_Namespace``).
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata

#: The public attributes of ``torch.nn.Module`` (torch 2.x; graph/ cannot import
#: torch, and the test suite checks this list against ``dir(nn.Module)``): a
#: layer stored as ``self.buffers`` would be shadowed by the method of that name.
MODULE_ATTRS = frozenset({
    "t_destination", "add_module", "apply", "bfloat16", "buffers", "call_super_init",
    "children", "compile", "cpu", "cuda", "double", "dump_patches", "eval", "extra_repr",
    "float", "forward", "get_buffer", "get_extra_state", "get_parameter", "get_submodule",
    "half", "ipu", "load_state_dict", "modules", "mtia", "named_buffers", "named_children",
    "named_modules", "named_parameters", "parameters", "register_backward_hook",
    "register_buffer", "register_forward_hook", "register_forward_pre_hook",
    "register_full_backward_hook", "register_full_backward_pre_hook",
    "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook",
    "register_module", "register_parameter", "register_state_dict_post_hook",
    "register_state_dict_pre_hook", "requires_grad_", "set_extra_state", "set_submodule",
    "share_memory", "state_dict", "to", "to_empty", "train", "training", "type", "xpu",
    "zero_grad",
})

_RESERVED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins)) | {
    "self", "torch", "nn", "F", "math", "super", "reset_parameters",
} | MODULE_ATTRS


def identifier(text: str, fallback: str = "layer") -> str:
    """A safe Python identifier from arbitrary text (ASCII, lower snake case).

    ``"Conv 1 (big)"`` → ``"conv_1_big"``; ``"class"`` → ``"class_"``;
    ``"3x3"`` → ``"layer_3x3"``.
    """
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    s = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    s = re.sub(r"_+", "_", s)
    if not s:
        s = fallback
    if s and s[0].isdigit():
        s = f"{fallback}_{s}"
    if s in _RESERVED or s.startswith("__"):
        s = s + "_"
    return s[:60]


def class_name(text: str, fallback: str = "Network") -> str:
    """A safe CamelCase class name: ``"LeNet on digits"`` → ``"LenetOnDigits"``."""
    words = identifier(text, fallback="").split("_")
    s = "".join(w[:1].upper() + w[1:] for w in words if w)
    if not s or not s[0].isalpha():
        s = fallback + s
    if s in _RESERVED or keyword.iskeyword(s):
        s = s + "Model"
    return s[:60]


class Namespace:
    """Hands out unique identifiers: the second ``conv`` becomes ``conv_2``."""

    def __init__(self, taken=()):
        self._used = set(taken)

    def add(self, wanted: str) -> str:
        name = wanted
        k = 2
        while name in self._used or name in _RESERVED:
            name = f"{wanted}_{k}"
            k += 1
        self._used.add(name)
        return name

    def reserve(self, name: str) -> None:
        self._used.add(name)


def default_name(prefix: str, existing) -> str:
    """The first free ``prefix_k`` (k = 1, 2, ...) among ``existing`` names."""
    existing = set(existing)
    k = 1
    while f"{prefix}_{k}" in existing:
        k += 1
    return f"{prefix}_{k}"
