"""Reading flags and numbers written as text (query parameters, CLI arguments, record data)."""

from __future__ import annotations


def is_true(text: str) -> bool:
    """A query flag that is on: ``?flag``, ``=true``, ``=1`` or ``=yes`` (any case)."""
    return text.lower() in ("true", "1", "yes", "")


def is_decimal(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also accepts "²" and "①", which ``int`` then refuses."""
    return text.isascii() and text.isdigit()
