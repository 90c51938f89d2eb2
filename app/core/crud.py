"""POST, PATCH and DELETE routes for the simple resources (actors, programs, sources)."""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel
from sqlmodel import Session

from app.auth.deps import EditorDep
from app.core.db import WriteSessionDep
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

        return commit_write(request, session, editor, write, body=body)

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

        return commit_write(request, session, editor, write, body=body)

    def remove(
        request: Request, editor: EditorDep, session: WriteSessionDep, row_id: str = id_path
    ) -> Response:
        def write() -> Response:
            row = locked(session, row_id)
            check_if_match(request, shown(session, row))
            delete(session, row, author=editor.name, reason=change_reason(request))
            return Response(status_code=204)

        return commit_write(request, session, editor, write)

    tags: list[str | Any] = ["editing"]
    router.add_api_route(
        "",
        post,
        methods=["POST"],
        status_code=201,
        operation_id=f"create{title}",
        summary=f"Add a {noun}",
        response_model=public_type,
        responses=WRITE_RESPONSES,
        tags=tags,
        description=f"Add a {noun}. Send `Idempotency-Key` to retry safely.",
    )
    router.add_api_route(
        f"/{{{noun}_id}}",
        patch,
        methods=["PATCH"],
        operation_id=f"update{title}",
        summary=f"Change a {noun}",
        response_model=public_type,
        responses=WRITE_RESPONSES,
        tags=tags,
        description=f"Change the fields given. Send the {noun}'s ETag as "
        "`If-Match` so as never to overwrite someone else's edit.",
    )
    router.add_api_route(
        f"/{{{noun}_id}}",
        remove,
        methods=["DELETE"],
        status_code=204,
        operation_id=f"delete{title}",
        summary=f"Delete a {noun}",
        responses=WRITE_RESPONSES,
        tags=tags,
        description=f"Delete a {noun} nothing refers to any more (else 409).",
    )
