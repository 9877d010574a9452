"""Enterprises and prefixes through the business API, on PostgreSQL."""

import asyncio

from sqlalchemy import select

from registry.journal.models import JournalEntry
from tests.factories import admin_headers, application, basic, login, onboard


async def test_enterprise_application_is_audited_by_the_node_administrator(client):
    form = application("steelmill")
    response = await client.post("/snms/api/v5/enterprises", json=form)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == 1 and body["data"]["state"] == "applied"
    enterprise_id = body["data"]["id"]

    user = await login(client, "steelmill", form["password"])
    refused = await client.post(f"/snms/api/v5/enterprises/{enterprise_id}/audit", json={"approve": True}, headers=user)
    assert refused.status_code == 403 and refused.json()["status"] == -3

    early = await client.post("/snms/api/v5/prefixes", json={}, headers=user)
    assert early.json()["status"] == -2 and early.json()["error"] == "enterprise.not_approved"

    admin = await admin_headers(client)
    approved = await client.post(
        f"/snms/api/v5/enterprises/{enterprise_id}/audit", json={"approve": True}, headers=admin
    )
    assert approved.json()["data"]["state"] == "approved"
    again = await client.post(f"/snms/api/v5/enterprises/{enterprise_id}/audit", json={"approve": False}, headers=admin)
    assert again.status_code == 409 and again.json()["error"] == "enterprise.bad_transition"


async def test_bad_credit_code_and_duplicates_are_refused(client):
    bad = application("bad", creditCode="91330100716105852E")
    response = await client.post("/snms/api/v5/enterprises", json=bad)
    assert response.status_code == 400 and response.json()["status"] == -2
    assert "GB 32100" in response.json()["message"]

    form = application("first")
    assert (await client.post("/snms/api/v5/enterprises", json=form)).status_code == 201
    same_code = application("second", creditCode=form["creditCode"])
    response = await client.post("/snms/api/v5/enterprises", json=same_code)
    assert response.status_code == 409 and response.json()["error"] == "enterprise.exists"

    assert (await client.post("/snms/api/v5/enterprises", json={"name": "x"})).json()["status"] == -2
    garbage = await client.post("/snms/api/v5/enterprises", content=b"{not json")
    assert garbage.status_code == 400 and garbage.json()["error"] == "request.malformed_json"


async def test_weak_enterprise_and_prefix_passwords_are_refused(client):
    for weak in ("hzsteel-pass-1", "weakling-2026", "all-lower-case"):  # a documented example, the user name, 2 kinds
        response = await client.post("/snms/api/v5/enterprises", json=application("weakling", password=weak))
        assert response.status_code == 400 and response.json()["error"] == "auth.weak_password", weak
    assert (await client.get("/snms/api/v5/enterprises", headers=await admin_headers(client))).json()["data"] == []

    tenant = await onboard(client, "strongone")
    weak = await client.post("/snms/api/v5/prefixes", json={"adminPassword": "password1234"}, headers=tenant.headers)
    assert weak.status_code == 400 and weak.json()["error"] == "auth.weak_password"


async def test_prefix_lifecycle_creates_na_handle_and_admin_identity(client):
    tenant = await onboard(client, "autoparts", industry="automotive")
    assert tenant.prefix == "88.118.1001"

    na = (await client.get(f"/api/handles/0.NA/{tenant.prefix}")).json()
    assert na["responseCode"] == 1
    by_index = {v["index"]: v for v in na["values"]}
    assert by_index[100]["data"]["value"]["handle"] == f"{tenant.prefix}/admin"
    assert by_index[100]["data"]["value"]["index"] == 300
    assert by_index[200]["type"] == "HS_VLIST"
    assert by_index[200]["data"]["value"] == [{"handle": f"{tenant.prefix}/admin", "index": 300}]

    admin_record = await client.get(f"/api/handles/{tenant.prefix}/admin")
    assert admin_record.status_code == 200
    assert all(v["type"] != "HS_SECKEY" for v in admin_record.json()["values"])
    # secrets are hidden even from the administrator itself
    own = await client.get(f"/api/handles/{tenant.prefix}/admin", headers=tenant.handle_admin)
    assert all(v["type"] != "HS_SECKEY" for v in own.json()["values"])

    # the enterprise's password is the secret of <prefix>/admin
    resp = await client.put(
        f"/api/handles/{tenant.prefix}/x1",
        json={"values": [{"index": 1, "type": "URL", "data": "https://example.com"}]},
        headers=tenant.handle_admin,
    )
    assert resp.status_code == 201, resp.text


async def test_requested_code_next_code_and_state_machine(client, fresh_node):
    tenant = await onboard(client, "pack", industry="packaging", code="7788")
    assert tenant.prefix == "88.118.7788"
    admin = await admin_headers(client)

    taken = await client.post("/snms/api/v5/prefixes", json={"code": "7788"}, headers=tenant.headers)
    assert taken.status_code == 409 and taken.json()["error"] == "prefix.taken"

    second = await client.post(
        "/snms/api/v5/prefixes", json={"adminPassword": "Another-Secret-2026"}, headers=tenant.headers
    )
    assert second.json()["data"]["prefix"] == "88.118.7789" and second.json()["data"]["state"] == 4
    rejected = await client.post(
        "/snms/api/v5/prefixes/88.118.7789/audit",
        json={"approve": False, "reason": "duplicate business"},
        headers=admin,
    )
    assert rejected.json()["data"]["state"] == 3

    disabled = await client.post(f"/snms/api/v5/prefixes/{tenant.prefix}/disable", headers=admin)
    assert disabled.json()["data"]["state"] == 0
    write = await client.post(
        "/identityv2/data",
        headers=tenant.headers,
        json={"handle": f"{tenant.prefix}/a1", "value": [{"index": 1, "type": "URL", "data": "https://x"}]},
    )
    assert write.status_code == 409 and write.json()["error"] == "prefix.not_enabled"
    assert (await client.post(f"/snms/api/v5/prefixes/{tenant.prefix}/enable", headers=admin)).json()["data"][
        "state"
    ] == 1

    not_admin = await client.post(f"/snms/api/v5/prefixes/{tenant.prefix}/disable", headers=tenant.headers)
    assert not_admin.status_code == 403

    deleted = await client.delete(f"/snms/api/v5/prefixes/{tenant.prefix}", headers=tenant.headers)
    assert deleted.json()["data"]["stateName"] == "deleted"
    assert (await client.get(f"/api/handles/0.NA/{tenant.prefix}")).status_code == 404
    login_gone = await client.put(
        f"/api/handles/{tenant.prefix}/x",
        json=[{"index": 1, "type": "URL", "data": "x"}],
        headers=basic(f"300:{tenant.prefix}/admin", tenant.password),
    )
    assert login_gone.status_code == 401

    async with fresh_node.read_session() as session:
        kinds = [e.kind for e in (await session.execute(select(JournalEntry).order_by(JournalEntry.seq))).scalars()]
    for kind in (
        "enterprise.applied",
        "enterprise.approved",
        "prefix.applied",
        "prefix.enabled",
        "prefix.rejected",
        "prefix.disabled",
        "prefix.deleted",
    ):
        assert kind in kinds


async def test_prefix_with_identifiers_cannot_be_deleted(client):
    tenant = await onboard(client, "busy")
    created = await client.post(
        "/identityv2/data",
        headers=tenant.headers,
        json={"handle": f"{tenant.prefix}/keep-me", "value": [{"index": 1, "type": "URL", "data": "https://x"}]},
    )
    assert created.json()["status"] == 1, created.text
    refused = await client.delete(f"/snms/api/v5/prefixes/{tenant.prefix}", headers=tenant.headers)
    assert refused.status_code == 409 and refused.json()["error"] == "prefix.not_empty"


async def test_business_api_requires_a_valid_token(client):
    response = await client.get("/snms/api/v5/prefixes")
    assert response.status_code == 401 and response.json()["status"] == -1
    response = await client.get("/snms/api/v5/prefixes", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401 and response.json()["error"] == "auth.bad_token"
    wrong = await client.post("/identity/token", json={"username": "admin", "password": "wrong"})
    assert wrong.status_code == 401 and wrong.json()["status"] == -2  # SNMS: a refused login is a business failure


async def test_concurrent_applications_for_the_next_free_code_get_distinct_prefixes(client):
    admin = await admin_headers(client)
    applicants = []
    for n in range(6):
        form = application(f"racer{n}")
        enterprise_id = (await client.post("/snms/api/v5/enterprises", json=form)).json()["data"]["id"]
        await client.post(f"/snms/api/v5/enterprises/{enterprise_id}/audit", json={"approve": True}, headers=admin)
        applicants.append(await login(client, form["username"], form["password"]))

    answers = await asyncio.gather(
        *(client.post("/snms/api/v5/prefixes", json={}, headers=headers) for headers in applicants)
    )
    assert [a.status_code for a in answers] == [201] * 6, [a.text for a in answers]
    assert len({a.json()["data"]["prefix"] for a in answers}) == 6

    # the same explicit code asked for twice at once: one gets it, the other a clear refusal, not a 500
    both = await asyncio.gather(
        *(client.post("/snms/api/v5/prefixes", json={"code": "7777"}, headers=headers) for headers in applicants[:2])
    )
    assert sorted(a.status_code for a in both) == [201, 409], [a.text for a in both]
    assert [a.json()["error"] for a in both if a.status_code == 409] == ["prefix.taken"]


async def test_the_enterprise_listing_filters_by_a_known_state_only(client):
    await onboard(client, "listedstate")
    admin = await admin_headers(client)
    approved = await client.get("/snms/api/v5/enterprises?state=approved", headers=admin)
    assert [e["state"] for e in approved.json()["data"]] == ["approved"]
    for state in ("nonsense", "approved\x00"):  # a NUL reached PostgreSQL and answered 500
        refused = await client.get("/snms/api/v5/enterprises", params={"state": state}, headers=admin)
        assert refused.status_code == 400 and refused.json()["status"] == -2, refused.text
