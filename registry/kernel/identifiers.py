"""Identifier parsing bound to the node's settings: the syntax mode and the length limits it configures."""

from __future__ import annotations

from foundation.config import Settings
from registry.kernel import syntax


def parse_identifier(settings: Settings, handle: str) -> syntax.Identifier:
    return syntax.parse(
        handle,
        mode=settings.identifier_mode,
        max_length=settings.identifier_max_length,
        max_bytes_rfc=settings.identifier_max_bytes_rfc,
    )
