"""The Handle response code of each kind of domain error: one table for both Handle faces, the REST API (with the
HTTP status it answers) and the native protocol (RFC 3652 section 2.2.2.2; the IDIS codes for budgets)."""

from __future__ import annotations

from foundation.errors import Kind

# kind -> (Handle responseCode, HTTP status of the REST face)
HANDLE_CODES: dict[Kind, tuple[int, int]] = {
    Kind.INVALID_HANDLE: (102, 400),
    Kind.INVALID_VALUE: (202, 400),
    Kind.INVALID_REQUEST: (2, 400),
    Kind.NOT_FOUND: (100, 404),
    Kind.VALUES_NOT_FOUND: (200, 400),
    Kind.ALREADY_EXISTS: (101, 409),
    Kind.VALUE_EXISTS: (201, 409),
    Kind.NOT_RESPONSIBLE: (301, 400),
    Kind.UNAUTHENTICATED: (402, 401),
    Kind.CREDENTIALS_REFUSED: (402, 401),
    Kind.FORBIDDEN: (400, 403),
    Kind.CONFLICT: (2, 409),
    Kind.TOO_LARGE: (2, 413),
    Kind.UNAVAILABLE: (2, 503),
    Kind.RATE_LIMITED: (2, 429),
    Kind.DAILY_LIMIT: (603, 429),
    Kind.REGISTRATION_LIMIT: (604, 429),
    Kind.INTERNAL: (2, 500),
}
