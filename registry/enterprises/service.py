"""Enterprise onboarding: real-name application, the node administrator's audit, disabling."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.crypto.passwords import check_password_strength
from registry.accounts import repository as accounts
from registry.accounts.service import ENTERPRISE_ROLE, create_account
from registry.enterprises import repository
from registry.enterprises.errors import (
    EnterpriseBadTransition,
    EnterpriseExists,
    EnterpriseForbidden,
    EnterpriseNotFound,
    UsernameTaken,
)
from registry.enterprises.models import Enterprise
from registry.enterprises.schemas import EnterpriseApplication, EnterpriseOut
from registry.enterprises.states import TRANSITIONS, EnterpriseState
from registry.journal import repository as journal
from registry.kernel.actor import Actor
from registry.kernel.clock import utcnow


def enterprise_out(enterprise: Enterprise) -> dict[str, Any]:
    return EnterpriseOut.model_validate(enterprise).model_dump(mode="json", by_alias=True)


async def apply(session: AsyncSession, data: EnterpriseApplication, actor_name: str = "anonymous") -> Enterprise:
    """Record an application and the account the enterprise logs in with; the node administrator audits it."""
    check_password_strength(data.password, data.username)
    if await repository.by_credit_code(session, data.credit_code) is not None:
        raise EnterpriseExists(f"an enterprise with credit code {data.credit_code} is already registered")
    if await accounts.by_username(session, data.username) is not None:
        raise UsernameTaken(data.username)
    now = utcnow()
    enterprise = Enterprise(
        name=data.name,
        credit_code=data.credit_code,
        industry=data.industry,
        industry_code=data.industry_code,
        contact_name=data.contact_name,
        contact_phone=data.contact_phone,
        contact_email=data.contact_email,
        address=data.address,
        state=EnterpriseState.APPLIED.value,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(enterprise)
            await session.flush()
            await create_account(session, data.username, data.password, ENTERPRISE_ROLE, enterprise.id)
    except IntegrityError:  # a concurrent application with the same code or username
        raise EnterpriseExists("credit code or username already registered") from None
    await journal.append(
        session,
        [
            journal.entry(
                "enterprise.applied",
                data.name,
                str(enterprise.id),
                actor_name,
                creditCode=data.credit_code,
                industry=data.industry,
            )
        ],
    )
    return enterprise


async def _transition(
    session: AsyncSession, actor: Actor, enterprise_id: int, target: EnterpriseState, reason: str | None
) -> Enterprise:
    if not actor.is_node_admin:
        raise EnterpriseForbidden("only the node administrator audits or disables enterprises")
    enterprise = await repository.get(session, enterprise_id, for_update=True)
    if enterprise is None:
        raise EnterpriseNotFound(f"enterprise {enterprise_id} does not exist")
    current = EnterpriseState(enterprise.state)
    if target not in TRANSITIONS[current]:
        raise EnterpriseBadTransition(enterprise_id, current.value, target.value)
    enterprise.state, enterprise.reason, enterprise.updated_at = target.value, reason, utcnow()
    await session.flush()
    await journal.append(
        session,
        [journal.entry(f"enterprise.{target.value}", enterprise.name, str(enterprise.id), actor.name, reason=reason)],
    )
    return enterprise


async def audit(
    session: AsyncSession, actor: Actor, enterprise_id: int, approve: bool, reason: str | None
) -> Enterprise:
    target = EnterpriseState.APPROVED if approve else EnterpriseState.REJECTED
    return await _transition(session, actor, enterprise_id, target, reason)


async def set_disabled(
    session: AsyncSession, actor: Actor, enterprise_id: int, disabled: bool, reason: str | None = None
) -> Enterprise:
    target = EnterpriseState.DISABLED if disabled else EnterpriseState.APPROVED
    return await _transition(session, actor, enterprise_id, target, reason)


async def get(session: AsyncSession, actor: Actor, enterprise_id: int) -> Enterprise:
    if not actor.is_node_admin and actor.enterprise_id != enterprise_id:
        raise EnterpriseForbidden("an enterprise sees only its own record")
    enterprise = await repository.get(session, enterprise_id)
    if enterprise is None:
        raise EnterpriseNotFound(f"enterprise {enterprise_id} does not exist")
    return enterprise
