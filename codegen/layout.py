"""Line layout of generated code: the subset of black's rules our code needs.

The generator writes each statement on one logical line; :func:`wrap` splits
one that is longer than 88 columns the way ``black`` (stable style) does, so
an exported file is already black-formatted (the test suite checks this with
black itself, which is only a development dependency):

* ``def f(a, b):`` that is too long: the parameters go on their own line, or
  one per line with a trailing comma when they still do not fit;
* a statement ending in brackets (a call, possibly followed by ``[0]``): split
  at the last bracket pair whose opening line fits (``x = f(`` / body / ``)``);
  a body that does not fit on one line is exploded at its top-level commas,
  one item per line with a magic trailing comma, recursively;
* an assignment or ``return`` with no such bracket: the value goes into
  parentheses on its own lines (a bare tuple exploded one item per line).
"""

from __future__ import annotations

import io
import tokenize

LINE = 88
_OPEN, _CLOSE = "([{", ")]}"


def wrap(line: str, indent: int) -> list[str]:
    """Indent one logical line and split it the way black would."""
    pad = " " * indent
    if len(pad) + len(line) <= LINE or "\n" in line:
        return [pad + line]
    toks = _tokens(line)
    if toks is None:
        return [pad + line]
    if line.startswith("def ") and line.endswith(":"):
        o = line.index("(")
        c = _match(toks, o)
        body = line[o + 1 : c]
        return [pad + line[: o + 1]] + _contents(body, indent + 4, force=False) + [pad + line[c:]]
    prefix, value = _split_prefix(line, toks)
    got = _at_trailer(prefix, value, indent)
    if got is not None:
        return got
    if prefix.endswith("= ") or prefix == "return ":
        # a bare tuple becomes a parenthesised collection: black explodes it,
        # one item per line with a trailing comma, even when the items would fit
        tuple_ = any(s == "," for s, _, _ in _depth0(_tokens(value) or [])[0])
        return [pad + prefix + "("] + _contents(value, indent + 4, force=tuple_) + [pad + ")"]
    return [pad + line]


def _tokens(text: str) -> list[tuple[str, int, int]] | None:
    """(token text, start, end) character offsets of a one-line fragment."""
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER,
                            tokenize.INDENT, tokenize.DEDENT):
                continue
            out.append((tok.string, tok.start[1], tok.end[1]))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    return out


def _match(toks, open_at: int) -> int:
    depth = 0
    for s, a, _ in toks:
        if a < open_at:
            continue
        if s in _OPEN:
            depth += 1
        elif s in _CLOSE:
            depth -= 1
            if depth == 0:
                return a
    raise ValueError("unbalanced brackets")


def _depth0(toks):
    """Tokens at bracket depth 0 with their index, plus pairs (open, close)."""
    depth, flat, pairs, stack = 0, [], [], []
    for s, a, b in toks:
        if s in _CLOSE:
            depth -= 1
            o = stack.pop()
            if depth == 0:
                pairs.append((o, a))
                flat.append((s, a, b))
            continue
        if depth == 0:
            flat.append((s, a, b))
        if s in _OPEN:
            stack.append(a)
            depth += 1
    return flat, pairs


def _split_prefix(line: str, toks) -> tuple[str, str]:
    flat, _ = _depth0(toks)
    for s, _, b in flat:
        if s == "=":
            return line[:b] + " ", line[b:].lstrip()
    if line.startswith("return "):
        return "return ", line[7:]
    return "", line


def _trailers(value: str) -> list[tuple[int, int]]:
    """Bracket pairs that end ``value`` (rightmost first): ``f(a)[0]`` → ``[0]``, ``(a)``."""
    toks = _tokens(value)
    if not toks:
        return []
    flat, pairs = _depth0(toks)
    by_close = {c: o for o, c in pairs}
    out, i = [], len(flat) - 1
    while i >= 0:
        s, a, _ = flat[i]
        if s in _CLOSE:
            o = by_close[a]
            out.append((o, a))
            while i >= 0 and flat[i][1] != o:
                i -= 1
            i -= 1
        elif s.isidentifier() and i > 0 and flat[i - 1][0] == ".":
            i -= 2
        else:
            break
    length, kept = 0, []
    for o, c in out:
        kept.append((o, c))
        length += len(value) - o
        if length > LINE:
            break
    return kept


def _at_trailer(prefix: str, value: str, indent: int) -> list[str] | None:
    pad = " " * indent
    for o, c in _trailers(value):
        head = prefix + value[: o + 1]
        body = value[o + 1 : c]
        if len(pad) + len(head) <= LINE and body.strip():
            return [pad + head] + _contents(body, indent + 4) + [pad + value[c:]]
    return None


def _contents(text: str, indent: int, force: bool = False) -> list[str]:
    """The inside of a bracket pair: one line, or one item per line."""
    pad = " " * indent
    toks = _tokens(text) or []
    flat, _ = _depth0(toks)
    commas = [a for s, a, _ in flat if s == ","]
    magic = bool(commas) and not text[commas[-1] + 1 :].strip()
    if len(pad) + len(text) <= LINE and not magic and not force:
        return [pad + text]
    if not commas:
        return _expr(text, indent)
    items, start = [], 0
    for a in commas:
        items.append(text[start:a].strip())
        start = a + 1
    if text[start:].strip():
        items.append(text[start:].strip())
    out: list[str] = []
    for item in items:
        lines = _expr(item, indent, extra=1)
        if not lines[-1].endswith(","):
            lines[-1] += ","
        out.extend(lines)
    return out


def _expr(text: str, indent: int, extra: int = 0) -> list[str]:
    """An expression inside brackets (``extra``: room for a trailing comma)."""
    pad = " " * indent
    if len(pad) + len(text) + extra <= LINE:
        return [pad + text]
    got = _at_trailer("", text, indent)
    if got is None:
        got = _at_operators(text, indent, extra)
    return got if got is not None else [pad + text]


def _at_operators(text: str, indent: int, extra: int) -> list[str] | None:
    """Split ``a + b * c`` before each top-level operator of the lowest priority."""
    toks = _tokens(text) or []
    flat, _ = _depth0(toks)
    for ops in (("+", "-"), ("*", "/", "//", "%", "@")):
        cuts = [a for k, (s, a, _) in enumerate(flat)
                if s in ops and k > 0 and flat[k - 1][0] not in _OPEN + ",=" + "".join(ops)]
        if cuts:
            parts, start = [], 0
            for a in cuts:
                parts.append(text[start:a].strip())
                start = a
            parts.append(text[start:].strip())
            out = []
            for part in parts:
                out.extend(_expr(part, indent))
            out[-1] += "," * extra
            return out
    return None
