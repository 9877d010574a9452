"""The JSON response every face answers with (orjson, no re-validation)."""

from __future__ import annotations

import math
from typing import Any

import orjson
from starlette.responses import Response

from foundation.errors import DomainError


class JSONBody(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def retry_after(error: DomainError) -> dict[str, str] | None:
    """A used-up budget says when to come back (``Retry-After``, whole seconds, at least 1)."""
    seconds = getattr(error, "retry_after", None)
    return {"Retry-After": str(max(1, math.ceil(seconds)))} if seconds is not None else None
