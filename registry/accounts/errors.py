"""Errors of accounts: credentials and lockouts."""

from __future__ import annotations

from foundation.errors import CredentialsRefused, InvalidRequest


class AccountLocked(CredentialsRefused):
    """Raised with the message of the check that failed."""

    name = "auth.locked"


class BadCredentials(CredentialsRefused):
    """Raised with the message of the check that failed."""

    name = "auth.bad_credentials"


class PasswordReused(InvalidRequest):
    name = "auth.password_reused"

    def __init__(self) -> None:
        super().__init__("the new password must differ from the current one")
