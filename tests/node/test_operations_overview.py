"""The node administrator's operations overview: it adds up what the node did (requests per face, resolutions per
cache tier, registrations per prefix and day, the slowest operations with quantiles that agree with the
histogram), and nobody else reads it."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.factories import admin_headers, onboard


async def _overview(client, headers) -> dict:
    answer = await client.get("/snms/api/v5/operations/overview?days=2", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


async def test_the_overview_adds_up_what_the_node_did(client):
    admin = await admin_headers(client)
    tenant = await onboard(client, "overview")
    before = await _overview(client, admin)
    for n in range(3):
        created = await client.put(
            f"/api/handles/{tenant.prefix}/OV-{n}",
            headers=tenant.handle_admin,
            json=[{"index": 1, "type": "URL", "data": f"https://example.com/{n}"}],
        )
        assert created.status_code == 201
    for _ in range(5):
        assert (await client.get(f"/api/handles/{tenant.prefix}/OV-0")).status_code == 200
    after = await _overview(client, admin)

    assert after["requests"]["handle"] - before["requests"].get("handle", 0) == 8
    tiers_before, tiers_after = before["resolutionsByTier"], after["resolutionsByTier"]
    assert sum(tiers_after.values()) - sum(tiers_before.values()) == 5
    today = datetime.now(UTC).date().isoformat()
    [day] = [d for d in after["days"] if d["day"] == today]
    assert day["registrations"][tenant.prefix.lower()] == 3
    assert len(after["days"]) == 2 and after["sync"] is None  # no top-level node here
    writes = [row for row in after["slowest"] if row["face"] == "handle" and row["operation"] == "write"]
    assert writes and writes[0]["count"] >= 3
    assert all(0 < row["p50Seconds"] <= row["p99Seconds"] for row in after["slowest"] if row["p99Seconds"])


async def test_only_the_node_administrator_reads_it(client):
    tenant = await onboard(client, "nosy")
    refused = await client.get("/snms/api/v5/operations/overview", headers=tenant.headers)
    assert refused.status_code == 403 and refused.json()["status"] != 1
    assert (await client.get("/snms/api/v5/operations/overview")).status_code == 401
    admin = await admin_headers(client)
    too_many = await client.get("/snms/api/v5/operations/overview?days=400", headers=admin)
    assert too_many.status_code == 400
