"""Token management (CLI only) and verification (every write)."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from app.auth.models import ApiToken
from app.core.models import utcnow

SCOPES = ("editor", "reader")
TOKEN_PREFIX = "sct_"  # noqa: S105 - a marker that makes tokens recognisable, not a secret


@dataclass(frozen=True)
class Editor:
    """Who is writing: the token's id and name, and its scopes."""

    token_id: int
    name: str
    scopes: frozenset[str]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, name: str, scopes: list[str]) -> str:
    """Store a new token's hash and return the token itself, which is never stored."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scope '{unknown[0]}'; scopes are {', '.join(SCOPES)}")
    if session.execute(select(ApiToken).where(col(ApiToken.name) == name)).first():
        raise ValueError(f"a token named '{name}' already exists")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            name=name, token_hash=hash_token(token), prefix=token[:10], scopes=" ".join(scopes)
        )
    )
    session.commit()
    return token


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.execute(select(ApiToken).order_by(col(ApiToken.id))).scalars())


def revoke_token(session: Session, name: str) -> bool:
    """Revoke the token with this name; False when there is none (or it was revoked)."""
    token = session.execute(select(ApiToken).where(col(ApiToken.name) == name)).scalar()
    if token is None or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    session.add(token)
    session.commit()
    return True


def verify_token(session: Session, presented: str) -> Editor | None:
    """The editor a live token belongs to, or None. Compared in constant time."""
    digest = hash_token(presented)
    row = session.execute(
        select(ApiToken).where(col(ApiToken.token_hash) == digest)
    ).scalar_one_or_none()
    if row is None or not hmac.compare_digest(row.token_hash, digest) or row.revoked_at:
        return None
    assert row.id is not None
    return Editor(token_id=row.id, name=row.name, scopes=frozenset(row.scopes.split()))
