"""Recurrent blocks: RNN, LSTM, GRU.

Each takes a sequence N×T×F (T may be a variable size such as ``"T"``) and
returns either every step's output, N×T×(D·H), or — with
``return_sequences`` false — the last layer's final hidden state, N×(D·H),
where D is 2 for a bidirectional layer and H is ``hidden_size`` (an LSTM's
``proj_size`` when set).  With ``batch_first`` false (PyTorch's default, as
imported models use it) the sequence is T×N×F: the first two dimensions
swap roles, and only every step's output is offered (the final state would
lose the first dimension the network treats as its batch).  The final
state is read from PyTorch's ``h_n`` rather than from the last time step,
because the backward direction of a bidirectional layer ends at t = 0.

State ports: the optional inputs ``h0`` (and an LSTM's ``c0``) set the
initial state, and the outputs ``h_n`` (and ``c_n``) give the final state of
every layer and direction.  PyTorch keeps these states as
(layers·directions)×N×H, with the batch second even when ``batch_first`` is
true; on the canvas every tensor has its batch first, so the ports are
N×(layers·directions)×H and the generated code transposes at the call
(``self.gru(x, h0.transpose(0, 1).contiguous())``, ``h_n.transpose(0, 1)``).
The batch of a sequence-first layer's state is its input's dim 1.
"""

from __future__ import annotations

from .. import dims
from ..problems import Code
from .base import TT, BlockSpec, Ctx, Emit, Param, Port, call
from .module_import import read_module
from .registry import get, register

#: Gate blocks per hidden unit: PyTorch stacks this many H×· matrices.
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}

_DEFAULTS = {"num_layers": 1, "bias": True, "dropout": 0.0, "bidirectional": False,
             "nonlinearity": "tanh", "proj_size": 0}

BATCH_FIRST = Param("batch_first", "bool", True,
                    "true: sequences are N×T×features; false: T×N×features (time "
                    "first, PyTorch's default)", advanced=True)


def _params(kind: str) -> tuple[Param, ...]:
    params = (
        Param("hidden_size", "int", 64, "features of the hidden state h", min=1),
        Param("num_layers", "int", 1, "recurrent layers stacked on top of each other", min=1),
        Param("bias", "bool", True, "learn the biases b_ih and b_hh"),
        Param("dropout", "float", 0.0,
              "dropout between stacked layers (no effect with one layer)", min=0, max=1),
        Param("bidirectional", "bool", False,
              "also read the sequence backwards; doubles the output features"),
    )
    if kind == "RNN":
        params += (Param("nonlinearity", "choice", "tanh", "activation of the hidden state",
                         choices=("tanh", "relu")),)
    if kind == "LSTM":
        params += (Param("proj_size", "int", 0, "project the hidden state h to this many "
                         "features (0: no projection); below hidden_size", min=0,
                         advanced=True),)
    return params + (BATCH_FIRST,

        Param("return_sequences", "bool", True,
              "true: every step's output N×T×(D·H); false: the final hidden state N×(D·H)"),
    )


def _directions(ctx: Ctx) -> int:
    return 2 if ctx.p.bidirectional else 1


def _state_size(ctx: Ctx) -> int:
    """Features of h per direction: the LSTM's projection, else hidden_size."""
    return ctx.p.get("proj_size") or ctx.p.hidden_size


def _time_axis(ctx: Ctx) -> int:
    return 1 if ctx.p.batch_first else 0


def _states(ctx: Ctx) -> tuple[tuple[str, str, int, str], ...]:
    """(input port, output port, features, what) of each state the block keeps:
    h (an LSTM's projection size when set), and an LSTM's cell state c."""
    h = ("h0", "h_n", _state_size(ctx), "hidden state")
    if ctx.spec.type == "LSTM":
        return h, ("c0", "c_n", ctx.p.hidden_size, "cell state")
    return (h,)


def _rule(ctx: Ctx) -> dict:
    x = ctx.x()
    layout = "N×T×features" if ctx.p.batch_first else "T×N×features"
    ctx.need_rank(x, (3,), layout, adds="steps")
    ctx.infer("input_size", ctx.need_concrete(x.shape[-1], "number of input features"))
    proj = ctx.p.get("proj_size", 0)
    if proj >= ctx.p.hidden_size:
        ctx.fail(Code.PARAM, f"proj_size={proj} must be below hidden_size={ctx.p.hidden_size} "
                 "(or 0 for no projection)",
                 fix={"kind": "set_param", "param": "proj_size", "value": 0})
    features = _directions(ctx) * _state_size(ctx)
    batch = x.shape[0] if ctx.p.batch_first else x.shape[1]
    stacks = ctx.p.num_layers * _directions(ctx)
    outs = {}
    given = [port for port, _, _, _ in _states(ctx) if ctx.x(port) is not None]
    for port, out_port, size, what in _states(ctx):
        want = TT((batch, stacks, size))
        got = ctx.x(port)
        if given and got is None:
            ctx.fail(Code.UNCONNECTED, f"the initial {what} {port} is not connected: "
                     f"PyTorch takes an LSTM's h0 and c0 together; connect {port} "
                     f"({want}) too, or neither", port=port)
        if got is not None and tuple(got.shape) != want.shape:
            ctx.fail(Code.SIZE, f"the initial {what} {port} must be {want} (batch × "
                     f"num_layers·directions {stacks} × {size} features) but receives {got}",
                     port=port)
        outs[out_port] = want
    if ctx.p.return_sequences:
        return {"out": TT(x.shape[:2] + (features,)), **outs}
    if not ctx.p.batch_first:
        # h_n is batch×features with the batch second in the input: no first
        # dimension the rest of the network could keep as its batch
        ctx.fail(Code.PARAM, "the final hidden state of a sequence-first layer (batch_first "
                 "false) drops the first dimension; use batch_first true, or keep "
                 "return_sequences and select a time step",
                 fix={"kind": "set_param", "param": "batch_first", "value": True})
    return {"out": TT((x.shape[0], features)), **outs}


def _layer_inputs(ctx: Ctx) -> list[int]:
    """Input features of each stacked layer (later layers read both directions)."""
    out = _state_size(ctx)
    return [ctx.inferred["input_size"]] + [_directions(ctx) * out] * (ctx.p.num_layers - 1)


def _count(ctx: Ctx) -> int:
    g, h, out = GATES[ctx.spec.type], ctx.p.hidden_size, _state_size(ctx)
    projection = out * h if out != h else 0  # LSTM's W_hr
    per_direction = sum(g * h * (n_in + out) + (2 * g * h if ctx.p.bias else 0) + projection
                        for n_in in _layer_inputs(ctx))
    return _directions(ctx) * per_direction


def _flops(ctx: Ctx) -> int:
    g, h, out = GATES[ctx.spec.type], ctx.p.hidden_size, _state_size(ctx)
    steps = dims.nominal(ctx.x().shape[_time_axis(ctx)])
    projection = 2 * out * h if out != h else 0
    # matrix products, plus a few element-wise operations per gate unit
    per_step = sum(2 * g * h * (n_in + out) + 4 * g * h + projection
                   for n_in in _layer_inputs(ctx))
    return steps * _directions(ctx) * per_step


def _activations(ctx: Ctx) -> int:
    steps = dims.nominal(ctx.x().shape[_time_axis(ctx)])
    g, h = GATES[ctx.spec.type], ctx.p.hidden_size
    # gate values and hidden states of every layer and step are kept for backward
    return steps * _directions(ctx) * ctx.p.num_layers * (g + 1) * h


def _emit(ctx: Ctx) -> Emit:
    kind, p = ctx.spec.type, ctx.p
    kwargs = {"num_layers": p.num_layers, "bias": p.bias, "batch_first": p.batch_first}
    if p.num_layers > 1:
        # PyTorch warns about dropout on a single layer, where it does nothing
        kwargs["dropout"] = p.dropout
    kwargs["bidirectional"] = p.bidirectional
    if kind == "RNN":
        kwargs["nonlinearity"] = p.nonlinearity
    if kind == "LSTM":
        kwargs["proj_size"] = p.proj_size
    ctor = call(f"nn.{kind}", ctx.inferred["input_size"], p.hidden_size,
                defaults=_DEFAULTS, **kwargs)
    states = _states(ctx)
    return Emit(init=ctor, forward=lambda m: _forward(m, states, p))


def _forward(m, states, p) -> str:
    """``out, h_n = self.gru(x, h0)`` with the states batch-first on the canvas side.

    ``m`` maps the input ports to variables (``"None"`` when not connected)
    and ``"out:<port>"`` to each output's variable (None when nothing reads it).
    """
    # torch's states are (layers·directions)×N×H: the canvas's batch-first
    # tensors are transposed on the way in and out
    given = [f"{m[port]}.transpose(0, 1).contiguous()" for port, _, _, _ in states
             if m.get(port, "None") != "None"]
    args = m["in"]
    if given:
        args += ", " + (given[0] if len(given) == 1 else f"({', '.join(given)})")
    out = m.get("out:out", m["out"])
    used = {o: m.get(f"out:{o}") for _, o, _, _ in states}
    h_var = used["h_n"]
    if not p.return_sequences and h_var is None:
        h_var = out  # the final state is read from h_n, which is otherwise unused
    names = [h_var] + [used[o] for _, o, _, _ in states[1:]]
    names = [v or "_" for v in names]
    state = names[0] if len(names) == 1 else \
        ("_" if set(names) == {"_"} else f"({', '.join(names)})")
    first = (out or "_") if p.return_sequences else "_"
    lines = [f"{first}, {state} = {m['self']}({args})"]
    if not p.return_sequences and out is not None:
        # h_n is (layers·directions)×N×H; the last layer's directions come last
        last = (f"torch.cat(({h_var}[-2], {h_var}[-1]), dim=1)" if p.bidirectional
                else f"{h_var}[-1]")
        lines.append(f"{out} = {last}")
    for _, o, _, _ in states:
        if used[o] is not None:
            lines.append(f"{used[o]} = {used[o]}.transpose(0, 1)")
    return "\n".join(lines)


def _reader(kind: str):
    """``nn.RNN/LSTM/GRU`` → parameters; ``mode`` is the class itself, and an
    RNN keeps ``nonlinearity`` outside the constructor it shares with the others."""

    def from_module(mod, call_kwargs) -> dict:
        readers = {"nonlinearity": lambda m: m.nonlinearity} if kind == "RNN" else {}
        return read_module(get(kind), mod, readers=readers, skip=("mode",))

    return from_module


_PORT_DOCS = {
    "h0": "initial hidden state, N×(num_layers·directions)×H (zeros when not connected)",
    "c0": "initial cell state, N×(num_layers·directions)×hidden_size (with h0)",
    "h_n": "final hidden state of every layer and direction, N×(num_layers·directions)×H",
    "c_n": "final cell state of every layer and direction, "
           "N×(num_layers·directions)×hidden_size",
}


def _ports(kind: str, main: str, h: str, c: str) -> tuple[Port, ...]:
    """The sequence port and the state ports (an LSTM also has its cell state)."""
    names = (h, c) if kind == "LSTM" else (h,)
    inputs = main == "in"
    return (Port(main),) + tuple(Port(n, optional=inputs, doc=_PORT_DOCS[n]) for n in names)


_STATE_DETAILS = (
    "States: connect {ins} to start from a given state (zeros otherwise), and read "
    "{outs} for the final state of every layer and direction, e.g. to return it or "
    "to start a decoder. On the canvas they are batch first, N×(num_layers·directions)×H; "
    "PyTorch's own layout is (num_layers·directions)×N×H, so the generated code "
    "transposes them at the call.")
_DETAILS = {
    "RNN": _STATE_DETAILS.format(ins="h0", outs="h_n"),
    "GRU": _STATE_DETAILS.format(ins="h0", outs="h_n"),
    "LSTM": _STATE_DETAILS.format(ins="h0 and c0 (both or neither)", outs="h_n and c_n")
    + " With proj_size, h is proj_size wide and c hidden_size wide.",
}


def _spec(kind: str, doc: str, formula: str) -> BlockSpec:
    return BlockSpec(
        type=kind, family="recurrence", weights=True, doc=doc, formula=formula,
        params=_params(kind), inferred=("input_size",),
        inputs=_ports(kind, "in", "h0", "c0"), outputs=_ports(kind, "out", "h_n", "c_n"),
        rule=_rule, count=_count, flops=_flops, activations=_activations, emit=_emit,
        from_module=_reader(kind),
        module_args=(("input", "in"), ("hx", ("h0", "c0") if kind == "LSTM" else "h0")),
        module_result=("out", ("h_n", "c_n") if kind == "LSTM" else "h_n"),
        batch_second=("h0", "c0", "h_n", "c_n") if kind == "LSTM" else ("h0", "h_n"),
        keywords=("recurrent", "rnn", "sequence", "time series"),
        details=_DETAILS[kind],
    )


register(
    _spec("RNN", "Simple (Elman) recurrent layer: the hidden state is updated from "
          "the previous state and the current input at every time step.",
          "h_t = tanh(W_ih·x_t + b_ih + W_hh·h_(t−1) + b_hh)"),
    _spec("LSTM", "Long short-term memory: a recurrent layer whose gated cell state "
          "keeps information over many time steps.",
          "i,f,g,o = σ,σ,tanh,σ(W_ih·x_t + W_hh·h_(t−1) + b); c_t = f⊙c_(t−1) + i⊙g; "
          "h_t = o⊙tanh(c_t)"),
    _spec("GRU", "Gated recurrent unit: a lighter gated recurrent layer (reset and "
          "update gates, no separate cell state).",
          "r,z = σ(W·x_t + U·h_(t−1) + b); n = tanh(W_n·x_t + r⊙(U_n·h_(t−1)) + b_n); "
          "h_t = (1−z)⊙n + z⊙h_(t−1)"),
)
