"""Whom an import acts as: the enterprise holding the prefix, through one of its business-API accounts.

The command runs on the node's host with the database credentials, like the other administrative commands, so it
asks for no password. It does not act as the node administrator: the rows go through the same permission checks as
the enterprise's own batchCreate (its enabled prefixes only, an approved enterprise), and history and journal name
the enterprise's user together with the operator who ran the command.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy.ext.asyncio import AsyncSession

from foundation.config import Settings
from registry.accounts import repository as accounts
from registry.accounts.service import ENTERPRISE_ROLE
from registry.authentication.service import actor_for_account
from registry.bulk.errors import PrefixUnknown, UserAmbiguous, UserDisabled, UserNotOfEnterprise, UserUnknown
from registry.kernel.actor import Actor
from registry.kernel.syntax import canonical
from registry.prefixes import repository as prefixes
from registry.prefixes.errors import PrefixNotEnabled
from registry.prefixes.states import LABELS, PrefixState


async def enterprise_actor(
    session: AsyncSession, settings: Settings, prefix: str, username: str | None, operator: str
) -> Actor:
    """The actor for writing under ``prefix``: the account ``username``, or else the only account of the
    enterprise holding the prefix. ``operator`` (who runs the command) is recorded with it."""
    found = await prefixes.get(session, canonical(prefix))
    if found is None or found.state in (PrefixState.DELETED, PrefixState.REJECTED):
        raise PrefixUnknown(prefix)
    if found.state != PrefixState.ENABLED:
        raise PrefixNotEnabled(f"prefix {prefix} is {LABELS[PrefixState(found.state)]}; it accepts no writes")
    if username is not None:
        account = await accounts.by_username(session, username)
        if account is None:
            raise UserUnknown(username)
        if account.enterprise_id != found.enterprise_id:
            raise UserNotOfEnterprise(username, prefix)
    else:
        candidates = [
            a
            for a in await accounts.of_enterprise(session, found.enterprise_id)
            if a.role == ENTERPRISE_ROLE and not a.disabled
        ]
        if len(candidates) != 1:
            names = ", ".join(a.username for a in candidates) or "none"
            raise UserAmbiguous(prefix, len(candidates), names)
        account = candidates[0]
    if account.disabled:
        raise UserDisabled(account.username)
    actor = await actor_for_account(session, account, settings.node_prefix)
    return dataclasses.replace(actor, name=f"{actor.name} via cli:{operator}")
