"""Resolution faces: bad input never a 500 nor cached, the proxy face, history, authoritative reads."""

import pytest

from tests.factories import coil, onboard

URL = {"index": 1, "type": "URL", "data": "https://example.com/doc"}


@pytest.mark.parametrize(
    "path,status,code",
    [
        ("/api/handles/88.118/" + "x" * 10_000, 400, 102),
        ("/api/handles/88.118/a%00b", 400, 102),
        ("/api/handles/88.118/a%0Ab", 400, 102),
        ("/api/handles/88.118%2Fnothing", 404, 100),
        ("/api/handles/88.118/a%2Fb", 400, 102),
        ("/api/handles/no-slash", 400, 102),
        ("/api/handles/88.118/x?index=abc", 400, 2),
        ("/api/handles/88.118/x?" + "&".join(f"type=T{i}" for i in range(17)), 400, 2),
    ],
)
async def test_bad_resolutions_get_handle_codes(client, path, status, code):
    response = await client.get(path)
    assert response.status_code == status, response.text
    assert response.json()["responseCode"] == code


async def test_bad_requests_are_not_cached(client):
    tenant = await onboard(client, "nocache")
    assert (await client.get(f"/api/handles/{tenant.prefix}/later")).status_code == 404
    await client.put(f"/api/handles/{tenant.prefix}/later", json=[URL], headers=tenant.handle_admin)
    assert (await client.get(f"/api/handles/{tenant.prefix}/later")).status_code == 200
    assert (await client.get(f"/api/handles/{tenant.prefix}/LATER?type=URL")).json()[
        "handle"
    ] == f"{tenant.prefix}/LATER"


async def test_head_and_other_methods(client):
    tenant = await onboard(client, "methods")
    await client.put(f"/api/handles/{tenant.prefix}/m", json=[URL], headers=tenant.handle_admin)
    head = await client.head(f"/api/handles/{tenant.prefix}/m")
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 0
    assert (await client.head(f"/api/handles/{tenant.prefix}/none")).status_code == 404
    for method in ("OPTIONS", "POST", "PATCH"):
        response = await client.request(method, f"/api/handles/{tenant.prefix}/m")
        assert response.status_code == 405, (method, response.text)
        assert response.json()["responseCode"] == 2


async def test_authoritative_and_authorised_reads_bypass_the_cache(client):
    tenant = await onboard(client, "authread")
    handle = f"{tenant.prefix}/private"
    await client.put(
        f"/api/handles/{handle}",
        headers=tenant.handle_admin,
        json=[URL, {"index": 9, "type": "NOTE", "data": "internal", "permissions": "1100"}],
    )
    assert [v["index"] for v in (await client.get(f"/api/handles/{handle}")).json()["values"]] == [1]
    assert [v["index"] for v in (await client.get(f"/api/handles/{handle}?auth=true")).json()["values"]] == [1]
    admin = (await client.get(f"/api/handles/{handle}", headers=tenant.handle_admin)).json()["values"]
    assert [v["index"] for v in admin] == [1, 9]


async def test_proxy_redirects_or_shows_the_record(client):
    tenant = await onboard(client, "proxy")
    handle = f"{tenant.prefix}/doc-1"
    await client.put(f"/api/handles/{handle}", json=[URL], headers=tenant.handle_admin)
    redirect = await client.get(f"/{handle}")
    assert redirect.status_code == 302 and redirect.headers["location"] == "https://example.com/doc"
    as_json = await client.get(f"/{handle}?noredirect")
    assert as_json.status_code == 200 and as_json.json()["values"][0]["type"] == "URL"
    page = await client.get(f"/{handle}?noredirect", headers={"accept": "text/html"})
    assert page.status_code == 200 and "<table>" in page.text and "https://example.com/doc" in page.text
    missing = await client.get(f"/{tenant.prefix}/none", headers={"accept": "text/html"})
    assert missing.status_code == 404 and "not registered" in missing.text
    script = await client.put(
        f"/api/handles/{tenant.prefix}/x",
        headers=tenant.handle_admin,
        json=[{"index": 2, "type": "NOTE", "data": "<script>alert(1)</script>"}],
    )
    assert script.status_code == 201
    escaped = await client.get(f"/{tenant.prefix}/x", headers={"accept": "text/html"})
    assert "<script>" not in escaped.text and "&lt;script&gt;" in escaped.text
    assert (await client.get("/docs")).status_code == 200  # the catch-all does not shadow the operations routes


async def test_history_says_who_changed_which_value_when(client):
    tenant = await onboard(client, "history")
    item = coil(tenant.prefix, 1)
    await client.post("/identityv2/data", json=item, headers=tenant.headers)
    await client.put("/identityv2/data", json=coil(tenant.prefix, 1, grade="Q355B"), headers=tenant.headers)
    await client.delete(f"/identityv2/data?handle={item['handle']}", headers=tenant.headers)
    response = await client.get(f"/identityv2/data/history?handle={item['handle']}", headers=tenant.headers)
    versions = response.json()["data"]["versions"]
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert versions[1]["modified"] == [2002] and versions[1]["added"] == [] and versions[1]["removed"] == []
    assert versions[2]["deleted"] and versions[2]["values"] == []
    assert all(v["updatedBy"] == f"user:{tenant.username}" for v in versions)
    other = await onboard(client, "snoop")
    refused = await client.get(f"/identityv2/data/history?handle={item['handle']}", headers=other.headers)
    assert refused.status_code == 403 and refused.json()["status"] == -3
