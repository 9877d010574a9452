"""Search by value (the reverse look-up of ``/hrls/handles``, and the listing's value filter) over HTTP on PostgreSQL:
matches, wildcards, who may find what, paging, bad input, and an index that every write keeps exact."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from registry.kernel.models import HandleRecord, IndexedValue
from registry.kernel.value_index import entries
from tests.conftest import embedded_node
from tests.factories import coil, onboard

URL_1 = {"index": 1, "type": "URL", "data": "https://Example.com/parts/1"}
EMAIL = {"index": 2, "type": "EMAIL", "data": "qa@example.com"}
URL_2 = {"index": 1, "type": "URL", "data": "https://example.com/parts/2"}
NOTE = {"index": 3, "type": "NOTE", "data": "internal-batch-77", "permissions": "1100"}
URL_OTHER = {"index": 1, "type": "URL", "data": "https://other.org/x"}


async def index_is_exact(db) -> None:
    """The oracle: the index holds exactly the rows the writer's rule gives for the live records."""
    columns = ("handle_key", "value_index", "prefix_key", "type_key", "value_key", "public_read")
    async with db.read_session() as session:
        records = (await session.execute(select(HandleRecord).where(HandleRecord.deleted.is_(False)))).scalars()
        expected = sorted(
            tuple(e[c] for c in columns) for r in records for e in entries(r.handle_key, r.prefix_key, r.record_values)
        )
        rows = (await session.execute(select(IndexedValue))).scalars()
        actual = sorted(tuple(getattr(row, c) for c in columns) for row in rows)
    assert actual == expected


async def _records(client, tenant):
    a, b, c = f"{tenant.prefix}/A", f"{tenant.prefix}/B", f"{tenant.prefix}/C"
    for handle, values in ((a, [URL_1, EMAIL]), (b, [URL_2, NOTE]), (c, [URL_OTHER])):
        response = await client.put(f"/api/handles/{handle}", json=values, headers=tenant.handle_admin)
        assert response.status_code == 201, response.text
    return a, b, c


async def _found(client, query, headers=None, status=200):
    response = await client.get(f"/hrls/handles?{query}", headers=headers or {})
    assert response.status_code == status, response.text
    return response.json()


async def test_exact_prefix_and_inner_wildcards_find_public_values(client, db):
    tenant = await onboard(client, "finder")
    a, b, c = await _records(client, tenant)

    assert await _found(client, "URL=https://example.com/parts/1") == [a]  # case is ignored
    assert await _found(client, "URL=HTTPS://EXAMPLE.COM/PARTS/1") == [a]
    assert await _found(client, "URL=https://example.com/parts/*") == [a, b]
    assert await _found(client, "url=https://example.com/*/2") == [b]
    assert await _found(client, "URL=*/parts/*") == [a, b]  # a leading wildcard: the trigram index
    assert await _found(client, "URL=https://example.com/parts/*&EMAIL=qa@*") == [a]  # every field must match
    assert await _found(client, "URL=https://example.com/parts/3") == []
    assert await _found(client, "URL=https://example.com/parts/_") == []  # only * is a wildcard
    assert await _found(client, "URL=https://example.com/parts/%25*") == []
    assert await _found(client, "NOSUCHTYPE=*") == []
    assert set(await _found(client, f"URL=*&prefix={tenant.prefix}")) == {a, b, c}
    assert set(await _found(client, "URL=*", tenant.handle_admin)) >= {a, b, c}
    # /hrls/handles/{prefix}, as the servlet also answers
    response = await client.get(f"/hrls/handles/{tenant.prefix}?URL=*")
    assert set(response.json()) == {a, b, c}

    # paging as the servlet counts it: limit, and page = matches skipped
    assert await _found(client, "URL=https://example.com/parts/*&limit=1") == [a]
    assert await _found(client, "URL=https://example.com/parts/*&limit=1&page=1") == [b]
    assert await _found(client, "URL=https://example.com/parts/*&limit=1&page=2") == []

    # retrieverecords: the readable values of each identifier, as type and value
    records = await _found(client, "URL=https://example.com/parts/*&retrieverecords=true")
    assert records[a] == [
        {"type": "URL", "value": "https://Example.com/parts/1"},
        {"type": "EMAIL", "value": "qa@example.com"},
    ]
    assert records[b] == [{"type": "URL", "value": "https://example.com/parts/2"}]  # the restricted NOTE hidden

    ping = await client.get("/hrls/ping")
    assert ping.status_code == 200 and ping.text == "OK\n"
    await index_is_exact(db)


async def test_restricted_values_are_found_only_by_those_who_may_read_them(client, db):
    mill = await onboard(client, "hidemill")
    buyer = await onboard(client, "hidebuyer", industry="automotive")
    _, b, _ = await _records(client, mill)

    assert await _found(client, "NOTE=internal-batch-77") == []  # anonymous: public values only
    assert await _found(client, "NOTE=internal-*", mill.handle_admin) == [b]  # its administrator
    assert await _found(client, "NOTE=internal-*", mill.headers) == [b]  # the enterprise's bearer token
    assert await _found(client, "NOTE=internal-*", buyer.handle_admin) == []
    records = await _found(client, "NOTE=internal-*&retrieverecords=true", mill.handle_admin)
    assert {"type": "NOTE", "value": "internal-batch-77"} in records[b]

    # a read grant opens the value to the buyer, and only to it
    response = await client.put(
        "/identityv2/data/readers",
        params={"handle": b},
        headers=mill.headers,
        json={"index": 3, "readers": [f"enterprise:{buyer.enterprise_id}"]},
    )
    assert response.status_code == 200, response.text
    assert await _found(client, "NOTE=internal-*", buyer.headers) == [b]
    assert await _found(client, "NOTE=internal-batch-77", buyer.handle_admin) == [b]
    assert await _found(client, "NOTE=internal-*") == []

    # a search that matches a public value and a hidden one needs both readable
    assert await _found(client, "URL=https://example.com/parts/2&NOTE=internal-*") == []
    assert await _found(client, "URL=https://example.com/parts/2&NOTE=internal-*", mill.handle_admin) == [b]

    # bad credentials are refused, not treated as anonymous
    response = await client.get(
        "/hrls/handles?URL=*", headers={"Authorization": "Basic MzAwOm5vYm9keS9hZG1pbjp3cm9uZw=="}
    )
    assert response.status_code == 401 and response.json()["responseCode"] == 402


async def test_every_write_keeps_the_index_exact(client, db):
    tenant = await onboard(client, "writer")
    handle = f"{tenant.prefix}/W1"
    put = await client.put(f"/api/handles/{handle}", json=[URL_1, EMAIL], headers=tenant.handle_admin)
    assert put.status_code == 201
    assert await _found(client, "EMAIL=qa@example.com") == [handle]

    # replace the whole record
    await client.put(f"/api/handles/{handle}", json=[URL_2], headers=tenant.handle_admin)
    assert await _found(client, "EMAIL=qa@example.com") == []
    assert await _found(client, "URL=https://example.com/parts/2") == [handle]
    # add one value (index=), then remove it (DELETE index=)
    patched = await client.put(
        f"/api/handles/{handle}?index=5",
        json=[{"index": 5, "type": "EMAIL", "data": "x@y.z"}],
        headers=tenant.handle_admin,
    )
    assert patched.status_code == 200, patched.text
    assert await _found(client, "EMAIL=x@y.z") == [handle]
    await client.delete(f"/api/handles/{handle}?index=5", headers=tenant.handle_admin)
    assert await _found(client, "EMAIL=x@y.z") == []
    # a value made restricted disappears for anonymous callers
    restricted = {**URL_2, "permissions": "1100"}
    await client.put(f"/api/handles/{handle}", json=[restricted], headers=tenant.handle_admin)
    assert await _found(client, "URL=https://example.com/parts/2") == []
    assert await _found(client, "URL=https://example.com/parts/2", tenant.handle_admin) == [handle]
    await index_is_exact(db)
    # delete the record
    await client.delete(f"/api/handles/{handle}", headers=tenant.handle_admin)
    assert await _found(client, "URL=https://example.com/parts/2", tenant.handle_admin) == []

    # the business API: register, batch register, update, delete
    item = coil(tenant.prefix, 1)
    assert (await client.post("/identityv2/data", json=item, headers=tenant.headers)).json()["status"] == 1
    assert await _found(client, "coilNo=C00000001") == [item["handle"]]
    batch = [coil(tenant.prefix, n) for n in (2, 3)]
    answer = await client.post("/identityv2/data/batchCreate", json=batch, headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    assert await _found(client, "coilNo=C0000000*") == [item["handle"]] + [i["handle"] for i in batch]
    changed = coil(tenant.prefix, 1, grade="Q355B")
    await client.put("/identityv2/data", json=changed, headers=tenant.headers)
    assert await _found(client, "coilNo=C00000001&grade=q355b") == [item["handle"]]
    assert await _found(client, "coilNo=C00000001&grade=Q235B") == []
    await client.delete(f"/identityv2/data?handle={item['handle']}", headers=tenant.headers)
    assert await _found(client, "coilNo=C00000001") == []
    await index_is_exact(db)


async def test_long_values_match_in_full(client, db):
    tenant = await onboard(client, "longer")
    head = "https://example.com/" + "a" * 300
    one, two = f"{tenant.prefix}/L1", f"{tenant.prefix}/L2"
    for handle, tail in ((one, "/one"), (two, "/two")):
        values = [{"index": 1, "type": "URL", "data": head + tail}]
        assert (await client.put(f"/api/handles/{handle}", json=values, headers=tenant.handle_admin)).status_code == 201
    assert await _found(client, f"URL={head}/one") == [one]  # beyond the indexed head: checked on the record
    assert await _found(client, f"URL={head}/*") == [one, two]
    assert await _found(client, "URL=https://example.com/*/two") == [two]
    assert await _found(client, f"URL={head}/*&URL=*/two") == [two]  # a second field's leading wildcard, in full
    await index_is_exact(db)


def test_a_prefix_range_ends_after_every_string_it_starts():
    from registry.kernel.value_index import _successor

    assert _successor("abc") == "abd"
    assert _successor("a" + chr(0xD7FF)) == "a" + chr(0xE000)  # no surrogate as a bound
    assert _successor("a" + chr(0x10FFFF) * 2) == "b"
    assert _successor(chr(0x10FFFF)) is None


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("", "search.no_field"),
        ("limit=10", "search.no_field"),
        ("URL=", "search.empty_value"),
        ("URL=" + "x" * 10_000, "search.value_too_long"),
        ("T" * 65 + "=x", "search.bad_field"),
        ("&".join(f"T{n}=x" for n in range(9)), "search.too_many_fields"),
        ("URL=*ab*", "search.leading_wildcard"),
        ("URL=x&limit=0", "query.bad_parameter"),
        ("URL=x&limit=10001", "query.bad_parameter"),
        ("URL=x&limit=ten", "query.bad_parameter"),
        ("URL=x&page=-1", "query.bad_parameter"),
        ("URL=x&page=99999999999999999999", "query.bad_parameter"),
        ("URL=x&retrieverecords=maybe", "request.bad_flag"),
    ],
)
async def test_bad_searches_get_a_handle_error(client, query, error):
    response = await client.get(f"/hrls/handles?{query}")
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["responseCode"] == 2 and body["error"] == error and body["message"]


async def test_other_methods_answer_in_the_handle_envelope(client):
    response = await client.post("/hrls/handles?URL=x")
    assert response.status_code == 405 and response.json()["responseCode"] == 2


async def test_the_listing_filters_by_value(client, db):
    tenant = await onboard(client, "lister")
    a, b, c = await _records(client, tenant)
    base = f"/api/handles?prefix={tenant.prefix}"
    listing = (await client.get(f"{base}&URL=https://example.com/parts/*", headers=tenant.handle_admin)).json()
    assert listing["handles"] == [a, b] and listing["totalCount"] == "2"
    listing = (await client.get(f"{base}&NOTE=internal*&pageSize=0", headers=tenant.handle_admin)).json()
    assert listing["handles"] == [] and listing["totalCount"] == "1"
    listing = (await client.get(f"{base}&URL=*&page=1&pageSize=2", headers=tenant.handle_admin)).json()
    assert len(listing["handles"]) == 1 and listing["totalCount"] == "3"
    unfiltered = (await client.get(base, headers=tenant.handle_admin)).json()
    assert set(unfiltered["handles"]) >= {a, b, c}
    bad = await client.get(f"{base}&URL=", headers=tenant.handle_admin)
    assert bad.status_code == 400 and bad.json()["error"] == "search.empty_value"
    assert (await client.get(f"{base}&URL=*")).status_code == 401  # still for its administrators only


async def test_search_can_require_credentials(client, settings, monkeypatch):
    monkeypatch.setattr(settings, "search_anonymous", False)
    tenant = await onboard(client, "closed")
    await _records(client, tenant)
    refused = await client.get("/hrls/handles?URL=*")
    assert refused.status_code == 401 and refused.json()["error"] == "search.unauthenticated"
    assert (await client.get("/hrls/handles?URL=https://other.org/x", headers=tenant.handle_admin)).json() == [
        f"{tenant.prefix}/C"
    ]


async def test_the_embedded_sqlite_node_searches_too(tmp_path):
    async with embedded_node(tmp_path) as (http, db):
        tenant = await onboard(http, "lite")
        a, b, _ = await _records(http, tenant)
        assert await _found(http, "URL=https://example.com/parts/1") == [a]
        assert await _found(http, "URL=https://example.com/parts/*") == [a, b]
        assert await _found(http, "URL=https://example.com/*/2&limit=5") == [b]
        assert await _found(http, "NOTE=internal*") == []
        assert await _found(http, "NOTE=internal*", tenant.handle_admin) == [b]
        refused = await _found(http, "URL=*/parts/*", status=400)
        assert refused["error"] == "search.leading_wildcard" and "trigram" in refused["message"]
        await http.put(f"/api/handles/{b}", json=[URL_OTHER], headers=tenant.handle_admin)
        assert await _found(http, "URL=https://example.com/parts/*") == [a]
        await index_is_exact(db)
