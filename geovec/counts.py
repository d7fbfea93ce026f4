"""Counts in words: ``1 image``, ``2 images``, ``0 queries``. Every message that prints a
count of things says it through :func:`count` (tests/test_counts.py looks for others)."""

from __future__ import annotations

_ES = ("s", "x", "z", "ch", "sh")


def plural(noun: str) -> str:
    """The regular English plural of ``noun``: query → queries, index → indexes,
    image → images."""
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u", ""):
        return noun[:-1] + "ies"
    if noun.endswith(_ES):
        return noun + "es"
    return noun + "s"


def count(n: int, noun: str, many: str | None = None) -> str:
    """``n`` and ``noun``, singular for exactly one: ``count(1, "image")`` is "1 image",
    ``count(3, "ground photo")`` "3 ground photos"; ``many``: an irregular plural. The
    last word takes the plural: ``count(2, "map tile")`` is "2 map tiles"."""
    if n == 1:
        return f"{n} {noun}"
    if many is None:
        head, _, last = noun.rpartition(" ")
        many = f"{head} {plural(last)}" if head else plural(last)
    return f"{n} {many}"
