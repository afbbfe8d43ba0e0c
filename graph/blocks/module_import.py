"""Reading a PyTorch module back into a block's parameters: exact or refused.

The importer (:mod:`codegen.fx_import`) meets a module instance and must say
which block it is and with which parameters, without changing what it
computes.  The knowledge lives with the spec: a spec's ``from_module`` hook
(default :func:`read_module`) turns a module into parameter values.

The rule: every argument of the torch class's constructor (read with
:func:`inspect.signature`, so arguments added by a newer torch are covered)
is either represented by a block parameter, or its value, read back from the
module's attributes, must equal the constructor's default; anything else
raises :class:`ImportRefused` naming the argument and its value.  An argument
that cannot be read back at all is refused too: NetCanvas never guesses.

This module is plain Python (no torch import): it reads attributes of the
object it is given.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Mapping

from ..problems import ParamError

MISSING = object()

#: Constructor arguments that do not change what a layer computes (where
#: its tensors are made, whether it overwrites its input, its first weight,
#: which the import loads anyway) and so need no block parameter.
NO_EFFECT = frozenset({"device", "inplace", "_weight"})

#: Marker attribute of the helper classes NetCanvas's generated code defines
#: (``__netcanvas_block__ = "PositionalEncoding"``): a class is one of ours
#: only if it says so, never because of its name.
MARKER = "__netcanvas_block__"

Reader = Callable[[Any], Any]


class ImportRefused(Exception):
    """A module's constructor argument has no exact block equivalent.

    Args:
        argument: the constructor argument's name.
        value: its value in the module (shown in the message).
        reason: why, completing ``Class(argument=value) …``.
    """

    def __init__(self, argument: str, value: Any = MISSING, reason: str = "is not supported"):
        self.argument, self.value, self.reason = argument, value, reason
        super().__init__(f"{argument}={show(value)} {reason}")

    def describe(self, class_name: str) -> str:
        """``TransformerEncoder(norm=LayerNorm) is not supported``."""
        return f"{class_name}({self.argument}={show(self.value)}) {self.reason}"


class CallRefused(ImportRefused):
    """An argument of the module's call in ``forward`` (``mask=...``) that the
    block cannot take."""

    def describe(self, class_name: str) -> str:
        """``TransformerEncoder called with mask=a tensor, which ...``."""
        return f"{class_name} called with {self.argument}={show(self.value)} {self.reason}"


def refuse_call_arguments(call_kwargs: Mapping[str, Any], allowed: tuple[str, ...] = (),
                          reason: str = "is not supported (the block has no such input)"
                          ) -> None:
    """Refuse the keyword arguments of a module's call that no block parameter
    reads (``None`` and ``False``, the defaults of masks and flags, change nothing).

    Raises:
        CallRefused: the first such argument, with ``reason``.
    """
    for name, value in call_kwargs.items():
        if name in allowed or value is None or value is False:
            continue
        raise CallRefused(name, value, reason)


def show(value: Any) -> str:
    """A short text for a value: a module or function by its type name."""
    if value is MISSING:
        return "?"
    if hasattr(value, "op") and hasattr(value, "target") and hasattr(value, "graph"):
        return "a tensor"  # a traced value (fx node) of the forward
    if hasattr(value, "named_parameters") or inspect.isfunction(value):
        return getattr(value, "__name__", type(value).__name__) if inspect.isfunction(value) \
            else type(value).__name__
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return "tensor"
    return repr(value)


def constructor_arguments(cls: type) -> list[inspect.Parameter]:
    """The named constructor arguments of ``cls`` (or of the first base class
    that names them, when ``__init__`` is ``(*args, **kwargs)`` as in LSTM)."""
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            params = list(inspect.signature(init).parameters.values())[1:]
        except (TypeError, ValueError):
            continue
        named = [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if named or not params:
            return named
    return []


def attribute(mod: Any, name: str) -> Any:
    """The value of constructor argument ``name`` as the module stores it."""
    if name == "dtype":
        # not stored: the weights' type; float32 is what NetCanvas builds
        tensors = [t for _, t in mod.named_parameters()] + [t for _, t in mod.named_buffers()]
        floats = [t.dtype for t in tensors if t.is_floating_point()]
        return None if not floats or all(str(d) == "torch.float32" for d in floats) \
            else floats[0]
    value = getattr(mod, name, MISSING)
    if name == "bias" and not isinstance(value, bool):
        # stored as the bias tensor (or None); it only exists with affine
        # weights, so without them the argument is moot: read as its default
        if getattr(mod, "affine", getattr(mod, "elementwise_affine", True)) is False:
            return True
        return value is not None
    return value


def same(a: Any, b: Any) -> bool:
    """Equality that never raises (tensors compare as different)."""
    if hasattr(a, "shape") or hasattr(b, "shape"):
        return a is b
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b) and type(a) is type(b) or (
            isinstance(a, (int, float)) and isinstance(b, (int, float))
            and not isinstance(a, bool) and not isinstance(b, bool) and a == b)
    except Exception:  # noqa: BLE001  (a foreign __eq__ may raise anything)
        return False


def read_module(spec, mod: Any, readers: Mapping[str, Reader] | None = None,
                skip: tuple[str, ...] = ()) -> dict:
    """Parameter values of ``spec`` read back from module ``mod``.

    Args:
        spec: the block spec the module's class maps to.
        mod: the module instance.
        readers: for arguments the module does not store under their own
            name, how to read them (``{"nhead": lambda m: m.self_attn.num_heads}``);
            also block parameters that are no constructor argument.
        skip: constructor arguments the spec's hook checks itself.

    Returns:
        Raw values by parameter name (see :func:`checked` for validation).

    Raises:
        ImportRefused: an argument has a non-default value no parameter
            represents, or cannot be read back.
    """
    readers = dict(readers or {})
    out: dict = {}
    for arg in constructor_arguments(type(mod)):
        name = arg.name
        if name in skip or name in NO_EFFECT or name in spec.inferred:
            continue
        value = readers.pop(name)(mod) if name in readers else attribute(mod, name)
        if value is MISSING:
            raise ImportRefused(name, MISSING, "cannot be read back from the module, so "
                                "NetCanvas cannot tell whether it is used")
        if name in spec.param_index:
            out[name] = value
        elif name == "dtype" and value is not None:
            raise ImportRefused(name, value, "is not supported (NetCanvas builds float32 "
                                "layers)")
        elif arg.default is inspect.Parameter.empty or not same(value, arg.default):
            raise ImportRefused(name, value)
    for name, read in readers.items():
        out[name] = read(mod)
    return out


def plain(value: Any) -> Any:
    """A stored value as a parameter value: tuples of one repeated number
    become the number (``(3, 3)`` → 3), tuples become lists."""
    if isinstance(value, (tuple, list)):
        items = [plain(v) for v in value]
        return items[0] if items and all(same(v, items[0]) for v in items) else items
    return value


def checked(spec, values: Mapping[str, Any]) -> dict:
    """Validated parameter values, those equal to the block's default left out.

    Raises:
        ImportRefused: a value the block parameter cannot hold (its range or
            choices), with the parameter's own reason.
    """
    out = {}
    for name, raw in values.items():
        param = spec.param_index.get(name)
        if param is None or name in spec.inferred:
            continue
        value = plain(raw)
        try:
            value = param.check(value)
        except ParamError as exc:
            raise ImportRefused(name, raw, f"cannot be represented ({exc})") from None
        if name == "stride" and param.default is None and same(plain(values.get("kernel_size")),
                                                               plain(value)):
            continue  # PyTorch stores the default stride (None) as the kernel size
        if not param.is_default(value):
            out[name] = list(value) if isinstance(value, tuple) else value
    return out


def module_params(spec, mod: Any, call_kwargs: Mapping[str, Any] | None = None) -> dict:
    """The block parameters that rebuild ``mod`` exactly (defaults left out).

    Args:
        spec: the block spec ``mod``'s class maps to.
        mod: the module instance.
        call_kwargs: the keyword arguments of the call in ``forward``
            (``attn_mask``, ``is_causal``), for blocks whose parameters say
            how they are called.

    Raises:
        ImportRefused: see :func:`read_module`; :class:`CallRefused` for an
            argument of the call that the block has no parameter for.
    """
    hook = spec.from_module
    if hook is None:  # a hook reads the call's arguments it knows and refuses the rest
        refuse_call_arguments(call_kwargs or {})
    values = hook(mod, dict(call_kwargs or {})) if hook is not None else read_module(spec, mod)
    return checked(spec, values)
