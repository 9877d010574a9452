"""GS1 company prefix declarations: an enterprise declares the prefixes GS1 licensed to it, the node administrator
approves or rejects each (and may revoke an approved one). Keys under an approved prefix may then be mapped onto
the enterprise's handles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from registry.enterprises import repository as enterprises
from registry.enterprises.errors import EnterpriseNotApproved, EnterpriseNotFound
from registry.enterprises.states import EnterpriseState
from registry.gs1 import repository
from registry.gs1.errors import (
    CompanyPrefixBadTransition,
    CompanyPrefixForbidden,
    CompanyPrefixInvalid,
    CompanyPrefixNotFound,
    CompanyPrefixTaken,
)
from registry.gs1.models import CompanyPrefixDeclaration
from registry.gs1.states import HOLDING, LABELS, TRANSITIONS, DeclarationState
from registry.journal import repository as journal
from registry.kernel.actor import Actor
from registry.kernel.clock import utcnow

# Transaction advisory lock held while a declaration is checked against overlapping ones (0001 journal, 0002
# reporter, 0003 audit log, 0004 prefix codes): two enterprises declaring 0614141 and 06141410 at once are
# serialised, so only one of them holds the digits.
DECLARATION_LOCK_ID = 0x5EC0DE_0005


def declaration_out(row: CompanyPrefixDeclaration) -> dict[str, Any]:
    return {
        "companyPrefix": row.company_prefix,
        "enterpriseId": row.enterprise_id,
        "state": row.state,
        "stateName": LABELS[DeclarationState(row.state)],
        "evidence": row.evidence,
        "reason": row.reason,
        "createdAt": row.created_at.isoformat(),
        "updatedAt": row.updated_at.isoformat(),
    }


def check_company_prefix(company_prefix: str) -> str:
    if not (company_prefix.isascii() and company_prefix.isdigit() and 4 <= len(company_prefix) <= 12):
        raise CompanyPrefixInvalid()
    return company_prefix


def _move(row: CompanyPrefixDeclaration, target: DeclarationState) -> None:
    current = DeclarationState(row.state)
    if target not in TRANSITIONS[current]:
        raise CompanyPrefixBadTransition(
            f"GS1 company prefix {row.company_prefix} is {LABELS[current]}; it cannot become {LABELS[target]}"
        )
    row.state = target.value
    row.updated_at = utcnow()


async def _serialise(session: AsyncSession) -> None:
    if session.get_bind().dialect.name == "postgresql":  # SQLite has one writer at a time already
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": DECLARATION_LOCK_ID})


async def declare(
    session: AsyncSession,
    actor: Actor,
    company_prefix: str,
    *,
    enterprise_id: int | None = None,
    evidence: str | None = None,
) -> CompanyPrefixDeclaration:
    """An enterprise declares a GS1 company prefix (state 4, awaiting audit); the node administrator may declare
    one for an enterprise."""
    check_company_prefix(company_prefix)
    enterprise_id = enterprise_id if enterprise_id is not None else actor.enterprise_id
    if enterprise_id is None:
        raise CompanyPrefixForbidden("enterpriseId is required: the node administrator declares for an enterprise")
    if not actor.is_node_admin and actor.enterprise_id != enterprise_id:
        raise CompanyPrefixForbidden("an enterprise declares GS1 company prefixes only for itself")
    actor.require_admin("declaring GS1 company prefixes")
    enterprise = await enterprises.get(session, enterprise_id)
    if enterprise is None:
        raise EnterpriseNotFound(f"enterprise {enterprise_id} does not exist")
    if enterprise.state != EnterpriseState.APPROVED:
        raise EnterpriseNotApproved(f"enterprise {enterprise_id} is {enterprise.state}; it cannot declare yet")
    await _serialise(session)
    clash = await repository.overlapping(session, company_prefix)
    if clash:
        raise CompanyPrefixTaken(
            f"GS1 company prefix {company_prefix} overlaps {clash[0].company_prefix}, "
            f"{LABELS[DeclarationState(clash[0].state)]} for enterprise {clash[0].enterprise_id}"
        )
    now = utcnow()
    row = await repository.get(session, company_prefix, for_update=True)
    if row is not None:
        if DeclarationState(row.state) in HOLDING:
            raise CompanyPrefixTaken(
                f"GS1 company prefix {company_prefix} is already {LABELS[DeclarationState(row.state)]} "
                f"for enterprise {row.enterprise_id}"
            )
        _move(row, DeclarationState.AWAITING_AUDIT)
        row.enterprise_id, row.evidence, row.reason = enterprise_id, evidence, None
    else:
        row = CompanyPrefixDeclaration(
            company_prefix=company_prefix,
            enterprise_id=enterprise_id,
            state=DeclarationState.AWAITING_AUDIT.value,
            evidence=evidence,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    try:
        await session.flush()
    except IntegrityError:  # declared by another enterprise in a concurrent transaction (SQLite, no lock)
        raise CompanyPrefixTaken(f"GS1 company prefix {company_prefix} was just declared") from None
    await _journal(session, "gs1.company_prefix.declared", row, actor, enterprise=enterprise_id)
    return row


async def _locked(session: AsyncSession, company_prefix: str) -> CompanyPrefixDeclaration:
    row = await repository.get(session, check_company_prefix(company_prefix), for_update=True)
    if row is None:
        raise CompanyPrefixNotFound(company_prefix)
    return row


async def audit(
    session: AsyncSession, actor: Actor, company_prefix: str, *, approve: bool, reason: str | None
) -> CompanyPrefixDeclaration:
    """The node administrator's decision on a declaration awaiting audit."""
    if not actor.is_node_admin:
        raise CompanyPrefixForbidden("only the node administrator audits GS1 company prefix declarations")
    row = await _locked(session, company_prefix)
    if row.state != DeclarationState.AWAITING_AUDIT:
        raise CompanyPrefixBadTransition(
            f"GS1 company prefix {row.company_prefix} is {LABELS[DeclarationState(row.state)]}; "
            "only declarations awaiting audit are audited"
        )
    _move(row, DeclarationState.APPROVED if approve else DeclarationState.REJECTED)
    row.reason = None if approve else reason
    await session.flush()
    kind = "gs1.company_prefix.approved" if approve else "gs1.company_prefix.rejected"
    await _journal(session, kind, row, actor, reason=row.reason)
    return row


async def revoke(
    session: AsyncSession, actor: Actor, company_prefix: str, reason: str | None
) -> CompanyPrefixDeclaration:
    """The node administrator withdraws an approval: no new keys under the prefix."""
    if not actor.is_node_admin:
        raise CompanyPrefixForbidden("only the node administrator revokes GS1 company prefixes")
    row = await _locked(session, company_prefix)
    _move(row, DeclarationState.REVOKED)
    row.reason = reason
    await session.flush()
    await _journal(session, "gs1.company_prefix.revoked", row, actor, reason=reason)
    return row


async def get(session: AsyncSession, actor: Actor, company_prefix: str) -> CompanyPrefixDeclaration:
    row = await repository.get(session, check_company_prefix(company_prefix))
    if row is None or (not actor.is_node_admin and actor.enterprise_id != row.enterprise_id):
        raise CompanyPrefixNotFound(company_prefix)
    return row


async def _journal(
    session: AsyncSession, kind: str, row: CompanyPrefixDeclaration, actor: Actor, **payload: Any
) -> None:
    subject = f"gs1:{row.company_prefix}"
    await journal.append(session, [journal.entry(kind, subject, subject, actor.name, **payload)])
