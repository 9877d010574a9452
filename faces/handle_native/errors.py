"""Errors of the native Handle protocol face: messages it cannot read, operations it does not offer, and the
challenge-response exchange."""

from __future__ import annotations

from foundation.errors import InvalidRequest, Unauthenticated


class MessageMalformed(InvalidRequest):
    """Answered with RC_PROTOCOL_ERROR (4)."""

    name = "native.message_malformed"


class VersionUnsupported(InvalidRequest):
    """Answered with RC_PROTOCOL_ERROR (4)."""

    name = "native.version_unsupported"

    def __init__(self, major: int, minor: int) -> None:
        super().__init__(f"protocol version {major}.{minor} is not supported: 2.1 to 2.11 are")


class OperationNotSupported(InvalidRequest):
    """Answered with RC_OPERATION_NOT_SUPPORTED (5)."""

    name = "native.operation_not_supported"

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is not supported by this server")


class ChallengeExpired(Unauthenticated):
    """Answered with RC_AUTHENTICATION_TIMEOUT (405)."""

    name = "native.challenge_expired"

    def __init__(self) -> None:
        super().__init__("no open challenge for this session: it expired, was answered already, or never existed")


class AnswerRejected(Unauthenticated):
    """Answered with RC_AUTHENTICATION_FAILED (403)."""

    name = "native.answer_rejected"
