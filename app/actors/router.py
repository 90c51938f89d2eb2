"""`/api/v1/actors`: countries, agencies, companies, people and organisations."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import Field

from app.actors.models import Actor, ActorDetail, ActorKind, ActorPublic
from app.actors.service import actor_detail, find_actor_id, list_actors
from app.actors.writes import (
    ActorCreate,
    ActorUpdate,
    create_actor,
    delete_actor,
    update_actor,
)
from app.auth.deps import AuthFirstRoute
from app.core.database import SessionDep
from app.core.deps import SettingsDep
from app.core.errors import NotFoundError
from app.core.http import DataETag, resource_response
from app.core.listing import ListQuery, after_id
from app.core.pagination import Page, Pager
from app.editing.routes import add_write_routes

router = APIRouter(prefix="/api/v1/actors", tags=["actors"], route_class=AuthFirstRoute)


class ActorListQuery(ListQuery):
    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Words in the name or alias.",
        examples=["space agency"],
    )
    kind: ActorKind | None = Field(
        default=None, description="Only actors of this kind.", examples=["agency"]
    )


def valid_actor(
    session: SessionDep,
    actor_id: Annotated[
        str,
        Path(description="Id, name or alias, any case: `roscosmos`, `U.S.`.", examples=["nasa"]),
    ],
) -> Actor:
    resolved = find_actor_id(session, actor_id)
    actor = session.get(Actor, resolved) if resolved else None
    if actor is None:
        raise NotFoundError(f"no actor with id, name or alias '{actor_id}'")
    return actor


@router.get("", operation_id="listActors", summary="List actors")
def get_actors(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    _etag: DataETag,
    params: Annotated[ActorListQuery, Query()],
) -> Page[ActorPublic]:
    """Actors ordered by id, with their parent and aliases."""
    pager = Pager(request, settings.cursor_secret, params.cursor, params.limit)
    items, total = list_actors(
        session,
        kind=params.kind,
        q=params.q,
        after_id=after_id(pager.after),
        limit=params.limit + 1,
    )
    return pager.page_by_id(response, items, total)


@router.get(
    "/{actor_id}", operation_id="getActor", summary="Get one actor", response_model=ActorDetail
)
def get_actor(
    request: Request, session: SessionDep, actor: Annotated[Actor, Depends(valid_actor)]
) -> Response:
    """An actor with its parent, children, ancestors, aliases and how many events involve it."""
    return resource_response(request, actor_detail(session, actor))


add_write_routes(
    router,
    noun="actor",
    example_id="nasa",
    row_type=Actor,
    create_body=ActorCreate,
    update_body=ActorUpdate,
    public_type=ActorDetail,
    shown=actor_detail,
    create=create_actor,
    update=update_actor,
    delete=delete_actor,
)
