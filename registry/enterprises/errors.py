"""Errors of enterprises, their users and API keys."""

from __future__ import annotations

from collections.abc import Sequence

from foundation.errors import AlreadyExists, Conflict, Forbidden, InvalidRequest, NotFound


class ApiKeyNotFound(NotFound):
    name = "api_key.not_found"

    def __init__(self, key_id: int) -> None:
        super().__init__(f"API key {key_id} not found")
        self.key_id = key_id


class ApiKeyRevoked(Conflict):
    name = "api_key.revoked"

    def __init__(self, key_id: int) -> None:
        super().__init__(f"API key {key_id} is revoked; issue a new one")
        self.key_id = key_id


class BadCreditCode(InvalidRequest):
    name = "enterprise.bad_credit_code"

    def __init__(self, grantee: str) -> None:
        super().__init__(f"{grantee} is not a valid unified social credit code (GB 32100)")
        self.grantee = grantee


class BadRole(InvalidRequest):
    name = "account.bad_role"

    def __init__(self, allowed: Sequence[str]) -> None:
        super().__init__(f"role must be one of {', '.join(allowed)}")
        self.allowed = tuple(allowed)


class EnterpriseBadTransition(Conflict):
    name = "enterprise.bad_transition"

    def __init__(self, enterprise_id: int, current: str, target: str) -> None:
        super().__init__(f"enterprise {enterprise_id} is {current}; it cannot become {target}")
        self.enterprise_id = enterprise_id
        self.current = current
        self.target = target


class EnterpriseExists(AlreadyExists):
    """Raised with the message of the check that failed."""

    name = "enterprise.exists"


class EnterpriseForbidden(Forbidden):
    """Raised with the message of the check that failed."""

    name = "enterprise.forbidden"


class EnterpriseNotApproved(Conflict):
    """Raised with the message of the check that failed."""

    name = "enterprise.not_approved"


class EnterpriseNotFound(NotFound):
    """Raised with the message of the check that failed."""

    name = "enterprise.not_found"


class LastAdministrator(Conflict):
    name = "account.last_admin"

    def __init__(self) -> None:
        super().__init__("an enterprise keeps at least one active administrator")


class NoPassword(InvalidRequest):
    name = "account.no_password"

    def __init__(self) -> None:
        super().__init__("only users with a password change it here")


class UserNotFound(NotFound):
    name = "account.not_found"

    def __init__(self, username: str) -> None:
        super().__init__(f"user {username} not found")
        self.username = username


class UsernameTaken(AlreadyExists):
    name = "account.exists"

    def __init__(self, username: str) -> None:
        super().__init__(f"username {username} is taken")
        self.username = username
