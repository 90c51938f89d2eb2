"""Routes whose only input is a query model, validated without FastAPI's per-field solving."""

import inspect
from collections.abc import Callable, Coroutine
from typing import Any, get_origin

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class QueryModelRoute(APIRoute):
    """An APIRoute that validates a plain query string straight into the route's query model.

    For an `async def endpoint(request, params: Annotated[Model, Query()])`, FastAPI looks up
    each of the model's fields in the query string and collects them before validating the
    model once; the readers' busiest routes spent most of their time there. This route
    builds the same dictionary in one pass over the query string and validates the same
    model. Anything FastAPI would judge differently — an unknown or repeated parameter, a
    value the model refuses — is handed to FastAPI's own handler, which answers it (422)
    exactly as before. Routes of any other shape are FastAPI's alone.

    `parsed` and `handed_on` count requests of each kind (the tests read them).
    """

    parsed = 0
    handed_on = 0

    def get_route_handler(self) -> Handler:
        standard: Handler = super().get_route_handler()
        found = _query_model(self)
        if found is None:
            return standard
        name, model = found
        repeats = {
            (info.alias or field): get_origin(info.annotation) is list
            for field, info in model.model_fields.items()
        }
        endpoint = self.endpoint

        async def handler(request: Request) -> Response:
            params = parse_query(request, model, repeats)
            if params is None:
                self.handed_on += 1
                return await standard(request)
            self.parsed += 1
            response: Response = await endpoint(request=request, **{name: params})
            return response

        return handler


def _query_model(route: APIRoute) -> tuple[str, type[BaseModel]] | None:
    """The name and model of the route's one query-model parameter, when the endpoint is a
    coroutine taking only the request and that model."""
    dependant = route.dependant
    others = (
        dependant.path_params,
        dependant.header_params,
        dependant.cookie_params,
        dependant.body_params,
        dependant.dependencies,
    )
    if any(others) or len(dependant.query_params) != 1 or dependant.response_param_name:
        return None
    if not inspect.iscoroutinefunction(route.endpoint) or dependant.request_param_name != "request":
        return None
    field = dependant.query_params[0]
    model = field.field_info.annotation
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    return field.name, model


def parse_query(
    request: Request, model: type[BaseModel], repeats: dict[str, bool]
) -> BaseModel | None:
    """The query model of a plain query string (each parameter known, single-valued ones
    given once, every value valid); None for anything else."""
    values: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        repeated = repeats.get(key)
        if repeated is None:
            return None
        if repeated:
            values.setdefault(key, []).append(value)
        elif key in values:
            return None
        else:
            values[key] = value
    try:
        return model.model_validate(values)
    except ValidationError:
        return None
