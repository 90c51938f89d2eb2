"""Names: one normal form for ids, names and aliases, suggestions, and the table that keeps
every name of an actor (or a program) its own, enforced by the database."""

import re
import unicodedata
from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import CheckConstraint, delete, select
from sqlmodel import Field, Session, SQLModel, col

from app.core import errors
from app.core.models import bytewise
from app.core.text import lookup_key as lookup_key
from app.core.text import suggest as suggest


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


class NameScope(StrEnum):
    """The kinds of record whose names are unique among themselves."""

    actor = "actor"
    program = "program"


class NameKey(SQLModel, table=True):
    """Every id, name and alias of an actor or a program, in its lookup form (`lookup_key`).

    The primary key (scope, key) makes each one name a single record of its scope, however
    many requests write at once: the database refuses the second, where a check before the
    insert let concurrent ones through. Exactly one owner column is set; deleting the owner
    deletes its names.
    """

    __tablename__ = "name_key"
    __table_args__ = (
        CheckConstraint(
            "(scope = 'actor' AND actor_id IS NOT NULL AND program_id IS NULL) OR "
            "(scope = 'program' AND program_id IS NOT NULL AND actor_id IS NULL)",
            name="one_owner",
        ),
    )

    scope: str = Field(primary_key=True, max_length=10)
    key: str = Field(primary_key=True, max_length=400, sa_type=bytewise(400))
    actor_id: str | None = Field(
        default=None, foreign_key="actor.id", ondelete="CASCADE", index=True, sa_type=bytewise()
    )
    program_id: str | None = Field(
        default=None,
        foreign_key="program.id",
        ondelete="CASCADE",
        index=True,
        sa_type=bytewise(),
    )


def _owner(scope: NameScope) -> str:
    return f"{scope.value}_id"


def claim_names(session: Session, scope: NameScope, owner_id: str, names: Sequence[str]) -> None:
    """Make `names` (the record's id, name and aliases) exactly the names `owner_id` holds.

    409 naming the holder when another record of the scope has one of them already; when a
    concurrent request claims the same name first, the flush (or commit) fails on the key
    and the write answers 409 all the same.
    """
    wanted: dict[str, str] = {}
    for name in names:
        key = lookup_key(name)
        if key:
            wanted.setdefault(key, name)
    owner = getattr(NameKey, _owner(scope))
    held = session.execute(
        select(col(NameKey.key), owner).where(
            col(NameKey.scope) == scope.value, col(NameKey.key).in_(list(wanted))
        )
    ).all()
    for key, holder in held:
        if holder != owner_id:
            raise errors.ConflictError(
                f"'{wanted[key]}' already names the {scope.value} '{holder}'",
                **{scope.value: holder},
            )
    session.execute(
        delete(NameKey).where(
            col(NameKey.scope) == scope.value,
            owner == owner_id,
            col(NameKey.key).not_in(list(wanted)),
        )
    )
    mine = {key for key, _ in held}
    session.add_all(
        NameKey(scope=scope.value, key=key, **{_owner(scope): owner_id})
        for key in wanted
        if key not in mine
    )
    session.flush()
