"""One normal form for ids, names and aliases, and the closest matches of a name."""

import difflib
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
