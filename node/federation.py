"""What the resolver needs from upward sync, without importing it: where does a foreign prefix live?
``node.app`` wires the implementation (``sync.homing``) in when a top-level node is configured."""

from __future__ import annotations

from typing import Protocol


class PrefixLocator(Protocol):
    async def locate(self, prefix: str) -> str | None:
        """The service URL of the node serving ``prefix`` (longest registered match), or None."""
        ...
