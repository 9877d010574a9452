"""Privilege escalation through HS_ADMIN edits: an identity holding some of a record's rights cannot give itself
the others, nor take the owner's away."""

from __future__ import annotations

from tests.factories import basic, onboard

SECRET = "Clerk-Seckey-2026-x"
VALUE_RIGHTS = "010001110000"  # read, add, remove and modify values; nothing about admins or the handle


def _admin(index: int, handle: str, permissions: str) -> dict:
    return {
        "index": index,
        "type": "HS_ADMIN",
        "data": {"format": "admin", "value": {"handle": handle, "index": 300, "permissions": permissions}},
    }


async def test_a_value_editor_cannot_raise_its_own_rights(client):
    tenant = await onboard(client, "escalate")
    owner, clerk_handle = f"{tenant.prefix}/admin", f"{tenant.prefix}/clerk"
    clerk_record = [{"index": 300, "type": "HS_SECKEY", "data": SECRET}, _admin(100, owner, "111111111111")]
    assert (
        await client.put(f"/api/handles/{clerk_handle}", json=clerk_record, headers=tenant.handle_admin)
    ).status_code == 201
    record = f"{tenant.prefix}/COIL-1"
    values = [
        {"index": 1, "type": "URL", "data": "https://example.com/coil/1"},
        _admin(100, owner, "111111111111"),
        _admin(101, clerk_handle, VALUE_RIGHTS),
    ]
    assert (await client.put(f"/api/handles/{record}", json=values, headers=tenant.handle_admin)).status_code == 201
    clerk = basic(f"300:{clerk_handle}", SECRET)

    allowed = await client.put(
        f"/api/handles/{record}?index=2", headers=clerk, json=[{"index": 2, "type": "EMAIL", "data": "qa@example.com"}]
    )
    assert allowed.status_code == 200, allowed.text  # the clerk's own rights work
    attempts = [
        ("PUT", f"/api/handles/{record}?index=101", [_admin(101, clerk_handle, "111111111111")]),  # modify admin
        ("PUT", f"/api/handles/{record}?index=102", [_admin(102, clerk_handle, "111111111111")]),  # add admin
        ("DELETE", f"/api/handles/{record}?index=100", None),  # remove the owner
        ("PUT", f"/api/handles/{record}", [values[0], _admin(101, clerk_handle, "111111111111")]),  # replace all
        ("DELETE", f"/api/handles/{record}", None),  # delete the handle
        ("PUT", f"/api/handles/{clerk_handle}?index=101", [_admin(101, clerk_handle, "111111111111")]),  # itself
        ("PUT", f"/api/handles/{tenant.prefix}/new", [values[0]]),  # create a handle
    ]
    for method, url, body in attempts:
        response = await client.request(method, url, json=body, headers=clerk)
        assert response.status_code == 403, (method, url, response.text)
        assert response.json()["responseCode"] == 400
    stored = (await client.get(f"/api/handles/{record}", headers=tenant.handle_admin)).json()["values"]
    admins = {v["index"]: v["data"]["value"]["permissions"] for v in stored if v["type"] == "HS_ADMIN"}
    assert admins == {100: "111111111111", 101: VALUE_RIGHTS}
    assert (await client.get(f"/api/handles/{tenant.prefix}/new")).status_code == 404
