"""HS_SECKEY secrets, passwords and SNMS login digests: in no response, no log line, no journal or audit entry — only
as a salted hash in the record itself (and a password's SNMS digest in its account)."""

from __future__ import annotations

import logging

from sqlalchemy import text

from foundation.crypto.keys import is_secret_hash
from registry.accounts.service import CHINA_STANDARD_TIME, day_digest, snms_digest
from registry.kernel.clock import utcnow
from tests.factories import basic, onboard

SECRET = "Plain-Seckey-Text-7f3a91"
PASSWORD = "Clerk-Password-2026-x"


async def test_secrets_never_leave_the_record(client, fresh_node, caplog):
    caplog.set_level(logging.DEBUG)
    tenant = await onboard(client, "leakcheck")
    handle = f"{tenant.prefix}/clerk"
    identity = [
        {"index": 1, "type": "URL", "data": "https://example.com/clerk"},
        {"index": 300, "type": "HS_SECKEY", "data": SECRET},
        {
            "index": 100,
            "type": "HS_ADMIN",
            "data": {
                "format": "admin",
                "value": {"handle": f"{tenant.prefix}/admin", "index": 300, "permissions": "111111111111"},
            },
        },
    ]
    assert (await client.put(f"/api/handles/{handle}", json=identity, headers=tenant.handle_admin)).status_code == 201
    clerk = basic(f"300:{handle}", SECRET)
    wrong = basic(f"300:{handle}", SECRET + "-wrong")
    assert (
        await client.put(f"/api/handles/{tenant.prefix}/by-clerk", json=identity[:1], headers=clerk)
    ).status_code == 403  # authenticated, but no rights there
    await client.post(
        "/identity/users",
        headers=tenant.headers,
        json={"username": "leakcheck-clerk", "password": PASSWORD, "role": "auditor"},
    )
    await client.post("/identity/token", json={"username": "leakcheck-clerk", "password": PASSWORD + "x"})
    await client.post("/identity/token", json={"username": "leakcheck-clerk", "password": PASSWORD})
    digest = snms_digest(PASSWORD)  # the SNMS digest login's stored value, and what a client sends today
    sent = day_digest(digest, utcnow().astimezone(CHINA_STANDARD_TIME).date())
    assert (await client.post("/identity/token/v1", json={"username": "leakcheck-clerk", "password": sent})).json()[
        "status"
    ] == 1

    answers = []
    for headers in ({}, tenant.handle_admin, clerk, wrong, tenant.headers):
        for url in (
            f"/api/handles/{handle}",
            f"/api/handles/{handle}?index=300",
            f"/api/handles/{handle}?auth=true",
            f"/api/handles/{handle}?type=HS_SECKEY",
            f"/identityv2/data/detail?handle={handle}",
            f"/identityv2/data/history?handle={handle}",
            f"/api/handles?prefix={tenant.prefix}",
            f"/trace/upstream?handle={handle}&values=true",
            "/identity/users",
        ):
            answers.append((await client.get(url, headers=headers)).text)
    stored = (await client.get(f"/api/handles/{handle}", headers=tenant.handle_admin)).json()["values"]
    assert [v["index"] for v in stored] == [1, 100]  # even its administrator never reads HS_SECKEY

    async with fresh_node.read_session() as session:
        hashed = (
            await session.execute(text("SELECT values FROM handles WHERE handle_key = :k"), {"k": handle.lower()})
        ).scalar_one()
        journal = str((await session.execute(text("SELECT payload FROM journal"))).scalars().all())
        history = str((await session.execute(text("SELECT values FROM handle_history"))).scalars().all())
        audit = str((await session.execute(text("SELECT actor, action FROM audit_log"))).all())
    secret_hash = next(v["data"]["value"] for v in hashed if v["type"] == "HS_SECKEY")
    assert is_secret_hash(secret_hash)
    logs = "\n".join(record.getMessage() for record in caplog.records)
    for where, content in [
        ("responses", "\n".join(answers)),
        ("logs", logs),
        ("journal", journal),
        ("history", history),
        ("audit log", audit),
    ]:
        for leaked in (SECRET, PASSWORD, secret_hash, digest, sent):
            assert leaked not in content, f"{leaked[:12]}… found in the {where}"
    assert caplog.records, "nothing was logged: the log check would pass vacuously"
