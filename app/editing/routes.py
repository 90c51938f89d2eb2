"""POST, PATCH and DELETE routes for the simple resources (actors, programs, sources)."""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel
from sqlmodel import Session

from app.auth.deps import EditorDep
from app.core.database import WriteSessionDep
from app.core.editing import change_reason, commit_write
from app.core.errors import NotFoundError
from app.core.http import check_if_match, resource_response

WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No token, or an unknown or revoked one"},
    403: {"description": "The token lacks the editor scope"},
    409: {"description": "Conflicts with existing data, or still referenced"},
    412: {"description": "If-Match names an older version"},
    413: {"description": "Body over the size limit"},
    422: {"description": "Invalid data"},
    429: {"description": "Too many writes from this token, or failed logins; see Retry-After"},
}

Writer = Callable[..., Any]


def add_write_routes(
    router: APIRouter,
    *,
    noun: str,
    example_id: str,
    row_type: type[Any],
    create_body: type[BaseModel],
    update_body: type[BaseModel],
    public_type: type[BaseModel],
    shown: Callable[[Session, Any], BaseModel],
    create: Writer,
    update: Writer,
    delete: Writer,
) -> None:
    """Mount `POST /`, `PATCH /{id}` and `DELETE /{id}` for one resource on its router."""
    title = noun.capitalize()
    id_path = Path(alias=f"{noun}_id", description=f"The {noun}'s id.", examples=[example_id])

    def locked(session: Session, row_id: str) -> Any:
        row = session.get(row_type, row_id, with_for_update=True)
        if row is None:
            raise NotFoundError(f"no {noun} with id '{row_id}'")
        return row

    def post(
        request: Request,
        editor: EditorDep,
        session: WriteSessionDep,
        body: create_body,  # type: ignore[valid-type]
    ) -> Response:
        def write() -> Response:
            row = create(session, body, author=editor.name, reason=change_reason(request, body))
            return resource_response(
                request, shown(session, row), status=201, location=f"{router.prefix}/{row.id}"
            )

        return commit_write(request, session, editor.token_id, write, body=body)

    def patch(
        request: Request,
        editor: EditorDep,
        session: WriteSessionDep,
        body: update_body,  # type: ignore[valid-type]
        row_id: str = id_path,
    ) -> Response:
        def write() -> Response:
            row = locked(session, row_id)
            check_if_match(request, shown(session, row))
            update(session, row, body, author=editor.name, reason=change_reason(request, body))
            return resource_response(request, shown(session, row))

        return commit_write(request, session, editor.token_id, write, body=body)

    def remove(
        request: Request, editor: EditorDep, session: WriteSessionDep, row_id: str = id_path
    ) -> Response:
        def write() -> Response:
            row = locked(session, row_id)
            check_if_match(request, shown(session, row))
            delete(session, row, author=editor.name, reason=change_reason(request))
            return Response(status_code=204)

        return commit_write(request, session, editor.token_id, write)

    one = f"/{{{noun}_id}}"
    # Each method's path, endpoint, status code, operation verb and summary.
    routes: dict[str, tuple[str, Callable[..., Response], int | None, str, str]] = {
        "POST": ("", post, 201, "create", f"Add a {noun}"),
        "PATCH": (one, patch, None, "update", f"Change a {noun}"),
        "DELETE": (one, remove, 204, "delete", f"Delete a {noun}"),
    }
    descriptions = {
        "POST": f"Add a {noun}. Send `Idempotency-Key` to retry safely.",
        "PATCH": f"Change the fields given. Send the {noun}'s ETag as "
        "`If-Match` so as never to overwrite someone else's edit.",
        "DELETE": f"Delete a {noun} nothing refers to any more (else 409).",
    }
    for method, (path, endpoint, status, verb, summary) in routes.items():
        router.add_api_route(
            path,
            endpoint,
            methods=[method],
            status_code=status,
            operation_id=f"{verb}{title}",
            summary=summary,
            response_model=None if method == "DELETE" else public_type,
            responses=WRITE_RESPONSES,
            tags=["editing"],
            description=descriptions[method],
        )
