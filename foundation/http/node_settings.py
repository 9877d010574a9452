"""The node's settings as a FastAPI dependency (apart from the other dependencies: the console takes only these)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from foundation.config import Settings


def _settings(request: Request) -> Settings:
    return request.app.state.settings


NodeSettings = Annotated[Settings, Depends(_settings)]
