"""Dependencies every router shares."""

from typing import Annotated

from fastapi import Depends, Request

from app.core.config import Settings


async def get_settings(request: Request) -> Settings:
    # async: FastAPI would run a plain function in the thread pool, a hop for a lookup.
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]
