"""Business API identifiers: single writes, template validation, batches of 2000 with bad items, retries."""

from sqlalchemy import func, select

from registry.journal.models import JournalEntry
from registry.kernel.models import HandleRecord
from tests.factories import coil, onboard


async def _count(db, model, *where):
    async with db.read_session() as session:
        return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def test_register_detail_update_delete(client):
    tenant = await onboard(client, "coils")
    item = coil(tenant.prefix, 1)
    created = await client.post("/identityv2/data", json=item, headers=tenant.headers)
    assert created.status_code == 200 and created.json()["status"] == 1, created.text
    assert created.json()["data"] is True and created.headers["x-record-version"] == "1"

    detail = (await client.get(f"/identityv2/data/detail?handle={item['handle']}")).json()["data"]
    assert detail["templateVersion"] == "steel-coil-1.0" and detail["templatePrefix"] == "88.118"
    labelled = {v["type"]: v for v in detail["value"]}
    assert labelled["heatNo"]["name"] == "炉号" and labelled["grade"]["data"]["value"] == "Q235B"
    assert labelled["TEMPLATE"]["index"] == 1001
    assert detail["links"]["upstream"] == f"/trace/upstream?handle={item['handle']}"

    changed = coil(tenant.prefix, 1, grade="Q355B")
    updated = await client.put("/identityv2/data", json=changed, headers=tenant.headers)
    assert updated.json()["data"] is True and updated.headers["x-record-version"] == "2"
    missing = await client.put("/identityv2/data", json=coil(tenant.prefix, 99), headers=tenant.headers)
    assert missing.status_code == 404 and missing.json()["status"] == -2

    deleted = await client.delete(f"/identityv2/data?handle={item['handle']}", headers=tenant.headers)
    assert deleted.json()["status"] == 1
    tomb = await client.get(f"/identityv2/data/detail?handle={item['handle']}")
    assert tomb.status_code == 404 and tomb.json()["error"] == "handle.deleted"
    again = await client.post("/identityv2/data", json=item, headers=tenant.headers)
    assert again.status_code == 409 and again.json()["error"] == "handle.tombstoned"


async def test_template_validation_names_the_item(client):
    tenant = await onboard(client, "validator")
    cases = [
        (coil(tenant.prefix, 1, heatNo=None), "template.required_missing", "heatNo"),
        (coil(tenant.prefix, 2, thickness="thick"), "template.value_invalid", "thickness"),
        (coil(tenant.prefix, 3, thickness="999"), "template.value_invalid", "thickness"),
        (coil(tenant.prefix, 4, grade="Q235-B"), "template.value_invalid", "grade"),
        (coil(tenant.prefix, 5, productionDate="2026-13-01"), "template.value_invalid", "productionDate"),
    ]
    unknown = coil(tenant.prefix, 6)
    unknown["value"].append({"index": 2999, "type": "colour", "data": {"format": "string", "value": "blue"}})
    cases.append((unknown, "template.unknown_item", "colour"))
    wrong_type = coil(tenant.prefix, 7)
    wrong_type["value"][0]["type"] = "coilNumber"
    cases.append((wrong_type, "template.type_mismatch", "coilNumber"))
    no_template = coil(tenant.prefix, 8)
    no_template["templateVersion"] = "no-such-template"
    cases.append((no_template, "template.not_found", "no-such-template"))
    binding = coil(tenant.prefix, 9)
    binding["value"].append({"index": 1001, "type": "TEMPLATE", "data": "x"})
    cases.append((binding, "template.binding_reserved", "1001"))
    for item, error, named in cases:
        response = await client.post("/identityv2/data", json=item, headers=tenant.headers)
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["status"] == -2 and body["error"] == error, body
        assert named in body["message"], body
    assert (await client.get(f"/api/handles/{tenant.prefix}/COIL-2026-000001")).status_code == 404


async def test_vehicle_template_requires_a_valid_vin(client):
    tenant = await onboard(client, "carmaker", industry="automotive")

    def vehicle(vin):
        return {
            "handle": f"{tenant.prefix}/VIN-{vin}",
            "templateVersion": "vehicle-1.0",
            "value": [
                {"index": 2000, "type": "vin", "data": vin},
                {"index": 2001, "type": "model", "data": "EV-7"},
                {"index": 2003, "type": "plant", "data": "Ningbo"},
                {"index": 2004, "type": "productionDate", "data": "2026-10-01"},
            ],
        }

    good = await client.post("/identityv2/data", json=vehicle("1M8GDM9AXKP042788"), headers=tenant.headers)
    assert good.json()["status"] == 1, good.text
    bad = await client.post("/identityv2/data", json=vehicle("1M8GDM9A1KP042788"), headers=tenant.headers)
    assert bad.json()["error"] == "template.value_invalid" and "check digit" in bad.json()["message"]


async def test_batch_of_2000_with_bad_items_writes_exactly_the_good_ones(client, fresh_node):
    tenant = await onboard(client, "bulk")
    other = await onboard(client, "neighbour")
    items = [coil(tenant.prefix, i) for i in range(2000)]
    bad_positions = {
        7: "template.value_invalid",
        500: "handle.suffix_characters",
        1234: "template.required_missing",
        1500: "handle.forbidden",
        1999: "handle.duplicate",
    }
    items[7] = coil(tenant.prefix, 7, thickness="-1")
    items[500]["handle"] = f"{tenant.prefix}/bad suffix"
    items[1234] = coil(tenant.prefix, 1234, grade=None)
    items[1500] = coil(other.prefix, 1500)  # under someone else's prefix
    items[1999] = coil(tenant.prefix, 0)  # same identifier as item 0
    response = await client.post("/identityv2/data/batchCreate", json=items, headers=tenant.headers)
    assert response.status_code == 200, response.text
    results = response.json()["data"]
    assert len(results) == 2000
    assert [r["handle"] for r in results] == [i["handle"] for i in items]
    for position, result in enumerate(results):
        if position in bad_positions:
            assert result["code"] != 1 and result["error"] == bad_positions[position], (position, result)
        else:
            assert result["code"] == 1, (position, result)
    assert results[1500]["code"] == -3
    assert response.json()["message"] == "success"  # per-item failures in data, as SNMS answers
    assert await _count(fresh_node, HandleRecord, HandleRecord.prefix_key == tenant.prefix.lower()) == 1995 + 1
    assert await _count(fresh_node, HandleRecord, HandleRecord.prefix_key == other.prefix.lower()) == 1
    assert (
        await _count(
            fresh_node,
            JournalEntry,
            JournalEntry.kind == "handle.created",
            JournalEntry.subject_key.like(f"{tenant.prefix}/coil%"),
        )
        == 1995
    )

    # the client timed out and re-sends the whole batch: identical items succeed, nothing is written twice
    retry = await client.post("/identityv2/data/batchCreate", json=items, headers=tenant.headers)
    again = retry.json()["data"]
    assert [r["code"] == 1 for r in again] == [r["code"] == 1 for r in results]
    assert (
        await _count(
            fresh_node,
            JournalEntry,
            JournalEntry.kind == "handle.created",
            JournalEntry.subject_key.like(f"{tenant.prefix}/coil%"),
        )
        == 1995
    )

    # the same identifier with different content is not "identical": reported, not overwritten
    changed = [coil(tenant.prefix, 1, grade="DC01")]
    conflict = (await client.post("/identityv2/data/batchCreate", json=changed, headers=tenant.headers)).json()
    assert conflict["data"][0]["error"] == "handle.exists"
    detail = (await client.get(f"/identityv2/data/detail?handle={tenant.prefix}/COIL-2026-000001")).json()
    assert {v["type"]: v["data"]["value"] for v in detail["data"]["value"]}["grade"] == "Q235B"


async def test_batch_update_and_delete_report_per_item(client, fresh_node):
    tenant = await onboard(client, "batcher")
    await client.post(
        "/identityv2/data/batchCreate", json=[coil(tenant.prefix, i) for i in range(10)], headers=tenant.headers
    )
    updates = [coil(tenant.prefix, i, netWeight="22.0") for i in range(10)] + [coil(tenant.prefix, 77)]
    result = (await client.post("/identityv2/data/batchUpdate", json={"data": updates}, headers=tenant.headers)).json()
    assert [r["code"] for r in result["data"]] == [1] * 10 + [-2]
    assert all(r["version"] == 2 for r in result["data"][:10])
    retried = (await client.post("/identityv2/data/batchUpdate", json={"data": updates}, headers=tenant.headers)).json()
    assert all(r["version"] == 2 for r in retried["data"][:10])  # unchanged content: no new version

    handles = [f"{tenant.prefix}/COIL-2026-{i:06d}" for i in range(5)] + [f"{tenant.prefix}/never-was"]
    deleted = (await client.post("/identityv2/data/batchDelete", json=handles, headers=tenant.headers)).json()
    assert [r["code"] for r in deleted["data"]] == [1] * 5 + [-2]
    redeleted = (await client.post("/identityv2/data/batchDelete", json=handles, headers=tenant.headers)).json()
    assert [r["code"] for r in redeleted["data"]] == [1] * 5 + [-2]
    assert await _count(fresh_node, HandleRecord, HandleRecord.deleted.is_(True)) == 5


async def test_batch_limits_and_malformed_batches(client):
    tenant = await onboard(client, "limits")
    too_many = [coil(tenant.prefix, i) for i in range(2001)]
    response = await client.post("/identityv2/data/batchCreate", json=too_many, headers=tenant.headers)
    assert response.status_code == 400 and response.json()["error"] == "request.batch_too_big"
    for body in ([], {"data": "x"}, "text"):
        response = await client.post("/identityv2/data/batchCreate", json=body, headers=tenant.headers)
        assert response.status_code == 400 and response.json()["status"] == -2
    mixed = [coil(tenant.prefix, 1), "not-an-object", {"handle": 5}, {"handle": f"{tenant.prefix}/v", "value": "nope"}]
    results = (await client.post("/identityv2/data/batchCreate", json=mixed, headers=tenant.headers)).json()["data"]
    assert [r["code"] for r in results] == [1, -2, -2, -2]
    unauthenticated = await client.post("/identityv2/data/batchCreate", json=[coil(tenant.prefix, 2)])
    assert unauthenticated.status_code == 401 and unauthenticated.json()["status"] == -1


async def test_oversized_body_is_refused_in_the_face_format(client, settings):
    tenant = await onboard(client, "huge")
    blob = b"[" + b" " * (settings.max_body_bytes + 10) + b"]"
    business = await client.post(
        "/identityv2/data/batchCreate", content=blob, headers=tenant.headers | {"content-type": "application/json"}
    )
    assert business.status_code == 413 and business.json()["status"] == -2
    handle = await client.put(f"/api/handles/{tenant.prefix}/big", content=blob, headers=tenant.handle_admin)
    assert handle.status_code == 413 and handle.json()["responseCode"] == 2
