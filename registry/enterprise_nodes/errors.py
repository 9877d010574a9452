"""Errors of enterprise nodes: homing an enterprise prefix at an enterprise node, and its site information."""

from __future__ import annotations

from foundation.errors import Conflict, Forbidden, InvalidRequest, NotFound


class EnterpriseNodeForbidden(Forbidden):
    name = "enterprise_node.forbidden"

    def __init__(self) -> None:
        super().__init__("only the node administrator homes prefixes at enterprise nodes")


class PrefixNotHomed(NotFound):
    name = "enterprise_node.not_homed"

    def __init__(self, prefix: str) -> None:
        super().__init__(f"prefix {prefix} is not homed at an enterprise node")
        self.prefix = prefix


class PrefixNotHomeable(Conflict):
    """Raised with the message of the check that failed (a prefix of another node, or not enabled)."""

    name = "enterprise_node.prefix_not_homeable"


class SiteInvalid(InvalidRequest):
    """The site information (or the address and ports it is built from) is not a usable site; ``reason`` says
    where."""

    name = "enterprise_node.site_invalid"

    def __init__(self, reason: str) -> None:
        super().__init__(f"site information invalid: {reason}")
        self.reason = reason
