"""HS_ADMIN permission bits and the admin check (direct identity or membership of an HS_VLIST group).

The 12-character permission string is read right to left: its rightmost character is bit 0.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import IntEnum

from registry.kernel.actor import Actor
from registry.kernel.syntax import Identifier, canonical, governing_na_handle
from registry.kernel.values import Value


class Perm(IntEnum):
    CREATE_HANDLE = 0
    DELETE_HANDLE = 1
    ADD_DERIVED_PREFIX = 2
    DELETE_DERIVED_PREFIX = 3
    MODIFY_VALUE = 4
    REMOVE_VALUE = 5
    ADD_VALUE = 6
    MODIFY_ADMIN = 7
    REMOVE_ADMIN = 8
    ADD_ADMIN = 9
    READ_VALUE = 10
    LIST_HANDLES = 11


ALL_PERMISSIONS = "111111111111"
ENTERPRISE_ADMIN_PERMISSIONS = "111111111111"


def has_permission(permissions: str, perm: Perm) -> bool:
    return len(permissions) == 12 and permissions[-1 - perm] == "1"


def identity_key(index: int, handle: str) -> str:
    return f"{index}:{canonical(handle)}"


RecordLoader = Callable[[str], Awaitable[list[Value] | None]]  # canonical handle -> values (None if absent)


async def governing_admins(ident: Identifier, values: list[Value] | None, load: RecordLoader) -> list[Value]:
    """The HS_ADMIN values that govern a record: its own, or else those of its NA handle."""
    admins = [v for v in values or () if v["type"] == "HS_ADMIN"]
    if admins:
        return admins
    return [v for v in await load(canonical(governing_na_handle(ident))) or () if v["type"] == "HS_ADMIN"]


async def is_admin(actor: Actor, admin_values: list[Value], perms: list[Perm], load: RecordLoader) -> bool:
    """True when one HS_ADMIN value grants every permission in ``perms`` to one of the actor's identities."""
    if actor.is_node_admin:
        return True
    if not actor.identities:
        return False
    for value in admin_values:
        if value["type"] != "HS_ADMIN":
            continue
        ref = value["data"]["value"]
        if not all(has_permission(ref.get("permissions", ""), p) for p in perms):
            continue
        if await _names_actor(actor, ref["handle"], ref["index"], load, depth=0, seen=set()):
            return True
    return False


async def _names_actor(actor: Actor, handle: str, index: int, load: RecordLoader, depth: int, seen: set[str]) -> bool:
    key = identity_key(index, handle)
    if key in actor.identities:
        return True
    if depth >= 4 or key in seen:  # groups may nest; cycles and deep chains stop here
        return False
    seen.add(key)
    values = await load(canonical(handle))
    if not values:
        return False
    for value in values:
        if value["index"] == index and value["type"] == "HS_VLIST":
            for member in value["data"]["value"]:
                if await _names_actor(actor, member["handle"], member["index"], load, depth + 1, seen):
                    return True
    return False
