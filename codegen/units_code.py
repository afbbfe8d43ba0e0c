"""Units in generated code: one ``nn.Module`` subclass per unit.

Algorithm: every configuration a unit is used with (its resolved parameters
and input types, for each instance, each copy of a repeated one, and each use
inside another unit) is read from the analysis.  For each configuration the
unit's inner graph is analysed again with *named* values
(:class:`graph.units.Sym`): the unit's parameters carry their own names and
the inputs' sizes names such as ``in_channels``, so the layers come out as
``nn.Conv2d(in_channels, channels, kernel_size=3, stride=stride)``, the way
torchvision writes ``BasicBlock(inplanes, planes, stride)``.  The sizes the
code uses become constructor arguments, then the unit's parameters (with
their defaults).  If the configurations still give different ``__init__``
code (a size worked out from a spatial size, say), each literal that differs
becomes one more constructor argument; each instance passes its values.
A repeated instance is an ``nn.Sequential`` of copies, so state-dict keys
nest as ``layer1.0.conv1.weight``.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field

from graph.analysis import Analyzer
from graph.blocks.base import TT, Emit, Src, call, lit
from graph.names import Namespace
from graph.problems import ERROR
from graph.unit_values import freeze, plain, symbol

from .errors import CodegenError
from .inits import HELPER_NAMES as INIT_HELPER_NAMES
from .module_code import ModuleParts, class_lines, module_parts

_SIZE_NAMES = {2: {1: "in_features"}, 3: {1: "in_channels", 2: "in_features"},
               4: {1: "in_channels", 2: "in_height", 3: "in_width"},
               5: {1: "in_channels", 2: "in_depth", 3: "in_height", 4: "in_width"}}
_LITERAL_NAMES = {"True", "False", "None"}


def _key(p, ins) -> tuple:
    return (freeze(dict(p)), tuple(sorted((port, tt) for port, tt in ins.items())))


@dataclass
class _Class:
    name: str
    unit: object
    sizes: list = field(default_factory=list)  # (argument, port, dim)
    extra: list = field(default_factory=list)  # argument names
    extra_values: dict = field(default_factory=dict)  # configuration key → values
    parts: ModuleParts | None = None

    def call(self, p, ins) -> str:
        sizes = [ins[port].shape[dim] for _, port, dim in self.sizes]
        extra = []
        if self.extra:
            try:
                extra = self.extra_values[_key(p, ins)]
            except KeyError:
                raise CodegenError(f"internal error: unit {self.unit.name} used in a way "
                                   "the analysis did not see") from None
        params = {k: p[k] for k in self.unit.params}
        return call(self.name, *sizes, *extra, defaults=self.unit.params, **params)


class UnitClasses:
    """The classes of the units a project uses, and how instances call them.

    Args:
        graph: the project's graph (analysed, valid).
        an: its analyser.
        helpers: the helper names the file defines (the units' are added).
    """

    def __init__(self, graph, an, helpers: list[str]):
        self.helpers = helpers
        # named-value analyses run on a copy: their caches stay apart
        self.copy = graph.copy()
        self.configs: dict[str, dict] = {}
        self._collect(graph, an.results)
        ns = Namespace(set(helpers) | set(INIT_HELPER_NAMES))
        self.class_names = {name: ns.add(name) for name in self._order()}
        self.classes: dict[str, _Class] = {}
        for name in self.class_names:
            self.classes[name] = self._build(name)

    # ------------------------------------------------------------ collecting
    def _collect(self, graph, results) -> None:
        for nid, node in graph.nodes.items():
            spec = node.spec
            unit = getattr(spec, "unit", None)
            r = results.get(nid)
            if unit is None or r is None or r.outs is None:
                continue
            for k in range(spec.repeat):
                prefix = f"{k}." if spec.repeat > 1 else ""
                ins = {port.name: r.inner[prefix + port.name].outs["out"]
                       for port in spec.inputs}
                self.configs.setdefault(unit.name, {})[_key(r.params, ins)] = (r.params, ins)
                inner = {rid[len(prefix):]: rr for rid, rr in r.inner.items()
                         if rid.startswith(prefix)}
                self._collect(unit.graph, inner)

    def _order(self) -> list[str]:
        """The used units, each after the units it uses (defined before use)."""
        out: list[str] = []

        def visit(name: str) -> None:
            if name in out or name not in self.configs:
                return
            for used in sorted(self.copy.units[name].uses()):
                visit(used)
            out.append(name)

        for name in self.copy.units:
            visit(name)
        return out

    # ------------------------------------------------------------ building
    def _build(self, name: str) -> _Class:
        unit = self.copy.units[name]
        cls = _Class(self.class_names[name], unit)
        configs = list(self.configs[name].values())
        ns = Namespace(set(unit.params))
        names: dict[tuple[str, int], str] = {}
        for port, tt in configs[0][1].items():
            for dim in range(1, tt.rank):
                base = _SIZE_NAMES.get(tt.rank, {}).get(dim, f"in_size{dim}")
                if len(configs[0][1]) > 1:
                    base = f"{port}_{base[3:]}"
                names[(port, dim)] = ns.add(base)
        taken = set(self.class_names.values()) | set(names.values()) | set(unit.params)
        texts = []
        all_parts = []
        for p, ins in configs:
            seeds = {port: TT(("N",) + tuple(
                symbol(d, names[(port, i)]) if type(d) is int else d
                for i, d in enumerate(tt.shape[1:], 1)), tt.dtype) for port, tt in ins.items()}
            bindings = {k: symbol(plain(v), k) for k, v in p.items()}
            an = Analyzer(unit.graph, memory=None, watch=False, seeds=seeds, bindings=bindings,
                          symbolic=True).run_network()
            errors = [pr for r in an.results.values() for pr in r.problems
                      if pr.severity == ERROR]
            if errors:
                raise CodegenError(f"internal error: unit {name} does not check with named "
                                   f"sizes: {errors[0].message}")
            parts = module_parts(unit.graph, an.order(), an.results, self.helpers, self.emit,
                                 arg_names=lambda n: n.id, taken=taken)
            all_parts.append(parts)
            texts.append(parts.init_lines + parts.init_calls)
            if parts.body != all_parts[0].body:
                raise CodegenError(f"the instances of unit {name} need different forward code; "
                                   "give them the same kind of inputs")
        parts = all_parts[0]
        if any(t != texts[0] for t in texts):
            lines = self._parametrise(cls, configs, texts, taken)
            parts.init_lines = lines[:len(parts.init_lines)]
            parts.init_calls = lines[len(parts.init_lines):]
        used = " ".join(parts.init_lines + parts.init_calls)
        cls.sizes = [(arg, port, dim) for (port, dim), arg in names.items()
                     if re.search(rf"\b{arg}\b", used)]
        args = [a for a, _, _ in cls.sizes] + cls.extra + list(unit.params)
        self._forward_arguments(parts, set(unit.params) | {a for a, _, _ in cls.sizes})
        # _init_weights is a method of its own: the arguments it uses are passed on
        in_init = {t.string for line in parts.init_calls
                   for t in _argument_uses(line, set(args))}
        parts.init_args = [a for a in args if a in in_init]
        cls.parts = parts
        return cls

    def _forward_arguments(self, parts: ModuleParts, args: set[str]) -> None:
        """A constructor argument that ``forward`` uses is kept as ``self.<name>``."""
        used = {t.string for line in parts.body for t in _tokens(line)
                if t.type == tokenize.NAME and t.string in args}
        for name in sorted(used):
            parts.init_lines.insert(0, f"self.{name} = {name}")
        if used:
            parts.body = [_rename(line, used) for line in parts.body]

    def _parametrise(self, cls: _Class, configs, texts, taken) -> list[str]:
        """Template lines where each literal that differs between configurations
        is a new argument (or a unit parameter with those values)."""
        toks = [[list(_tokens(line)) for line in lines] for lines in texts]
        groups: dict[tuple, str] = {}
        spots: list[tuple[int, int, int, str]] = []
        ns = Namespace(taken)
        for li in range(len(texts[0])):
            first = toks[0][li]
            if any(len(t[li]) != len(first) for t in toks):
                raise CodegenError(f"the instances of unit {cls.unit.name} need different code "
                                   f"for {texts[0][li].split(' = ')[0]}; use one unit per kind")
            for ti, tok in enumerate(first):
                variants = [t[li][ti] for t in toks]
                if all(v.string == tok.string for v in variants):
                    continue
                if not all(v.type in (tokenize.NUMBER, tokenize.STRING) or
                           v.string in _LITERAL_NAMES for v in variants):
                    raise CodegenError(f"the instances of unit {cls.unit.name} need different "
                                       f"code for {texts[0][li].split(' = ')[0]}")
                values = tuple(ast.literal_eval(v.string) for v in variants)
                arg = groups.get(values)
                if arg is None:
                    arg = next((k for k in cls.unit.params
                                if tuple(plain(p.get(k)) for p, _ in configs) == values), None)
                if arg is None:
                    attr = texts[0][li].split(" = ")[0].removeprefix("self.")
                    kw = first[ti - 2].string if ti >= 2 and first[ti - 1].string == "=" \
                        else "arg"
                    arg = ns.add(f"{attr}_{kw}")
                    cls.extra.append(arg)
                    for k, (p, ins) in enumerate(configs):
                        cls.extra_values.setdefault(_key(p, ins), []).append(values[k])
                groups[values] = arg
                spots.append((li, tok.start[1], tok.end[1], arg))
        lines = list(texts[0])
        for li, start, end, arg in sorted(spots, reverse=True):
            lines[li] = lines[li][:start] + arg + lines[li][end:]
        return lines

    # ------------------------------------------------------------ using
    def emit(self, node, ctx, result) -> Emit:
        """The code of a layer in a module body; a unit instance calls its class."""
        spec = node.spec
        unit = getattr(spec, "unit", None)
        if unit is None:
            return spec.emit(ctx)
        cls = self.classes[unit.name]
        calls = []
        for k in range(spec.repeat):
            if k == 0:
                ins = {port: tts[0] for port, tts in ctx.ins.items()}
            else:
                ins = {port.name: result.inner[f"{k}.{port.name}"].outs["out"]
                       for port in spec.inputs}
            calls.append(cls.call(ctx.p, ins))
        if spec.repeat == 1:
            return Emit(init=calls[0])
        return Emit(init=call("nn.Sequential", *(Src(c) for c in calls)))

    def source_lines(self) -> list[str]:
        """The classes, each defined before its first use."""
        out: list[str] = []
        for cls in self.classes.values():
            args = [a for a, _, _ in cls.sizes] + cls.extra
            args += [f"{k}={lit(v)}" for k, v in cls.unit.params.items()]
            doc = ['    """A unit designed in NetCanvas (one instance per use)."""']
            if out:
                out += ["", ""]
            out.extend(class_lines(cls.name, doc, "".join(f", {a}" for a in args), cls.parts))
        return out


def _tokens(line: str):
    try:
        return [t for t in tokenize.generate_tokens(io.StringIO(line).readline)
                if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER)]
    except (tokenize.TokenError, SyntaxError):
        return []


def _argument_uses(line: str, names: set[str]) -> list:
    """The tokens of ``line`` that read one of ``names`` (not an attribute, not a keyword)."""
    toks = _tokens(line)
    return [t for i, t in enumerate(toks)
            if t.type == tokenize.NAME and t.string in names and
            not (i and toks[i - 1].string == ".") and
            not (i + 1 < len(toks) and toks[i + 1].string == "=" and _in_call(toks, i))]


def _rename(line: str, names: set[str]) -> str:
    spots = _argument_uses(line, names)
    for t in reversed(spots):
        line = line[:t.start[1]] + f"self.{t.string}" + line[t.end[1]:]
    return line


def _in_call(toks, i) -> bool:
    depth = 0
    for t in toks[:i]:
        if t.type == tokenize.OP:
            depth += t.string in ("(", "[", "{")
            depth -= t.string in (")", "]", "}")
    return depth > 0
