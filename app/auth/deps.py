"""The `EditorDep` dependency: a live bearer token with the editor scope, within its rate."""

import logging
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.service import Editor, verify_token
from app.core.database import WriteSessionDep
from app.core.errors import ProblemError

log = logging.getLogger("app.auth")

bearer = HTTPBearer(
    auto_error=False,
    description="An editor token, made with `python -m app token create --name NAME`.",
)


class UnauthorizedError(ProblemError):
    status = 401
    slug = "unauthorized"
    title = "Unauthorized"


class ForbiddenError(ProblemError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


def _refuse(request: Request, reason: str, error: str) -> UnauthorizedError:
    # The token itself is never logged, only why it was refused.
    log.warning("authentication failed", extra={"reason": reason, "path": request.url.path})
    challenge = f'Bearer realm="space-timeline", error="{error}"'
    return UnauthorizedError(reason, headers={"WWW-Authenticate": challenge})


def require_editor(
    request: Request,
    session: WriteSessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Editor:
    if "authorization" not in request.headers:
        log.warning("authentication failed", extra={"reason": "no token", "path": request.url.path})
        raise UnauthorizedError(
            "this request needs an editor token: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": 'Bearer realm="space-timeline"'},
        )
    if credentials is None or not credentials.credentials.strip():
        raise _refuse(
            request, "the Authorization header is not 'Bearer <token>'", "invalid_request"
        )
    editor = verify_token(session, credentials.credentials.strip())
    if editor is None:
        raise _refuse(request, "the token is unknown or revoked", "invalid_token")
    if "editor" not in editor.scopes:
        raise ForbiddenError(
            f"the token '{editor.name}' lacks the 'editor' scope",
            headers={"WWW-Authenticate": 'Bearer error="insufficient_scope", scope="editor"'},
        )
    request.app.state.write_limiter.hit(editor.token_id)
    return editor


EditorDep = Annotated[Editor, Depends(require_editor)]
