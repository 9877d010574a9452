"""Who may read the events of which identifiers: the owner of its prefix, enterprises the owner granted (by id here,
or by credit code on any node), readers granted the identifier itself (read grants), and the node administrator.
An enterprise of another node asks through its node, which vouches for its credit code in a signed request."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from foundation.config import Settings
from registry.enterprises import repository as enterprises
from registry.events import repository as events
from registry.handles import read_grants as readers
from registry.kernel import records as handles
from registry.kernel.actor import Actor
from registry.kernel.syntax import canonical, is_under
from registry.prefixes import repository as prefixes


class Access:
    def __init__(self, session: AsyncSession, settings: Settings, actor: Actor, *, credit_code: str | None = None):
        self.session, self.settings, self.actor = session, settings, actor
        self.credit_code = credit_code  # of an enterprise of another node, vouched for by its node
        self.node_key = canonical(settings.node_prefix)
        self._allowed: set[int] | None = None
        self._owners: dict[str, int | None] = {}  # prefix key -> owning enterprise
        self._grantees: set[str] | None = None

    def is_local(self, key: str) -> bool:
        return is_under(key.partition("/")[0], self.node_key)

    async def allowed_owners(self) -> set[int]:
        if self._allowed is None:
            self._allowed = set()
            if self.actor.enterprise_id is not None or self.credit_code:
                self._allowed = {
                    *await events.owners_granting(self.session, self.actor.enterprise_id, self.credit_code)
                }
                if self.actor.enterprise_id is not None:
                    self._allowed.add(self.actor.enterprise_id)
        return self._allowed

    async def on_behalf_of(self) -> str | None:
        """The credit code other nodes are asked on behalf of: the acting enterprise's, else nobody's."""
        if self.credit_code is None and self.actor.enterprise_id is not None:
            self.credit_code = await enterprises.credit_code_of(self.session, self.actor.enterprise_id)
        return self.credit_code

    async def statuses(self, keys: Iterable[str]) -> dict[str, tuple[str, str]]:
        """key -> (status, spelling): found, unauthorised, deleted, unknown or foreign."""
        keys = list(keys)
        local = [k for k in keys if self.is_local(k)]
        records = await handles.states(self.session, local)
        missing = {k.partition("/")[0] for k in local} - set(self._owners)
        if missing:
            found = await prefixes.with_enterprise_state(self.session, missing)
            self._owners.update({p: found[p][0].enterprise_id if p in found else None for p in missing})
        allowed = await self.allowed_owners()
        out: dict[str, tuple[str, str]] = {}
        for key in keys:
            record = records.get(key)
            if not self.is_local(key):
                out[key] = ("foreign", key)
            elif record is None:
                out[key] = ("unknown", key)
            elif record[1]:
                out[key] = ("deleted", record[0])
            elif self.actor.is_node_admin or self._owners.get(key.partition("/")[0]) in allowed:
                out[key] = ("found", record[0])
            else:
                out[key] = ("unauthorised", record[0])
        refused = [k for k, (status, _) in out.items() if status == "unauthorised"]
        if refused:  # read grants of single identifiers open them too
            grants = await readers.granted(self.session, refused, await self.grantees())
            for key in refused:
                if readers.WHOLE_IDENTIFIER in grants.get(key, ()):
                    out[key] = ("found", out[key][1])
        return out

    async def grantees(self) -> set[str]:
        if self._grantees is None:
            self._grantees = await readers.grantee_names(self.session, self.actor, self.credit_code)
        return self._grantees
