"""Project files as JSON: the defensive decoding that comes before any check.

The bytes are size-checked, refused when they are a pickle or a zip archive,
decoded as UTF-8 and parsed by :mod:`json` with duplicate keys, ``NaN`` /
``Infinity``, numbers too long to read and excessive nesting refused; every
problem is a :class:`ProjectLoadError` saying what is wrong.  Nothing in a file
is ever evaluated as code.
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

#: Largest project file we open; real projects are a few hundred kB.
MAX_BYTES = 50 * 1024 * 1024
#: Deepest nesting of lists/objects accepted (real files need about 6).
MAX_DEPTH = 64


class ProjectLoadError(Exception):
    """A project file cannot be opened; the message says what and where.

    Attributes:
        message: the problem, for a person.
        location: where in the document (``nodes[3].params``), or None.
        source: the file name (or ``"<string>"``).
    """

    def __init__(self, message: str, location: str | None = None, source: str | None = None):
        self.message = message
        self.location = location
        self.source = source
        super().__init__(f"{location}: {message}" if location else message)


def _dupe_check(pairs: list[tuple[str, Any]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):  # rare: find the first repeated key, for the message
        seen: set = set()
        for k, _ in pairs:
            if k in seen:
                raise ProjectLoadError(f"the key {k!r} appears twice in one object")
            seen.add(k)
    return out


def _refuse_constant(name: str) -> Any:
    raise ProjectLoadError(f"{name} is not a valid JSON number; write a finite number")


def _parse_float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise ProjectLoadError(f"the number {text[:40]} is too large")
    return v


def _too_deep(doc: Any) -> bool:
    # Level by level, containers only (a 100,000-node file holds ~10^6
    # values): any value below a non-empty container at MAX_DEPTH is too deep.
    level = [doc] if type(doc) in (dict, list) else []
    for depth in range(1, MAX_DEPTH + 1):
        if not level:
            return False
        below = []
        for v in level:
            items = v.values() if type(v) is dict else v
            if depth == MAX_DEPTH and items:
                return True
            below.extend(x for x in items if type(x) is dict or type(x) is list)
        level = below
    return False


def decode(data: bytes | str, max_bytes: int = MAX_BYTES) -> Any:
    """The JSON document in ``data``.

    Args:
        max_bytes: the largest file read (:data:`MAX_BYTES` unless a caller
            has its own limit).

    Raises:
        ProjectLoadError: the bytes are no JSON document we read.
    """
    if len(data) > max_bytes:
        raise ProjectLoadError(f"the file is larger than {max_bytes / 2**20:g} MB; "
                               "it is not a NetCanvas project")
    if isinstance(data, str):
        text = data
    else:
        if data[:1] == b"\x80":
            raise ProjectLoadError("the file is a Python pickle, not a NetCanvas project "
                                   "(pickles are never opened: loading one can run code)")
        if data[:4] == b"PK\x03\x04":
            raise ProjectLoadError("the file is a zip archive (a PyTorch checkpoint?), "
                                   "not a NetCanvas project")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ProjectLoadError(f"the file is not UTF-8 text (byte {exc.start}); "
                                   "it is not a NetCanvas project") from None
    if not text.strip():
        raise ProjectLoadError("the file is empty")
    try:
        doc = json.loads(text, object_pairs_hook=_dupe_check,
                         parse_constant=_refuse_constant, parse_float=_parse_float)
    except json.JSONDecodeError as exc:
        truncated = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        where = "ends too early" if truncated else \
            f"is not valid JSON at line {exc.lineno}, column {exc.colno}"
        raise ProjectLoadError(f"the file {where} ({exc.msg})") from None
    except RecursionError:
        raise ProjectLoadError("the file nests lists or objects too deeply") from None
    except ValueError as exc:  # e.g. an integer with thousands of digits
        long = re.search(r"\d{%d,}" % (sys.get_int_max_str_digits() + 1), text)
        if long is not None and "integer string conversion" in str(exc):  # not Python's advice
            raise ProjectLoadError(f"the file holds a number of {len(long.group()):,} digits at "
                                   f"line {text.count(chr(10), 0, long.start()) + 1}; no "
                                   "setting takes a number that long") from None
        raise ProjectLoadError(f"the file holds an unreadable value ({exc})") from None
    if _too_deep(doc):
        raise ProjectLoadError(f"the file nests lists or objects deeper than {MAX_DEPTH} levels")
    return doc
