"""GS1 company prefix declarations through the business API: declared by an enterprise, audited by the node
administrator, overlapping or repeated declarations refused, the journal told."""

from sqlalchemy import select

from registry.journal.models import JournalEntry
from tests.factories import admin_headers, onboard

ROUTE = "/snms/api/v5/gs1/company-prefixes"


async def test_an_enterprise_declares_and_the_node_administrator_approves(client, db):
    steel = await onboard(client, "gs1steel")
    admin = await admin_headers(client)

    declared = await client.post(
        ROUTE, json={"companyPrefix": "6901234", "evidence": "GS1 China 2026-001"}, headers=steel.headers
    )
    assert declared.status_code == 201, declared.text
    assert declared.json()["data"] | {"createdAt": None, "updatedAt": None} == {
        "companyPrefix": "6901234",
        "enterpriseId": steel.enterprise_id,
        "state": 4,
        "stateName": "awaiting audit",
        "evidence": "GS1 China 2026-001",
        "reason": None,
        "createdAt": None,
        "updatedAt": None,
    }

    refused = await client.post(f"{ROUTE}/6901234/audit", json={"approve": True}, headers=steel.headers)
    assert refused.status_code == 403 and refused.json()["error"] == "gs1.company_prefix_forbidden"

    approved = await client.post(f"{ROUTE}/6901234/audit", json={"approve": True}, headers=admin)
    assert approved.json()["data"]["state"] == 1 and approved.json()["data"]["stateName"] == "approved"
    again = await client.post(f"{ROUTE}/6901234/audit", json={"approve": False}, headers=admin)
    assert again.status_code == 409 and again.json()["error"] == "gs1.company_prefix_bad_transition"

    own = await client.get(ROUTE, headers=steel.headers)
    assert [d["companyPrefix"] for d in own.json()["data"]] == ["6901234"]

    revoked = await client.post(f"{ROUTE}/6901234/revoke", json={"reason": "licence lapsed"}, headers=admin)
    assert revoked.json()["data"]["stateName"] == "revoked" and revoked.json()["data"]["reason"] == "licence lapsed"

    async with db.read_session() as session:
        kinds = (
            await session.execute(
                select(JournalEntry.kind).where(JournalEntry.subject == "gs1:6901234").order_by(JournalEntry.seq)
            )
        ).scalars()
        assert list(kinds) == [
            "gs1.company_prefix.declared",
            "gs1.company_prefix.approved",
            "gs1.company_prefix.revoked",
        ]


async def test_overlapping_and_held_prefixes_are_refused(client):
    first = await onboard(client, "gs1first")
    second = await onboard(client, "gs1second")
    admin = await admin_headers(client)
    assert (await client.post(ROUTE, json={"companyPrefix": "6909999"}, headers=first.headers)).status_code == 201

    for digits in ("6909999", "69099990", "690999"):
        taken = await client.post(ROUTE, json={"companyPrefix": digits}, headers=second.headers)
        assert taken.status_code == 409 and taken.json()["error"] == "gs1.company_prefix_taken", digits
        assert taken.json()["status"] == -2

    # rejected, the digits are free for a new declaration (by anyone)
    await client.post(f"{ROUTE}/6909999/audit", json={"approve": False, "reason": "not ours"}, headers=admin)
    retaken = await client.post(ROUTE, json={"companyPrefix": "690999"}, headers=second.headers)
    assert retaken.status_code == 201


async def test_bad_declarations_get_clear_refusals(client):
    tenant = await onboard(client, "gs1bad")
    for body in ({"companyPrefix": "123"}, {"companyPrefix": "1234567890123"}, {"companyPrefix": "69O1234"}, {}):
        response = await client.post(ROUTE, json=body, headers=tenant.headers)
        assert response.status_code == 400 and response.json()["status"] == -2, body
    other = await client.post(ROUTE, json={"companyPrefix": "6901111", "enterpriseId": 999}, headers=tenant.headers)
    assert other.status_code == 403
    missing = await client.get(f"{ROUTE}/6907777", headers=tenant.headers)
    assert missing.status_code == 404 and missing.json()["error"] == "gs1.company_prefix_not_found"
    malformed = await client.get(f"{ROUTE}/abc", headers=tenant.headers)
    assert malformed.status_code == 400 and malformed.json()["error"] == "gs1.company_prefix_invalid"
    anonymous = await client.post(ROUTE, json={"companyPrefix": "6901111"})
    assert anonymous.status_code == 401
