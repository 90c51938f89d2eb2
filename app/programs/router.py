"""`/api/v1/programs`: ISS, Artemis, ILRS and the rest."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from app.auth.deps import AuthFirstRoute
from app.core.database import SessionDep
from app.core.deps import SettingsDep
from app.core.errors import NotFoundError
from app.core.http import DataETag, resource_response
from app.core.listing import ListQuery, after_id
from app.core.pagination import Page, Pager
from app.editing.routes import add_write_routes
from app.programs.models import Program, ProgramDetail, ProgramPublic
from app.programs.service import find_program_id, list_programs, program_detail
from app.programs.writes import (
    ProgramCreate,
    ProgramUpdate,
    create_program,
    delete_program,
    update_program,
)

router = APIRouter(prefix="/api/v1/programs", tags=["programs"], route_class=AuthFirstRoute)


def valid_program(
    session: SessionDep,
    program_id: Annotated[
        str, Path(description="Id, name or alias, any case: `iss`, `ISLS`.", examples=["ilrs"])
    ],
) -> Program:
    resolved = find_program_id(session, program_id)
    program = session.get(Program, resolved) if resolved else None
    if program is None:
        raise NotFoundError(f"no program with id, name or alias '{program_id}'")
    return program


@router.get("", operation_id="listPrograms", summary="List programs")
def get_programs(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    _etag: DataETag,
    params: Annotated[ListQuery, Query()],
) -> Page[ProgramPublic]:
    """Programs ordered by id, with their aliases."""
    pager = Pager(request, settings.cursor_secret, params.cursor, params.limit)
    items, total = list_programs(
        session, q=params.q, after_id=after_id(pager.after), limit=params.limit + 1
    )
    return pager.page_by_id(response, items, total)


@router.get(
    "/{program_id}",
    operation_id="getProgram",
    summary="Get one program",
    response_model=ProgramDetail,
)
def get_program(
    request: Request, session: SessionDep, program: Annotated[Program, Depends(valid_program)]
) -> Response:
    """A program with its aliases and how many events belong to it."""
    return resource_response(request, program_detail(session, program))


add_write_routes(
    router,
    noun="program",
    example_id="iss",
    row_type=Program,
    create_body=ProgramCreate,
    update_body=ProgramUpdate,
    public_type=ProgramDetail,
    shown=program_detail,
    create=create_program,
    update=update_program,
    delete=delete_program,
)
