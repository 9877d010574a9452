"""Errors of the audit log."""

from __future__ import annotations

from foundation.errors import Unavailable


class AuditUnavailable(Unavailable):
    name = "audit.unavailable"

    def __init__(self) -> None:
        super().__init__("the audit log could not record this request, so it is refused; retry later")
