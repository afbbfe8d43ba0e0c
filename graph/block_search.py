"""Searching the block catalogue by what people call things.

A block is found by its type, its family, the synonyms its spec declares
(``keywords``: ``dense`` and ``fc`` find Linear, ``skip`` finds Add) and the
words of its description; a library unit by its name, its keywords
(:data:`graph.unit_library.LIBRARY_KEYWORDS`) and its description.  Every
word typed must start a word of those (``conv`` finds "convolution", ``fc``
does not find "affine"), or lie inside the type's name (``pool`` finds
MaxPool2d).  Ranks order the matches: the type itself first, then a
synonym, then a part of the type's name, then the family, then a word of
the description.  Qt-free: the
palette and the canvas's Add Block Here share it.
"""

from __future__ import annotations

import re

from graph import blocks, unit_library

#: how well an entry matches: lower is better
EXACT, NAME_PREFIX, KEYWORD, NAME_PART, FAMILY, DESCRIPTION = range(6)
LIBRARY_PREFIX = "library:"
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def terms_of(type_name: str) -> tuple[str, str, str]:
    """``(keywords, family, description)`` of a block type or a library unit
    (``library:NAME``) as lower-case text; empty for what the catalogue
    does not know (a project's own unit: its name is all there is)."""
    if type_name.startswith(LIBRARY_PREFIX):
        name = type_name[len(LIBRARY_PREFIX):]
        if name not in unit_library.library_names():
            return "", "", ""
        return (" ".join(unit_library.library_keywords(name)), "units",
                unit_library.library_doc(name).lower())
    spec = blocks.get(type_name)
    if spec is None:
        return "", "", ""
    return " ".join(spec.keywords).lower(), spec.family.lower(), spec.doc.lower()


def _starts_a_word(q: str, text: str) -> bool:
    return any(w.startswith(q) for w in _words(text)) or (" " in q and q in text)


def rank(query: str, name: str, type_name: str, kind: str = "") -> int | None:
    """How well ``name`` (a block type or unit shown as ``name``, of
    ``type_name``, listed under ``kind``) matches ``query``; None: not at all.

    Several words must each match (the worst one ranks the entry)."""
    q = query.strip().lower()
    if not q:
        return None
    low = name.lower()
    if low == q:
        return EXACT
    if low.startswith(q):
        return NAME_PREFIX
    keywords, family, doc = terms_of(type_name)
    family = f"{family} {kind.lower()}"
    if q in _phrases(type_name):
        return KEYWORD
    worst = EXACT
    for word in q.split():
        if _starts_a_word(word, keywords):
            r = KEYWORD
        elif word in low:
            r = NAME_PART
        elif _starts_a_word(word, family):
            r = FAMILY
        elif _starts_a_word(word, doc):
            r = DESCRIPTION
        else:
            return None
        worst = max(worst, r)
    return worst


def _phrases(type_name: str) -> tuple[str, ...]:
    """The keywords as whole phrases (``fully connected``, ``time series``)."""
    if type_name.startswith(LIBRARY_PREFIX):
        return unit_library.library_keywords(type_name[len(LIBRARY_PREFIX):])
    spec = blocks.get(type_name)
    return tuple(k.lower() for k in spec.keywords) if spec is not None else ()
