"""Who may read the events of which identifiers: the owner of its prefix, enterprises the owner granted, and the
node administrator."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from node.config import Settings
from registry.accounts.actor import Actor
from registry.events import repository as events
from registry.handles import repository as handles
from registry.handles.syntax import canonical, is_under
from registry.prefixes import repository as prefixes


class Access:
    def __init__(self, session: AsyncSession, settings: Settings, actor: Actor):
        self.session, self.settings, self.actor = session, settings, actor
        self.node_key = canonical(settings.node_prefix)
        self._allowed: set[int] | None = None

    def is_local(self, key: str) -> bool:
        return is_under(key.partition("/")[0], self.node_key)

    async def allowed_owners(self) -> set[int]:
        if self._allowed is None:
            self._allowed = set()
            if self.actor.enterprise_id is not None:
                self._allowed = {self.actor.enterprise_id,
                                 *await events.owners_granting(self.session, self.actor.enterprise_id)}
        return self._allowed

    async def statuses(self, keys: Iterable[str]) -> dict[str, tuple[str, str]]:
        """key -> (status, spelling): found, unauthorised, deleted, unknown or foreign."""
        keys = list(keys)
        local = [k for k in keys if self.is_local(k)]
        records = await handles.get_many(self.session, local)
        owners = {p: prefix.enterprise_id for p, (prefix, _) in
                  (await prefixes.with_enterprise_state(self.session, {k.partition("/")[0] for k in local})).items()}
        allowed = await self.allowed_owners()
        out: dict[str, tuple[str, str]] = {}
        for key in keys:
            record = records.get(key)
            if not self.is_local(key):
                out[key] = ("foreign", key)
            elif record is None:
                out[key] = ("unknown", key)
            elif record.deleted:
                out[key] = ("deleted", record.handle)
            elif self.actor.is_node_admin or owners.get(key.partition("/")[0]) in allowed:
                out[key] = ("found", record.handle)
            else:
                out[key] = ("unauthorised", record.handle)
        return out
