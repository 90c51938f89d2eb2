"""Dependencies of the event routes: query models as parameters, and the event by id."""

from typing import Annotated

from fastapi import Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from app.core.database import SessionDep
from app.core.dates import IsoDate
from app.core.errors import NotFoundError
from app.events.filters import EventFilters, EventListQuery
from app.events.models import Event

EventListParams = Annotated[EventListQuery, Query()]
EventFilterParams = Annotated[EventFilters, Query()]


class EventViewQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_reported_on: IsoDate | None = Field(
        default=None,
        description="Show the event with only the citations published by this day.",
        examples=["2021-12-31"],
    )


EventViewParams = Annotated[EventViewQuery, Query()]


def valid_event(
    session: SessionDep,
    event_id: Annotated[
        str,
        Path(description="The event's id, e.g. `ilrs-memorandum`.", examples=["ilrs-memorandum"]),
    ],
) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise NotFoundError(f"no event with id '{event_id}'")
    return event


ValidEvent = Annotated[Event, Depends(valid_event)]
