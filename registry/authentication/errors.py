"""Errors of authentication: tokens, API keys, Handle sessions, challenges and signatures."""

from __future__ import annotations

from foundation.errors import DomainError, InvalidRequest, Kind, LimitExceeded, Unauthenticated


class AuthenticationRequired(Unauthenticated):
    name = "auth.required"

    def __init__(self) -> None:
        super().__init__("changing identifiers requires authentication")


class BadApiKey(Unauthenticated):
    name = "auth.bad_api_key"

    def __init__(self) -> None:
        super().__init__("the API key is unknown, revoked or expired")


class BadBasicCredentials(Unauthenticated):
    name = "auth.bad_basic"

    def __init__(self) -> None:
        super().__init__("malformed Basic credentials")


class BadHandleAuthorization(Unauthenticated):
    name = "auth.bad_handle_header"

    def __init__(self) -> None:
        super().__init__('malformed Handle authorization: name="value" pairs expected')


class BadIdentity(InvalidRequest):
    name = "auth.bad_identity"

    def __init__(self) -> None:
        super().__init__("an identity is index:handle, e.g. 300:88.118.1042/admin")


class BadSignature(Unauthenticated):
    """Raised with the message of the check that failed."""

    name = "auth.bad_signature"


class BadToken(Unauthenticated):
    name = "auth.bad_token"

    def __init__(self) -> None:
        super().__init__("token is unknown or expired; log in again")


class BadUsername(Unauthenticated):
    name = "auth.bad_username"

    def __init__(self) -> None:
        super().__init__("username must be index:handle, e.g. 300:88.118.1042/admin")


class ChallengeUnknown(Unauthenticated):
    name = "auth.challenge_unknown"

    def __init__(self) -> None:
        super().__init__("the challenge is unknown, expired, used or for another identity")


class MissingToken(Unauthenticated):
    name = "auth.missing_token"

    def __init__(self) -> None:
        super().__init__("log in first: POST /identity/token, then send Authorization: Bearer <token>")


class NonceReplayed(Unauthenticated):
    name = "auth.replayed"

    def __init__(self) -> None:
        super().__init__("this client nonce was already used in this session")


class SessionUnauthenticated(Unauthenticated):
    name = "auth.session_unauthenticated"

    def __init__(self) -> None:
        super().__init__("the session is not authenticated yet: sign its nonce (PUT /api/sessions/this)")


class SessionUnknown(Unauthenticated):
    """Raised with the message of the check that failed."""

    name = "auth.session_unknown"


class SessionUsedUp(Unauthenticated):
    name = "auth.session_used_up"

    def __init__(self, most: int) -> None:
        super().__init__(f"a session is authenticated at most {most} times; open a new one")
        self.most = most


class TooManyOpenSessions(LimitExceeded):
    name = "auth.too_many_open"

    def __init__(self, open_now: int, *, retry_after: float) -> None:
        super().__init__(
            f"{open_now} sessions and challenges are open, the most this node keeps; retry later",
            retry_after=retry_after,
        )
        self.open_now = open_now


class UnsupportedAuthorizationType(Unauthenticated):
    name = "auth.unsupported_type"

    def __init__(self) -> None:
        super().__init__('only type="HS_PUBKEY" signatures are accepted; secrets go by Basic auth')


class UnsupportedScheme(Unauthenticated):
    name = "auth.unsupported_scheme"

    def __init__(self, scheme: str) -> None:
        super().__init__(f"unsupported authorization scheme {scheme!r}")
        self.scheme = scheme


class InsecureTransport(Unauthenticated):
    """Credentials sent over plain HTTP from a client that is not on loopback."""

    name = "auth.insecure_transport"

    def __init__(self) -> None:
        super().__init__("credentials are accepted only over HTTPS (or from loopback)")


class InsecureApplication(InsecureTransport):
    """An enterprise application (it carries a password) sent over plain HTTP: refused as a bad request."""

    kind = Kind.INVALID_REQUEST

    def __init__(self) -> None:
        DomainError.__init__(self, "applications carry a password: use HTTPS")


class SecretNotSealed(Unauthenticated):
    name = "auth.secret_not_sealed"

    def __init__(self, identity: str) -> None:
        super().__init__(
            f"the HS_SECKEY of {identity} was stored before this node kept secrets sealed (or the node has no signing "
            "key): set it again to answer secret-key challenges, or authenticate with HS_PUBKEY"
        )
