"""Query parameters shared by the simple id-ordered lists (actors, programs, sources)."""

from pydantic import BaseModel, ConfigDict, Field

from app.core.errors import InvalidCursorError

CURSOR_HELP = (
    "Leave empty for the first page; then paste the `next_cursor` of the previous page. "
    "Only valid with the same filters and limit."
)


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Words in the name or alias.",
        examples=["lunar"],
    )
    limit: int = Field(
        default=50, ge=1, le=200, description="Items per page (1–200).", examples=[20]
    )
    cursor: str | None = Field(default=None, min_length=1, description=CURSOR_HELP)


def after_id(values: list[object] | None) -> str | None:
    """The last id of the previous page, from a cursor's values."""
    if values is None:
        return None
    if len(values) != 1 or not isinstance(values[0], str):
        raise InvalidCursorError("the cursor does not fit this query")
    return values[0]


def after_serial(values: list[object] | None) -> int | None:
    """The last serial id (a revision's) of the previous page, from a cursor's values."""
    if values is None:
        return None
    if len(values) != 1 or type(values[0]) is not int or not 0 < values[0] <= MAX_SERIAL:
        raise InvalidCursorError("the cursor does not fit this query")
    return values[0]


MAX_SERIAL = 2**31 - 1  # serial ids are 32-bit integers on PostgreSQL
