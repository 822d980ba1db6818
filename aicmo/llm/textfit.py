"""Cutting text to a length without breaking it: at a sentence end, else at a clause boundary, else between
words, never inside a word. Pure functions (no Django), so the offline provider and the deliverables'
shortener share one cutter. It lives in aicmo.llm because the provider package imports nothing else of the
project (import-linter)."""

import re
from collections.abc import Sequence

ELLIPSIS = "…"
_SENTENCE_END = re.compile(r"[.!?…](?:[\"'”’)\]]*)(?=\s|$)|\n")
_CLAUSE_END = re.compile(r"[,;:](?=\s)|\s[—–-](?=\s)")
_SPACE = re.compile(r"\s+")
# A sentence cut that keeps less than this share of the room loses too much: cut at a clause instead.
_MIN_SENTENCE_SHARE = 0.5


def cut_at_boundary(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else its longest head that ends at a sentence boundary (or, if
    that would throw away more than half the room, at a clause boundary or between words, marked with "…").
    Never cuts inside a word; a single word longer than the limit is the one case left with only "…"."""
    text = text.strip()
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    sentence = _last_end(_SENTENCE_END, text, limit)
    if sentence and sentence >= limit * _MIN_SENTENCE_SHARE:
        return text[:sentence].rstrip()
    room = limit - len(ELLIPSIS)
    clause = _last_end(_CLAUSE_END, text, room, before=True)
    if clause and clause >= room * _MIN_SENTENCE_SHARE:
        return _with_ellipsis(text[:clause])
    word = _last_word_end(text, room)
    if sentence and sentence >= (word or 0):
        return text[:sentence].rstrip()
    return _with_ellipsis(text[:word]) if word else ELLIPSIS


def _with_ellipsis(head: str) -> str:
    return head.rstrip(" ,;:—–-\n") + ELLIPSIS


def _last_end(pattern: re.Pattern, text: str, limit: int, *, before: bool = False) -> int | None:
    """End (exclusive) of the last match of `pattern` whose kept head fits in `limit`."""
    best = None
    for match in pattern.finditer(text):
        end = match.start() if before else match.end()
        if end > limit:
            break
        if end > 0:
            best = end
    return best


def _last_word_end(text: str, limit: int) -> int | None:
    best = None
    for match in _SPACE.finditer(text):
        if match.start() > limit:
            break
        if match.start() > 0:
            best = match.start()
    return best


def fit_with_tail(body: str, *, limit: int, tail: Sequence[str] = (), separator: str = "\n\n") -> str:
    """`body` cut at a boundary so that it and each `tail` part (e.g. required disclaimers, kept word for
    word and counted inside the limit) fit in `limit` characters together. A tail part already in the body is
    moved to the end rather than repeated."""
    kept = [part.strip() for part in tail if part and part.strip()]
    for part in kept:
        body = body.replace(part, "")
    body = re.sub(r"\n{3,}", "\n\n", body).strip()
    ending = separator.join(kept)
    if not ending:
        return cut_at_boundary(body, limit)
    room = limit - len(ending) - len(separator)
    if room <= 0:
        return ending[:limit] if len(ending) > limit else ending
    head = cut_at_boundary(body, room)
    return f"{head}{separator}{ending}" if head and head != ELLIPSIS else ending
