"""Names: node names that are code, derived default names, safe identifiers.

A node's name is exactly its layer's attribute name in the generated code
(``self.<name>``), in exported files and in checkpoint keys, so a name the
editor accepts must be usable there: :func:`name_problem` says why one is not
(the editor shows that reason).  A file written by hand may still hold an
unusable name; :func:`code_names` gives every node the name the code uses,
the node's own where it can, a derived one otherwise (validation warns about
those).

Identifiers made from arbitrary text never shadow a keyword, a builtin, or a
name the generated module itself uses, and are unique within their namespace
(the same idea as torch.fx's ``_Namespace``).
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata
from typing import Container, Iterable

#: The public attributes of ``torch.nn.Module`` (torch 2.x; graph/ cannot import
#: torch, and the test suite checks this list against ``dir(nn.Module)``): a
#: layer stored as ``self.buffers`` would be shadowed by the method of that name.
MODULE_ATTRS = frozenset({
    "T_destination", "add_module", "apply", "bfloat16", "buffers", "call_super_init",
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

#: Names the generated file itself uses (its imports, ``self``, ``super``, and
#: the method a user may expect on a layer-holding module).
CODE_NAMES = frozenset({"self", "torch", "nn", "F", "math", "super", "reset_parameters"})

#: Longest node name (a name is an attribute in every line that uses the layer).
MAX_NAME_LEN = 64

#: Longest derived identifier before its ``_2`` suffix (keeps lines readable).
DERIVED_LEN = 40

#: What a usable name must not be (its spelling aside): see :func:`name_problem`.
_FORBIDDEN = frozenset(keyword.kwlist) | MODULE_ATTRS | CODE_NAMES

_RESERVED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins)) \
    | CODE_NAMES | MODULE_ATTRS
_ASCII_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def usable(name: object, taken: Container[str] = ()) -> bool:
    """Whether :func:`name_problem` finds nothing wrong with ``name`` (the
    quick test, for passes over every node of a big graph)."""
    return (type(name) is str and name.isascii() and name.isidentifier() and name[0] != "_"
            and len(name) <= MAX_NAME_LEN and name not in _FORBIDDEN and name not in taken)


def name_problem(name: object, taken: Container[str] = (), advice: bool = True) -> str | None:
    """Why ``name`` cannot be a node's name, or None if it can.

    A usable name is an ASCII Python identifier that starts with a letter, is
    at most :data:`MAX_NAME_LEN` characters long, is not a keyword, an
    attribute of ``nn.Module`` or a name the generated module uses, and is not
    in ``taken``.  Builtins are fine (``self.input`` shadows nothing).

    Args:
        name: the candidate.
        taken: the names of the other nodes.
        advice: add what to do instead (for the editor); without it, only
            what is wrong (for a sentence of one's own).

    Returns:
        The reason, for a person (it quotes the name), or None.
    """
    if not isinstance(name, str) or not name.strip():
        return "a name must not be empty"
    shown = repr(name) if len(name) <= 40 else repr(name[:37] + "...")
    if not _ASCII_IDENTIFIER.fullmatch(name):
        kind = "a Python identifier"
        if name[0].isdigit():
            why = "starts with a digit"
        else:
            bad = next(c for c in name if not (c.isascii() and c.isalnum() or c == "_"))
            why = "has a space" if bad == " " else f"has {bad!r}"
            if name.isidentifier():
                kind = "an ASCII identifier"
        reason = f"{shown} is not {kind} (it {why})"
        todo = ("use letters, digits and _, starting with a letter "
                f"(e.g. {derived_identifier(name, 'layer')!r})")
    elif name.startswith("_"):
        reason = f"{shown} starts with _, which is kept for PyTorch's own attributes (like _modules)"
        todo = "start with a letter"
    elif len(name) > MAX_NAME_LEN:
        reason = f"{shown} is {len(name)} characters long"
        todo = f"use at most {MAX_NAME_LEN}"
    elif keyword.iskeyword(name):
        reason = f"{shown} is a Python keyword"
        todo = f"choose another name (e.g. {name + '_'!r})"
    elif name in MODULE_ATTRS:
        reason = f"{shown} is an attribute of every nn.Module, which a layer of that name would hide"
        todo = f"choose another name (e.g. {name + '_'!r})"
    elif name in CODE_NAMES:
        reason = f"{shown} is a name the generated code itself uses"
        todo = f"choose another name (e.g. {name + '_'!r})"
    elif name in taken:
        reason = f"{shown} is already the name of another block"
        todo = "each block has its own name"
    else:
        return None
    return f"{reason}; {todo}" if advice else reason


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


def derived_identifier(text: str, fallback: str) -> str:
    """:func:`identifier`, cut to :data:`DERIVED_LEN` characters (a word boundary
    is not needed: the result only has to read well in code)."""
    name = identifier(text, fallback=fallback)
    return name if len(name) <= DERIVED_LEN else name[:DERIVED_LEN].rstrip("_")


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
    """Hands out unique identifiers: the second ``conv`` becomes ``conv_2``.

    Each wanted name remembers the last suffix it handed out, so asking for
    the same name many times costs O(1) each (not a scan from ``_2``).
    """

    def __init__(self, taken: Iterable[str] = ()):
        self._used = set(taken)
        self._next: dict[str, int] = {}

    def add(self, wanted: str) -> str:
        name = wanted
        k = self._next.get(wanted, 2)
        while name in self._used or name in _RESERVED:
            name = f"{wanted}_{k}"
            k += 1
        if name != wanted:
            self._next[wanted] = k
        self._used.add(name)
        return name


class DefaultNames:
    """Derived names ``prefix_k`` for nodes without one, in O(1) amortised each.

    Each prefix keeps a counter that only grows, so a file with 100,000
    unnamed nodes is named in linear time.  While ``taken`` only grows (as
    the names of a file being loaded do), the result is the first free
    ``prefix_k`` (k = 1, 2, ...), the name a scan from 1 would give; where
    names are removed too (a graph being edited), a derived name is still
    never handed out twice.

    Args:
        taken: the names in use (looked up with ``in``; the caller keeps it
            up to date: a name handed out is never handed out again anyway).
    """

    def __init__(self, taken: Container[str]):
        self.taken = taken
        self._next: dict[str, int] = {}

    def add(self, prefix: str) -> str:
        k = self._next.get(prefix, 1)
        while f"{prefix}_{k}" in self.taken:
            k += 1
        self._next[prefix] = k + 1
        return f"{prefix}_{k}"


def code_names(nodes: Iterable) -> dict[str, str]:
    """The name each node has in the generated code, by node id.

    In node order, a node keeps its own name when :func:`name_problem` finds
    nothing wrong with it (a duplicate's first holder keeps it); any other
    node gets an identifier derived from its name that no node's own name
    uses.  The result is the same for the same nodes, every time.

    Args:
        nodes: objects with ``id``, ``name`` and ``spec.name_prefix``, in node order.
    """
    nodes = list(nodes)
    own: dict[str, str] = {}
    kept: set[str] = set()
    for n in nodes:
        if usable(n.name, kept):
            own[n.id] = n.name
            kept.add(n.name)
    if len(own) == len(nodes):
        return own
    ns = Namespace(kept)
    out = {}
    for n in nodes:
        if n.id in own:
            out[n.id] = own[n.id]
        else:
            prefix = n.spec.name_prefix if n.spec is not None else "layer"
            out[n.id] = ns.add(derived_identifier(n.name, prefix))
    return out
