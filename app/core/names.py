"""Forgiving name lookup: one normal form for ids, names and aliases, and suggestions."""

import difflib
import re
import unicodedata
from collections.abc import Iterable


def lookup_key(name: str) -> str:
    """The form names are matched in: case-folded, whitespace collapsed."""
    return " ".join(name.casefold().split())


def suggest(value: str, candidates: Iterable[tuple[str, str]], limit: int = 3) -> list[str]:
    """Ids whose id, name or alias is closest to `value`; candidates are (name, id) pairs."""
    by_key: dict[str, str] = {}
    for name, record_id in candidates:
        by_key.setdefault(lookup_key(name), record_id)
    matches = difflib.get_close_matches(lookup_key(value), list(by_key), n=limit * 3, cutoff=0.6)
    result: list[str] = []
    for match in matches:
        if by_key[match] not in result:
            result.append(by_key[match])
    return result[:limit]


def slugify(text: str, fallback: str) -> str:
    """A lowercase ASCII slug of `text` (`fallback` when nothing is left of it)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:100] or fallback


def distinct_aliases(aliases: list[str], own_names: list[str]) -> list[str]:
    """Aliases worth storing: trimmed, distinct by lookup key, and none of the record's own
    id or name."""
    taken = {lookup_key(name) for name in own_names}
    result = []
    for alias in (a.strip() for a in aliases):
        key = lookup_key(alias)
        if alias and key not in taken:
            taken.add(key)
            result.append(alias)
    return result
