"""First start: the node's NA handle and administrator, and the seed templates of the three industries."""

from __future__ import annotations

import asyncio
import json
from importlib import resources
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from foundation.cli import announce, command_database, domain_errors_exit
from foundation.config import Settings
from foundation.crypto.keys import ensure_signing_key, hash_secret, new_password
from foundation.crypto.passwords import check_password_strength
from foundation.crypto.secret_seal import seal_for_key_file
from foundation.crypto.trust_keys import ensure_trust_key
from foundation.errors import WeakPassword
from foundation.migrate import upgrade
from registry.accounts import repository as accounts
from registry.accounts.service import NODE_ADMIN_ROLE, NODE_ADMIN_USERNAME, create_account, snms_digest
from registry.kernel import records as handles
from registry.kernel.actor import SYSTEM
from registry.kernel.clock import utcnow
from registry.kernel.permissions import ALL_PERMISSIONS
from registry.kernel.syntax import canonical, na_handle
from registry.kernel.values import ADMIN_INDEX, SECKEY_INDEX
from registry.prefixes.service import write_system_record
from registry.templates import repository as templates_repo
from registry.templates import service as templates
from registry.templates.schemas import TemplateIn


def seed_templates() -> list[dict[str, Any]]:
    folder = resources.files("registry") / "seeds"
    return [
        json.loads(f.read_text(encoding="utf-8"))
        for f in sorted(folder.iterdir(), key=lambda f: f.name)
        if f.name.endswith(".json")
    ]


def _check_chosen(password: str) -> None:
    try:
        check_password_strength(password, NODE_ADMIN_USERNAME)
    except WeakPassword as exc:  # the operator learns which setting to change
        raise WeakPassword(exc.rules, subject="SECNODE_BOOTSTRAP_ADMIN_PASSWORD") from None


async def ensure_node(session: AsyncSession, settings: Settings) -> str | None:
    """Create the node administrator on first start. Returns the password when one was generated. A chosen
    password that is weak is refused (``auth.weak_password``) and nothing is created."""
    node_na = na_handle(settings.node_prefix)
    generated = None
    if await handles.get(session, canonical(node_na)) is None:
        password = settings.bootstrap_admin_password
        if password:
            _check_chosen(password)
        else:
            password = generated = new_password()
        secret_hash = hash_secret(password)
        stamp = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
        await write_system_record(
            session,
            SYSTEM,
            node_na,
            [
                {
                    "index": ADMIN_INDEX,
                    "type": "HS_ADMIN",
                    "ttl": settings.default_ttl,
                    "timestamp": stamp,
                    "data": {
                        "format": "admin",
                        "value": {"handle": node_na, "index": SECKEY_INDEX, "permissions": ALL_PERMISSIONS},
                    },
                },
                {
                    "index": SECKEY_INDEX,
                    "type": "HS_SECKEY",
                    "ttl": settings.default_ttl,
                    "timestamp": stamp,
                    "permissions": "1100",
                    "data": _secret_data(settings, password, secret_hash),
                },
            ],
        )
        account = await accounts.by_username(session, NODE_ADMIN_USERNAME)
        if account is None:
            account = await create_account(session, NODE_ADMIN_USERNAME, password, NODE_ADMIN_ROLE, None)
        account.password_hash = secret_hash
        account.snms_digest = snms_digest(password)
    for seed in seed_templates():
        seed["prefix"] = settings.node_prefix
        if await templates_repo.get(session, canonical(seed["prefix"]), seed["version"]) is None:
            await templates.create(session, SYSTEM, TemplateIn.model_validate(seed))
    await session.flush()
    return generated


def initialise(settings: Settings) -> str | None:
    """From the command line (``secnode init``, ``serve``, ``sync run``): migrate the database, create the node's
    signing key, the node administrator and seed templates (idempotent). Returns the password when one was
    generated."""
    upgrade(settings.database_url)
    created, key = ensure_signing_key(settings.node_key_file)
    if created:
        announce(settings, f"node signing key {key} written to {settings.node_key_file}", key_id=key)
    created, trust_key = ensure_trust_key(settings.trust_key_file, settings.trust_key_alg)
    if created:
        announce(settings, f"node trust key ({trust_key.alg}) written to {settings.trust_key_file}", alg=trust_key.alg)

    async def run() -> str | None:
        async with command_database(settings) as db, db.unit_of_work() as session:
            return await ensure_node(session, settings)

    with domain_errors_exit():  # e.g. a weak SECNODE_BOOTSTRAP_ADMIN_PASSWORD: nothing was created
        return asyncio.run(run())


def _secret_data(settings: Settings, password: str, secret_hash: str) -> dict[str, str]:
    """The node administrator's HS_SECKEY data: its hash, and its seal when the node has its key already."""
    data = {"format": "string", "value": secret_hash}
    seal = seal_for_key_file(settings.node_key_file)
    if seal is not None:
        data["sealed"] = seal.seal(password)
    return data
