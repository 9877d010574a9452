"""Handle REST writes and resolution (Handle.Net v9 bodies and codes), on PostgreSQL."""

import asyncio

from tests.conftest import ADMIN_PASSWORD
from tests.factories import basic, onboard

URL_VALUE = {"index": 1, "type": "URL", "data": {"format": "string", "value": "https://example.com/coil/1"}}


async def test_create_resolve_update_delete_cycle(client):
    tenant = await onboard(client, "mill")
    handle = f"{tenant.prefix}/Coil-A1"
    created = await client.put(f"/api/handles/{handle}", json={"values": [URL_VALUE]}, headers=tenant.handle_admin)
    assert created.status_code == 201
    assert created.json() == {"responseCode": 1, "handle": handle}

    # lookups are case-insensitive; answers echo the spelling asked for
    resolved = await client.get(f"/api/handles/{tenant.prefix}/COIL-a1")
    assert resolved.status_code == 200
    body = resolved.json()
    assert body["handle"] == f"{tenant.prefix}/COIL-a1"
    assert body["values"][0]["data"] == URL_VALUE["data"]
    assert body["values"][0]["ttl"] == 86400 and body["values"][0]["timestamp"].endswith("Z")

    replaced = await client.put(
        f"/api/handles/{handle}",
        headers=tenant.handle_admin,
        json={
            "values": [
                {"index": 1, "type": "URL", "data": "https://example.com/coil/1b"},
                {"index": 2, "type": "EMAIL", "data": "qa@example.com"},
            ]
        },
    )
    assert replaced.status_code == 200 and replaced.json()["responseCode"] == 1
    values = (await client.get(f"/api/handles/{handle}")).json()["values"]
    assert [v["type"] for v in values] == ["URL", "EMAIL"]

    exists = await client.put(f"/api/handles/{handle}?overwrite=false", json=[URL_VALUE], headers=tenant.handle_admin)
    assert exists.status_code == 409 and exists.json()["responseCode"] == 101

    removed_value = await client.delete(f"/api/handles/{handle}?index=2", headers=tenant.handle_admin)
    assert removed_value.status_code == 200
    assert [v["index"] for v in (await client.get(f"/api/handles/{handle}")).json()["values"]] == [1]
    no_such_value = await client.delete(f"/api/handles/{handle}?index=77", headers=tenant.handle_admin)
    assert no_such_value.status_code == 400 and no_such_value.json()["responseCode"] == 200

    deleted = await client.delete(f"/api/handles/{handle}", headers=tenant.handle_admin)
    assert deleted.json() == {"responseCode": 1, "handle": handle}
    gone = await client.get(f"/api/handles/{handle}")
    assert gone.status_code == 404 and gone.json()["responseCode"] == 100

    # a deleted name is never re-created by default
    again = await client.put(f"/api/handles/{handle}", json=[URL_VALUE], headers=tenant.handle_admin)
    assert again.status_code == 409 and again.json()["error"] == "handle.tombstoned"


async def test_patch_with_index_keeps_other_values(client):
    tenant = await onboard(client, "patcher")
    handle = f"{tenant.prefix}/p1"
    await client.put(
        f"/api/handles/{handle}",
        json=[URL_VALUE, {"index": 2, "type": "EMAIL", "data": "a@b.c"}],
        headers=tenant.handle_admin,
    )
    patched = await client.put(
        f"/api/handles/{handle}?index=2&overwrite=true",
        headers=tenant.handle_admin,
        json={"values": [{"index": 2, "type": "EMAIL", "data": "new@b.c"}]},
    )
    assert patched.status_code == 200, patched.text
    values = {v["index"]: v for v in (await client.get(f"/api/handles/{handle}")).json()["values"]}
    assert values[1]["data"]["value"] == URL_VALUE["data"]["value"]
    assert values[2]["data"]["value"] == "new@b.c"
    clash = await client.put(
        f"/api/handles/{handle}?index=2&overwrite=false",
        headers=tenant.handle_admin,
        json={"values": [{"index": 2, "type": "EMAIL", "data": "x@b.c"}]},
    )
    assert clash.status_code == 409 and clash.json()["responseCode"] == 201


async def test_filters_and_no_matching_values(client):
    tenant = await onboard(client, "filters")
    handle = f"{tenant.prefix}/f1"
    await client.put(
        f"/api/handles/{handle}",
        headers=tenant.handle_admin,
        json=[
            URL_VALUE,
            {"index": 2, "type": "URL.mirror", "data": "https://m"},
            {"index": 3, "type": "EMAIL", "data": "e"},
        ],
    )
    only_email = (await client.get(f"/api/handles/{handle}?type=EMAIL")).json()["values"]
    assert [v["index"] for v in only_email] == [3]
    subtypes = (await client.get(f"/api/handles/{handle}?type=URL.")).json()["values"]
    assert [v["index"] for v in subtypes] == [1, 2]
    either = (await client.get(f"/api/handles/{handle}?index=1&type=EMAIL")).json()["values"]
    assert [v["index"] for v in either] == [1, 3]
    none = await client.get(f"/api/handles/{handle}?type=NOPE")
    assert none.status_code == 200 and none.json()["responseCode"] == 200


async def test_private_values_are_shown_only_to_administrators(client):
    tenant = await onboard(client, "private")
    handle = f"{tenant.prefix}/secret-plan"
    await client.put(
        f"/api/handles/{handle}",
        headers=tenant.handle_admin,
        json=[URL_VALUE, {"index": 5, "type": "NOTE", "data": "internal", "permissions": "1100"}],
    )
    public = (await client.get(f"/api/handles/{handle}")).json()["values"]
    assert [v["index"] for v in public] == [1]
    admin = (await client.get(f"/api/handles/{handle}", headers=tenant.handle_admin)).json()["values"]
    assert [v["index"] for v in admin] == [1, 5] and admin[1]["permissions"] == "1100"
    other = await onboard(client, "nosy")
    nosy = (await client.get(f"/api/handles/{handle}", headers=other.handle_admin)).json()["values"]
    assert [v["index"] for v in nosy] == [1]


async def test_cross_enterprise_write_is_refused(client):
    owner = await onboard(client, "owner")
    intruder = await onboard(client, "intruder")
    handle = f"{owner.prefix}/mine"
    assert (await client.put(f"/api/handles/{handle}", json=[URL_VALUE], headers=owner.handle_admin)).status_code == 201
    for method, url, body in [
        ("PUT", f"/api/handles/{owner.prefix}/theirs", [URL_VALUE]),
        ("PUT", f"/api/handles/{handle}", [URL_VALUE | {"data": "https://evil"}]),
        ("DELETE", f"/api/handles/{handle}", None),
    ]:
        response = await client.request(method, url, json=body, headers=intruder.handle_admin)
        assert response.status_code == 403, response.text
        assert response.json()["responseCode"] == 400
    assert (await client.get(f"/api/handles/{handle}")).json()["values"][0]["data"] == URL_VALUE["data"]
    assert (await client.get(f"/api/handles/{owner.prefix}/theirs")).status_code == 404


async def test_authentication_errors(client):
    tenant = await onboard(client, "auth")
    handle = f"{tenant.prefix}/a"
    anonymous = await client.put(f"/api/handles/{handle}", json=[URL_VALUE])
    assert anonymous.status_code == 401 and anonymous.json()["responseCode"] == 402
    wrong = await client.put(
        f"/api/handles/{handle}", json=[URL_VALUE], headers=basic(f"300:{tenant.prefix}/admin", "wrong")
    )
    assert wrong.status_code == 401 and wrong.json()["responseCode"] == 402
    # percent-encoded usernames (as pyhandle sends them) work
    encoded = await client.put(
        f"/api/handles/{handle}", json=[URL_VALUE], headers=basic(f"300%3A{tenant.prefix}/admin", tenant.password)
    )
    assert encoded.status_code == 201
    node_admin = await client.put(
        f"/api/handles/{tenant.prefix}/by-node-admin",
        json=[URL_VALUE],
        headers=basic("300:0.NA/88.118", ADMIN_PASSWORD),
    )
    assert node_admin.status_code == 201


async def test_group_membership_in_hs_vlist_is_honoured(client):
    tenant = await onboard(client, "groups")
    # a record administered by the prefix's group 200:0.NA/<prefix>, as Handle clients often make them
    record = f"{tenant.prefix}/group-owned"
    group_admin = {
        "index": 100,
        "type": "HS_ADMIN",
        "data": {
            "format": "admin",
            "value": {"handle": f"0.NA/{tenant.prefix}", "index": 200, "permissions": "011111110011"},
        },
    }
    assert (
        await client.put(f"/api/handles/{record}", json=[group_admin, URL_VALUE], headers=tenant.handle_admin)
    ).status_code == 201
    # a second identity with its own secret
    member = f"{tenant.prefix}/operator"
    created = await client.put(
        f"/api/handles/{member}",
        headers=tenant.handle_admin,
        json=[{"index": 300, "type": "HS_SECKEY", "data": "operator-secret", "permissions": "1100"}],
    )
    assert created.status_code == 201
    operator = basic(f"300:{member}", "operator-secret")
    change = [group_admin, URL_VALUE | {"data": "https://changed"}]
    before = await client.put(f"/api/handles/{record}", json=change, headers=operator)
    assert before.status_code == 403
    group = await client.put(
        f"/api/handles/0.NA/{tenant.prefix}?index=200",
        headers=tenant.handle_admin,
        json=[
            {
                "index": 200,
                "type": "HS_VLIST",
                "data": {
                    "format": "vlist",
                    "value": [{"handle": f"{tenant.prefix}/admin", "index": 300}, {"handle": member, "index": 300}],
                },
            }
        ],
    )
    assert group.status_code == 200, group.text
    after = await client.put(f"/api/handles/{record}", json=change, headers=operator)
    assert after.status_code == 200, after.text
    # the group does not extend to identifiers the group does not administer
    assert (await client.put(f"/api/handles/{tenant.prefix}/g1", json=[URL_VALUE], headers=operator)).status_code == 403
    # the secret never comes back
    assert all(v["type"] != "HS_SECKEY" for v in (await client.get(f"/api/handles/{member}")).json()["values"])


async def test_malformed_input_gets_handle_codes_and_writes_nothing(client):
    tenant = await onboard(client, "bad")
    cases = [
        (f"/api/handles/{tenant.prefix}/a b", [URL_VALUE], 400, 102),
        (f"/api/handles/{tenant.prefix}/ok", {"values": [{"index": 0, "type": "URL", "data": "x"}]}, 400, 202),
        (f"/api/handles/{tenant.prefix}/ok", {"values": [{"index": 1, "type": "URL", "data": 5}]}, 400, 202),
        (f"/api/handles/{tenant.prefix}/ok", {"values": [URL_VALUE, URL_VALUE]}, 400, 202),
        (
            f"/api/handles/{tenant.prefix}/ok",
            {"values": [{"index": 1, "type": "URL", "data": "x", "ttl": -1}]},
            400,
            202,
        ),
        (
            f"/api/handles/{tenant.prefix}/ok",
            {"values": [{"index": 1, "type": "X", "data": {"format": "hex", "value": "zz"}}]},
            400,
            202,
        ),
        (f"/api/handles/{tenant.prefix}/ok", "just text", 400, 202),
        ("/api/handles/99.1/foreign", [URL_VALUE], 400, 301),
        ("/api/handles/88.118.4242/unallocated", [URL_VALUE], 400, 301),
        (f"/api/handles/{tenant.prefix}/admin2?overwrite=maybe", [URL_VALUE], 400, 2),
    ]
    for url, body, status, code in cases:
        response = await client.put(url, json=body, headers=tenant.handle_admin)
        assert response.status_code == status, (url, response.text)
        assert response.json()["responseCode"] == code, (url, response.text)
    not_json = await client.put(f"/api/handles/{tenant.prefix}/ok", content=b"{", headers=tenant.handle_admin)
    assert not_json.status_code == 400 and not_json.json()["responseCode"] == 2
    assert (await client.get(f"/api/handles/{tenant.prefix}/ok")).status_code == 404
    reserved = await client.delete(f"/api/handles/{tenant.prefix}/admin", headers=tenant.handle_admin)
    assert reserved.status_code == 403


async def test_mint_new_suffix_and_listing(client):
    tenant = await onboard(client, "minter")
    minted = await client.put(
        f"/api/handles/{tenant.prefix}/batch-?mintNewSuffix=true", json=[URL_VALUE], headers=tenant.handle_admin
    )
    assert minted.status_code == 201
    handle = minted.json()["handle"]
    assert handle.startswith(f"{tenant.prefix}/batch-") and len(handle) > len(tenant.prefix) + 30
    listing = await client.get(f"/api/handles?prefix={tenant.prefix}", headers=tenant.handle_admin)
    assert listing.status_code == 200
    assert set(listing.json()["handles"]) == {handle, f"{tenant.prefix}/admin"}
    assert listing.json()["totalCount"] == "2"
    anonymous = await client.get(f"/api/handles?prefix={tenant.prefix}")
    assert anonymous.status_code == 401 and anonymous.json()["responseCode"] == 402
    paged = await client.get(f"/api/handles?prefix={tenant.prefix}&page=1&pageSize=1", headers=tenant.handle_admin)
    assert len(paged.json()["handles"]) == 1


async def test_history_keeps_every_version(client, fresh_node):
    from registry.handles.history import history

    tenant = await onboard(client, "historian")
    handle = f"{tenant.prefix}/h1"
    await client.put(f"/api/handles/{handle}", json=[URL_VALUE], headers=tenant.handle_admin)
    await client.put(f"/api/handles/{handle}", json=[URL_VALUE | {"data": "https://v2"}], headers=tenant.handle_admin)
    await client.delete(f"/api/handles/{handle}", headers=tenant.handle_admin)
    async with fresh_node.read_session() as session:
        versions = await history(session, handle.lower())
    assert [(v["version"], v["deleted"]) for v in versions] == [(1, False), (2, False), (3, True)]
    assert versions[0]["values"][0]["data"]["value"] == "https://example.com/coil/1"
    assert versions[1]["values"][0]["data"]["value"] == "https://v2"
    assert all(v["updatedBy"] == f"300:{tenant.prefix}/admin" for v in versions)


async def test_recreation_setting_reuses_a_deleted_name_with_a_new_version(fresh_node, database_url):
    import httpx

    from node.app import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(database_url, allow_recreate=True), db=fresh_node)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            tenant = await onboard(client, "recreator")
            handle = f"{tenant.prefix}/again"
            await client.put(f"/api/handles/{handle}", json=[URL_VALUE], headers=tenant.handle_admin)
            await client.delete(f"/api/handles/{handle}", headers=tenant.handle_admin)
            again = await client.put(f"/api/handles/{handle}", json=[URL_VALUE], headers=tenant.handle_admin)
            assert again.status_code == 201
    from registry.kernel import records as repository

    async with fresh_node.read_session() as session:
        assert (await repository.get(session, handle.lower())).version == 3


async def test_concurrent_upserts_of_a_new_identifier_all_succeed(client):
    tenant = await onboard(client, "upserts")
    handle = f"{tenant.prefix}/RACE-1"
    answers = await asyncio.gather(
        *(
            client.put(
                f"/api/handles/{handle}",
                headers=tenant.handle_admin,
                json=[{"index": 1, "type": "URL", "data": f"https://example.com/{n}"}],
            )
            for n in range(8)
        )
    )
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201], [a.text for a in answers]


async def test_a_prefix_na_handle_always_keeps_an_administrator(client):
    tenant = await onboard(client, "keepadmin")
    na = f"0.NA/{tenant.prefix}"
    before = (await client.get(f"/api/handles/{na}")).json()["values"]
    assert {v["type"] for v in before} >= {"HS_ADMIN", "HS_VLIST"}
    node_admin = basic("300:0.NA/88.118", ADMIN_PASSWORD)
    refused = [
        ("PUT", f"/api/handles/{na}", [URL_VALUE], tenant.handle_admin),
        ("PUT", f"/api/handles/{na}", [URL_VALUE], node_admin),
        ("PUT", f"/api/handles/{na}?index=100", [URL_VALUE | {"index": 100}], tenant.handle_admin),
        ("DELETE", f"/api/handles/{na}?index=100", None, tenant.handle_admin),
        ("DELETE", f"/api/handles/{na}?index=100&index=200", None, node_admin),
    ]
    for method, url, body, headers in refused:
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == 400, (method, url, response.text)
        assert response.json()["error"] == "handle.admin_required", response.text
    business = await client.put("/identityv2/data", headers=tenant.headers, json={"handle": na, "value": [URL_VALUE]})
    assert business.json()["error"] == "handle.admin_required", business.text
    assert (await client.get(f"/api/handles/{na}")).json()["values"] == before  # nothing written
    # the enterprise still administers its prefix, and may change its NA handle while an HS_ADMIN stays
    kept = await client.put(f"/api/handles/{na}?index=1", json=[URL_VALUE], headers=tenant.handle_admin)
    assert kept.status_code == 200, kept.text
    assert (await client.delete(f"/api/handles/{na}?index=200", headers=tenant.handle_admin)).status_code == 200
    assert (
        await client.put(f"/api/handles/{tenant.prefix}/still-mine", json=[URL_VALUE], headers=tenant.handle_admin)
    ).status_code == 201


async def test_put_with_index_must_match_the_body(client):
    tenant = await onboard(client, "indexes")
    handle = f"{tenant.prefix}/idx"
    await client.put(f"/api/handles/{handle}", json=[URL_VALUE], headers=tenant.handle_admin)
    email = {"index": 11, "type": "EMAIL", "data": "qa@example.com"}
    for query, body in [
        ("index=10", [email]),  # listed index without a value, value outside the listed ones
        ("index=11&index=12", [email]),  # a listed index without a value
        ("index=11", [email, URL_VALUE]),
    ]:  # a value outside the listed indices
        response = await client.put(f"/api/handles/{handle}?{query}", json=body, headers=tenant.handle_admin)
        assert response.status_code == 400, (query, response.text)
        assert response.json()["responseCode"] == 2 and response.json()["error"] == "handle.index_mismatch"
    assert [v["index"] for v in (await client.get(f"/api/handles/{handle}")).json()["values"]] == [1]
    # index=various: the body's values are added or replaced, the others kept
    various = await client.put(
        f"/api/handles/{handle}?index=various",
        headers=tenant.handle_admin,
        json=[email, URL_VALUE | {"data": "https://example.com/v2"}],
    )
    assert various.status_code == 200, various.text
    values = {v["index"]: v["data"]["value"] for v in (await client.get(f"/api/handles/{handle}")).json()["values"]}
    assert values == {1: "https://example.com/v2", 11: "qa@example.com"}
    added = await client.put(
        f"/api/handles/{handle}?index=various",
        headers=tenant.handle_admin,
        json=[{"index": 12, "type": "NOTE", "data": "n"}],
    )
    assert added.status_code == 200, added.text
    assert [v["index"] for v in (await client.get(f"/api/handles/{handle}")).json()["values"]] == [1, 11, 12]
    clash = await client.put(
        f"/api/handles/{handle}?index=various&overwrite=false", headers=tenant.handle_admin, json=[email]
    )
    assert clash.status_code == 409 and clash.json()["responseCode"] == 201


async def test_listing_counts_with_page_size_zero_and_needs_credentials(client):
    tenant = await onboard(client, "counter")
    for n in range(3):
        await client.put(f"/api/handles/{tenant.prefix}/c{n}", json=[URL_VALUE], headers=tenant.handle_admin)
    counted = await client.get(f"/api/handles?prefix={tenant.prefix}&pageSize=0", headers=tenant.handle_admin)
    assert counted.status_code == 200, counted.text
    assert counted.json()["totalCount"] == "4" and counted.json()["handles"] == []
    for query in (f"prefix={tenant.prefix}", f"prefix={tenant.prefix}&pageSize=0", "prefix=", "pageSize=-3"):
        anonymous = await client.get(f"/api/handles?{query}")
        assert anonymous.status_code == 401, (query, anonymous.text)
        assert anonymous.json()["responseCode"] == 402
