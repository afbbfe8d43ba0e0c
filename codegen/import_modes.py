"""What an import must keep besides the numbers of one forward pass: the model's
behaviour in training, and where gradients flow.

The check after an import (:func:`codegen.import_checks.verify`) compares
outputs in evaluation mode; two things it cannot see are caught here:

- **A forward that depends on the mode** (``if self.training: ...``): the
  model is traced in training mode and in evaluation mode, and if the two
  traces call different operations, the import is refused at the first line
  where they part (:func:`mode_difference`).  ``F.dropout(x,
  training=self.training)`` traces the same in both and follows the mode as
  the ``Dropout`` block does.
- **Gradients stopped** by ``torch.no_grad()`` or ``.detach()``
  (:class:`Gradients`): a value that depends on no trained weight (the
  model's inputs, and what is computed from them alone) loses nothing; a
  layer with weights computed under ``no_grad`` from such a value is a frozen
  block (its weights are never trained, exactly as ``frozen`` does), unless
  it keeps running statistics (a frozen BatchNorm keeps them fixed, under
  ``no_grad`` they still move).  Stopping the gradient of a value that
  depends on trained weights has no block and is refused.

The tracer tags every fx node with the grad mode it was made in
(``node.meta["grad"]``, see :func:`record_grad_mode`).
"""

from __future__ import annotations

from . import import_training

GRAD = "grad"


def record_grad_mode(node) -> None:
    """Tag a node just created by the tracer with the current grad mode."""
    import torch

    node.meta[GRAD] = torch.is_grad_enabled()


def _calls(graph, skip=frozenset()) -> list:
    return [n for n in graph.nodes if n.op not in ("placeholder", "output") and n not in skip]


def mode_difference(trace, module, other_mode_trace, skip=frozenset()):
    """The first fx node of ``trace`` (or of the other mode's trace) where the
    two traces part, or None when both call the same operations in order.

    Args:
        trace: the fx graph traced in the model's current mode.
        module: the model (for the modes' names in the message).
        other_mode_trace: the fx graph traced in the other mode.
        skip: nodes of either trace left out of the comparison (what a
            block computes only while training: :mod:`codegen.import_training`).

    Returns:
        ``(node, reason)`` or None.
    """
    mine, other = _calls(trace, skip), _calls(other_mode_trace, skip)
    for k in range(max(len(mine), len(other))):
        a = mine[k] if k < len(mine) else None
        b = other[k] if k < len(other) else None
        if a is not None and b is not None and (a.op, a.target) == (b.op, b.target):
            continue
        training = module.training
        train_node = a if training else b
        node = train_node if train_node is not None else (b if training else a)
        reason = ("forward computes something else in training than in evaluation "
                  "(it reads self.training here); a block follows the mode only as "
                  "Dropout and BatchNorm do, and as "
                  f"{', '.join(sorted({p.spec.type for p in import_training.patterns()}))} "
                  "adds noise")
        return node, reason
    return None


class Gradients:
    """Which traced values carry gradients of trained weights, and what
    ``no_grad``/``.detach()`` make of them (see the module docstring)."""

    def __init__(self, root):
        self.root = root
        self.free: set = set()  # fx nodes whose value depends on no trained weight

    def _inputs(self, n) -> list:
        out = []

        def walk(a):
            if hasattr(a, "op"):
                out.append(a)
            elif isinstance(a, (list, tuple)):
                for x in a:
                    walk(x)
            elif isinstance(a, dict):
                for x in a.values():
                    walk(x)

        walk(list(n.args) + list(n.kwargs.values()))
        return out

    def _module(self, n):
        if n.op != "call_module":
            return None
        return self.root.get_submodule(n.target)

    def _trained(self, n) -> bool:
        """Whether the call itself uses weights that are trained."""
        mod = self._module(n)
        if mod is not None:
            return any(p.requires_grad for p in mod.parameters())
        return n.op == "get_attr"

    def _stored_frozen(self, b, n) -> bool:
        """A layer whose weights are all frozen (``requires_grad=False``, as
        exported code writes a frozen block, or ``Embedding(_freeze=True)``)
        is a frozen block; False when that cannot be said exactly (refused)."""
        mod = self._module(n)
        if mod is None or (b.units is not None and b.units.is_leaf(mod)):
            return True  # a unit's own import reads the blocks inside it
        frozen = [not p.requires_grad for p in mod.parameters()]
        if not any(frozen):
            return True
        what = f"module {n.target} ({type(mod).__name__})"
        if not all(frozen):
            b.bad.append(f"{what} has some weights frozen (requires_grad=False) and others "
                         "not; a block is frozen whole")
            return False
        if any(True for _ in mod.buffers()) and not _kept_in_eval(self.root, mod):
            b.bad.append(f"{what} has frozen weights but keeps updating its statistics in "
                         "training, which a frozen block does not")
            return False
        nid = b.val.get(n, ("?", None))[1]
        if isinstance(nid, str) and nid in b.g.nodes:
            b.g.set_frozen(nid, True)
        return True

    def check(self, b, n) -> None:
        """After node ``n`` was mapped: refuse a stopped gradient, or freeze
        the block a ``no_grad`` layer became."""
        if n.op == "placeholder":
            self.free.add(n)
            return
        if n.op == "output" or not self._stored_frozen(b, n):
            return
        inputs_free = all(a in self.free for a in self._inputs(n))
        stops = n.meta.get(GRAD, True) is False or (
            n.op == "call_method" and n.target == "detach")
        if not stops:
            if inputs_free and not self._trained(n):
                self.free.add(n)
            return
        self.free.add(n)
        if not inputs_free:
            what = ".detach()" if n.meta.get(GRAD, True) else "computing under torch.no_grad()"
            b.bad.append(f"{what} stops the gradients of the layers before it; no block "
                         "does that")
            return
        mod = self._module(n)
        tag = b.val.get(n, ("?", None))
        nid = tag[1] if len(tag) > 1 else None
        if mod is None or not self._trained(n) or not isinstance(nid, str) \
                or nid not in b.g.nodes:
            return
        if any(True for _ in mod.buffers()):
            b.bad.append(f"module {n.target} ({type(mod).__name__}) under torch.no_grad() "
                         "keeps updating its statistics in training, which a frozen block "
                         "does not")
            return
        b.g.set_frozen(nid, True)  # its weights are never trained


#: Functions whose values are drawn at random (or left uninitialised) on every
#: call: what they feed could never be the same network twice.
_RANDOM = ("rand", "rand_like", "randn", "randn_like", "randint", "randint_like", "randperm",
           "normal", "bernoulli", "multinomial", "poisson", "empty", "empty_like",
           "normal_", "uniform_", "random_", "bernoulli_", "exponential_", "cauchy_")


def random_call(n) -> str | None:
    """The name of the random function a traced call is (``torch.randn``,
    ``x.normal_()``), or None."""
    import torch

    if n.op == "call_method":
        return n.target if n.target in _RANDOM else None
    if n.op != "call_function":
        return None
    name = getattr(n.target, "__name__", None)
    if name in _RANDOM and getattr(torch, name, None) is n.target:
        return name
    return None


def _kept_in_eval(root, mod) -> bool:
    """Whether ``root.train()`` leaves ``mod`` in evaluation mode (exported code
    keeps a frozen normalisation layer's statistics fixed that way)."""
    modes = [(m, m.training) for m in root.modules()]
    try:
        root.train()
        return not mod.training
    finally:
        for m, mode in modes:
            m.training = mode
