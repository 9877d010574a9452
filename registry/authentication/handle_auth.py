"""The ``Authorization: Handle …`` header of Handle.Net v9: comma-separated ``name="value"`` pairs."""

from __future__ import annotations

import re
from urllib.parse import unquote

from registry.authentication.errors import BadHandleAuthorization

_PAIR = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))\s*(?:,|$)')


def parse_handle_authorization(credentials: str) -> dict[str, str]:
    """``version="0", sessionId="…", id="300%3A88.118.1042%2Fadmin", …`` -> {name: value}; ``id`` is URL-decoded."""
    fields: dict[str, str] = {}
    position, text = 0, credentials.strip()
    while position < len(text):
        match = _PAIR.match(text, position)
        if match is None or match.end() == position:
            raise BadHandleAuthorization()
        fields[match.group(1)] = match.group(2) if match.group(2) is not None else match.group(3)
        position = match.end()
    if "id" in fields:
        fields["id"] = unquote(fields["id"])
    return fields
