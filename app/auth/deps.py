"""The `EditorDep` dependency: a live bearer token with the editor scope, within its rate.

Routes that need an editor are built by `AuthFirstRoute`, which checks the token before the
body is read or parsed: a request without a valid token learns nothing about the body's rules
and costs no parsing. Failed attempts are counted per client address and throttled.
"""

import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response, Security
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from app.auth.service import Editor, verify_token
from app.core.database import database_of
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


def client_address(request: Request) -> str:
    """The client's address as the server saw it (a trusted proxy's X-Forwarded-For)."""
    return request.client.host if request.client else "unknown"


def _refuse(request: Request, reason: str, error: str | None) -> ProblemError:
    """401, or 429 once this address has failed too often; the token is never logged."""
    log.warning("authentication failed", extra={"reason": reason, "path": request.url.path})
    request.app.state.auth_failures.fail(client_address(request))
    challenge = 'Bearer realm="space-timeline"' + (f', error="{error}"' if error else "")
    return UnauthorizedError(reason, headers={"WWW-Authenticate": challenge})


def authenticate(request: Request) -> Editor:
    """The editor whose token the request carries, within its write rate; raises the 401,
    403 or 429 problem otherwise. Reads only the headers and the token table."""
    header = request.headers.get("authorization")
    if header is None:
        raise _refuse(
            request, "this request needs an editor token: Authorization: Bearer <token>", None
        )
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _refuse(
            request, "the Authorization header is not 'Bearer <token>'", "invalid_request"
        )
    with database_of(request).session() as session:
        editor = verify_token(session, token)
    if editor is None:
        raise _refuse(request, "the token is unknown or revoked", "invalid_token")
    if "editor" not in editor.scopes:
        raise ForbiddenError(
            f"the token '{editor.name}' lacks the 'editor' scope",
            headers={"WWW-Authenticate": 'Bearer error="insufficient_scope", scope="editor"'},
        )
    request.app.state.write_limiter.hit(editor.token_id)
    return editor


def require_editor(
    request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
) -> Editor:
    """The editor `AuthFirstRoute` authenticated (`bearer` documents the scheme)."""
    editor: Editor | None = getattr(request.state, "editor", None)
    return editor if editor is not None else authenticate(request)


EditorDep = Annotated[Editor, Depends(require_editor)]


def _needs_editor(dependant: Dependant) -> bool:
    return any(sub.call is require_editor or _needs_editor(sub) for sub in dependant.dependencies)


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _refuse_unknown_query(request: Request, known: set[str]) -> None:
    unknown = [name for name in request.query_params if name not in known]
    if unknown:
        raise RequestValidationError(
            [
                {"type": "extra_forbidden", "loc": ("query", name), "msg": "", "input": None}
                for name in dict.fromkeys(unknown)
            ]
        )


class AuthFirstRoute(APIRoute):
    """A route that, when it needs an editor, authenticates before reading the body, then
    refuses query parameters it does not know (422, as reads do)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not _needs_editor(self.dependant):
            return handler
        known = _query_names(self.dependant)

        async def authenticated_first(request: Request) -> Response:
            request.state.editor = await run_in_threadpool(authenticate, request)
            _refuse_unknown_query(request, known)
            return await handler(request)

        return authenticated_first
