"""The strength rule for passwords people choose: the node administrator's bootstrap password, and accounts'."""

from __future__ import annotations

from foundation.errors import WeakPassword

MIN_LENGTH = 12
MIN_CLASSES = 3  # of lower case, upper case, digits and other characters
# The example passwords of README.md and docs/: copied as they stand, they are the first ones an attacker tries.
DOCUMENTED_EXAMPLES = frozenset(
    {"ADMIN-PASSWORD", "A-LONG-RANDOM-PASSWORD", "THE-PRINTED-ADMIN-PASSWORD", "hzsteel-pass-1", "Clerk-Password-2026"}
)
_EXAMPLES = frozenset(example.casefold() for example in DOCUMENTED_EXAMPLES)


def _classes(password: str) -> int:
    kinds = {
        "lower" if c.islower() else "upper" if c.isupper() else "digit" if c.isdigit() else "other" for c in password
    }
    return len(kinds)


def check_password_strength(password: str, username: str) -> None:
    """Refuse a weak password (error ``auth.weak_password``), naming every rule it breaks."""
    broken = []
    if len(password) < MIN_LENGTH:
        broken.append(f"it is shorter than {MIN_LENGTH} characters")
    if _classes(password) < MIN_CLASSES:
        broken.append(
            f"it mixes fewer than {MIN_CLASSES} of lower case letters, upper case letters, digits and other characters"
        )
    if password.casefold() in _EXAMPLES:
        broken.append("it is an example password from the documentation")
    if username and username.casefold() in password.casefold():
        broken.append(f"it contains the user name {username!r}")
    if broken:
        raise WeakPassword(broken)
