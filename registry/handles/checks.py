"""The checks of a write, item by item: the prefix is served and open, the name is not reserved, the actor holds the
permissions (HS_ADMIN through the record or its prefix's NA handle), the values follow their template, and only
administrators touch security values. Look-ups are remembered for the rest of the write."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from foundation.config import Settings
from foundation.errors import DomainError
from foundation.gs1.links import LINK_TYPE, parse_link
from registry.enterprises.errors import EnterpriseNotApproved
from registry.enterprises.states import EnterpriseState
from registry.gs1 import repository as gs1_prefixes
from registry.handles.errors import AdminRequired, HandleForbidden, HandleReserved, PrefixNotServed
from registry.kernel import alias_index
from registry.kernel import records as repository
from registry.kernel.actor import ENTERPRISE_ADMIN, Actor
from registry.kernel.aliases import Alias, aliases_of
from registry.kernel.errors import AliasNotYours, AliasTaken, RoleForbidden
from registry.kernel.permissions import Perm, governing_admins, is_admin
from registry.kernel.syntax import NA_PREFIX_KEY, Identifier, canonical, is_under
from registry.kernel.values import Value, same_values
from registry.prefixes import repository as prefixes
from registry.prefixes.errors import PrefixNotEnabled
from registry.prefixes.states import LABELS, PrefixState
from registry.templates import service as templates
from registry.templates.validation import CompiledTemplate, read_binding, template_key
from registry.trust.service import check_written_signatures

SECURITY_TYPES = frozenset({"HS_SECKEY", "HS_PUBKEY", "HS_ADMIN", "HS_VLIST"})


class WriteChecks:
    """The checks of one actor's write inside one transaction."""

    def __init__(self, session: AsyncSession, settings: Settings, actor: Actor):
        self.session = session
        self.settings = settings
        self.actor = actor
        self.node_key = canonical(settings.node_prefix)
        self.records: dict[str, list[Value] | None] = {}  # live values by key, as this write leaves them
        self.templates: dict[str, CompiledTemplate] = {}
        self._prefix_checked: dict[str, DomainError | None] = {}
        self._admin_decisions: dict[tuple[tuple[tuple[str, int, str], ...], tuple[Perm, ...]], bool] = {}
        self._enterprise_of: dict[str, int | None] = {}  # prefix key -> the enterprise holding it
        self._claimed: dict[tuple[str, str], str] = {}  # aliases this write gives, -> handle key

    async def check_prefix(self, ident: Identifier) -> None:
        """The node serves this prefix and it accepts writes."""
        key = ident.prefix_key
        if key not in self._prefix_checked:
            self._prefix_checked[key] = await self._prefix_problem(ident)
        problem = self._prefix_checked[key]
        if problem is not None:
            raise problem

    async def _prefix_problem(self, ident: Identifier) -> DomainError | None:
        key = ident.prefix_key
        if key == NA_PREFIX_KEY:
            if is_under(canonical(ident.suffix), self.node_key):
                return None
            return PrefixNotServed(f"prefix {ident.suffix} is not served by this node")
        if key == self.node_key:
            return None
        if not is_under(key, self.node_key):
            return PrefixNotServed(
                f"prefix {ident.prefix} is not served by this node (node prefix {self.settings.node_prefix})"
            )
        found = (await prefixes.with_enterprise_state(self.session, [key])).get(key)
        if found is None or found[0].state in (PrefixState.DELETED, PrefixState.REJECTED):
            return PrefixNotServed(f"prefix {ident.prefix} is not allocated on this node")
        prefix, enterprise_state = found
        self._enterprise_of[key] = prefix.enterprise_id
        if prefix.state != PrefixState.ENABLED:
            return PrefixNotEnabled(
                f"prefix {ident.prefix} is {LABELS[PrefixState(prefix.state)]} "
                f"(state {prefix.state}); it accepts no writes"
            )
        if enterprise_state != EnterpriseState.APPROVED:
            return EnterpriseNotApproved(f"the enterprise holding {ident.prefix} is {enterprise_state}")
        return None

    def check_not_reserved(self, ident: Identifier, action: str) -> None:
        if ident.prefix_key == NA_PREFIX_KEY:
            raise HandleReserved(
                f"NA handles are made and removed by prefix allocation; cannot {action} {ident.handle}"
            )
        if canonical(ident.suffix) == "admin":
            raise HandleReserved(f"{ident.handle} is the prefix administrator identity; cannot {action} it")

    async def load_values(self, key: str) -> list[Value] | None:
        if key not in self.records:
            record = await repository.get(self.session, key)
            self.records[key] = None if record is None or record.deleted else record.record_values
        return self.records[key]

    async def require(self, ident: Identifier, current: list[Value] | None, perms: list[Perm]) -> None:
        """The actor holds ``perms`` through the record's HS_ADMIN values, or else its prefix's NA handle."""
        if self.actor.is_node_admin:
            return
        admins = await governing_admins(ident, current, self.load_values)
        decision_key = (
            tuple(
                sorted(
                    (
                        v["data"]["value"]["handle"],
                        v["data"]["value"]["index"],
                        v["data"]["value"].get("permissions", ""),
                    )
                    for v in admins
                )
            ),
            tuple(perms),
        )
        if decision_key not in self._admin_decisions:
            self._admin_decisions[decision_key] = await is_admin(self.actor, admins, perms, self.load_values)
        if not self._admin_decisions[decision_key]:
            wanted = ", ".join(p.name.lower() for p in perms)
            raise HandleForbidden(self.actor.name, wanted, ident.handle)

    async def validate_template(self, values: list[Value]) -> str | None:
        binding = read_binding(values)
        if binding is None:
            return None
        compiled = await templates.compiled(self.session, binding[0], binding[1], self.templates, lock=True)
        compiled.validate(values, identifier_mode=self.settings.identifier_mode)
        return template_key(*binding)

    async def check_signatures(self, ident: Identifier, before: list[Value] | None, after: list[Value]) -> None:
        """HS_SIGNATURE values the write adds or changes hold against the chain to the top level's root."""
        await check_written_signatures(ident.handle, before, after, self.load_values, self.settings)

    async def check_aliases(self, ident: Identifier, values: list[Value]) -> None:
        """The record's ``GS1_LINK`` values are links, its ``ALIAS`` values parse (check digits, known AIs, scheme
        syntax); a GS1 key lies under an approved GS1 company prefix of the enterprise holding the record's prefix;
        and no other handle holds any of the keys, in the database or earlier in this write (ADR 0016)."""
        for value in values:
            if value.get("type") == LINK_TYPE:
                data = value.get("data")
                parse_link(data.get("value") if isinstance(data, dict) and data.get("format") == "string" else None)
        parsed = aliases_of(values)
        if not parsed:
            return
        for _, alias in parsed:
            if alias.gs1 is not None:
                await self._check_company_prefix(ident, alias)
        wanted = [(a.scheme, a.key) for _, a in parsed]
        held = await alias_index.holders(self.session, wanted)
        for scheme_key in wanted:
            holder = held.get(scheme_key) or self._claimed.get(scheme_key)
            if holder is not None and holder != ident.key:
                raise AliasTaken(f"{scheme_key[0]}:{scheme_key[1][:80]} already names {holder}")
        for scheme_key in wanted:
            self._claimed[scheme_key] = ident.key

    async def _check_company_prefix(self, ident: Identifier, alias: Alias) -> None:
        assert alias.gs1 is not None
        enterprise_id = self._enterprise_of.get(ident.prefix_key)
        key = alias.gs1
        digits = key.value[key.company_prefix_offset :]
        declaration = await gs1_prefixes.approved_covering(self.session, digits)
        if enterprise_id is None or declaration is None or declaration.enterprise_id != enterprise_id:
            raise AliasNotYours(
                f"{alias.text[:80]}: no approved GS1 company prefix of the enterprise holding {ident.prefix} "
                "covers this key (declare it: /snms/api/v5/gs1/company-prefixes)"
            )

    @staticmethod
    def change_permissions(old: list[Value], new: list[Value]) -> list[Perm]:
        before = {v["index"]: v for v in old}
        after = {v["index"]: v for v in new}
        perms: set[Perm] = set()
        for index, value in after.items():
            admin = value["type"] == "HS_ADMIN" or (index in before and before[index]["type"] == "HS_ADMIN")
            if index not in before:
                perms.add(Perm.ADD_ADMIN if admin else Perm.ADD_VALUE)
            elif not same_values([before[index]], [value]):
                perms.add(Perm.MODIFY_ADMIN if admin else Perm.MODIFY_VALUE)
        for index, value in before.items():
            if index not in after:
                perms.add(Perm.REMOVE_ADMIN if value["type"] == "HS_ADMIN" else Perm.REMOVE_VALUE)
        return sorted(perms)

    @staticmethod
    def keep_prefix_admin(ident: Identifier, new: list[Value]) -> None:
        """A prefix's NA handle (``0.NA/<prefix>``) always keeps an HS_ADMIN value: without one nobody, the
        enterprise included, administers the prefix any more. The node administrator is held to it too."""
        if ident.prefix_key == NA_PREFIX_KEY and not any(v["type"] == "HS_ADMIN" for v in new):
            raise AdminRequired(ident.handle)

    def guard_security_values(self, ident: Identifier, old: list[Value], new: list[Value]) -> None:
        """Who authenticates and who administers (HS_SECKEY, HS_PUBKEY, HS_ADMIN, HS_VLIST) is changed only by an
        enterprise's administrators: a registrar acts as its prefix's admin identity, and must not make itself one
        (for good, with a key of its own) nor lock the administrators out."""
        if self.actor.is_node_admin or self.actor.role == ENTERPRISE_ADMIN:
            return
        before = {v["index"]: v for v in old if v["type"] in SECURITY_TYPES}
        after = {v["index"]: v for v in new if v["type"] in SECURITY_TYPES}
        if before.keys() != after.keys() or not all(same_values([before[i]], [after[i]]) for i in before):
            raise RoleForbidden(
                f"{self.actor.name} is a {self.actor.role}: secrets, keys and administrators of "
                f"{ident.handle} are changed by the enterprise's administrators"
            )
