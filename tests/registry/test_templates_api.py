"""Metadata templates through the business API: publish, incremental update, validation of identifiers."""

from tests.factories import admin_headers, onboard


def _template(prefix, version="coil-lite-1"):
    return {
        "prefix": prefix,
        "version": version,
        "description": "精简钢卷",
        "industryCategory": "C",
        "items": [
            {
                "name": "钢卷号",
                "idType": "coilNo",
                "idIndex": 2000,
                "required": True,
                "metadata": {"type": "string", "minLength": 3, "maxLength": 20},
            },
            {
                "name": "重量",
                "idType": "weight",
                "idIndex": 2001,
                "required": False,
                "metadata": {"type": "number", "minimum": 0, "maximum": 40, "unit": "t"},
            },
        ],
    }


async def test_seed_templates_are_published_under_the_node_prefix(client):
    listed = (await client.get("/snms/api/v5/template/list")).json()["data"]
    assert {t["version"] for t in listed} == {
        "steel-coil-1.0",
        "auto-part-1.0",
        "vehicle-1.0",
        "pack-unit-1.0",
        "pallet-1.0",
    }
    coil = (await client.get("/snms/api/v5/template?prefix=88.118&version=steel-coil-1.0")).json()["data"]
    assert {i["idType"]: i["name"] for i in coil["items"]}["heatNo"] == "炉号"
    missing = await client.get("/snms/api/v5/template?prefix=88.118&version=nope")
    assert missing.status_code == 404 and missing.json()["status"] == -2


async def test_enterprise_publishes_and_updates_its_own_template(client):
    tenant = await onboard(client, "tmpl")
    created = await client.post("/snms/api/v5/template", json=_template(tenant.prefix), headers=tenant.headers)
    assert created.status_code == 200 and created.json()["data"] is True, created.text
    duplicate = await client.post("/snms/api/v5/template", json=_template(tenant.prefix), headers=tenant.headers)
    assert duplicate.status_code == 409 and duplicate.json()["error"] == "template.exists"

    record = {
        "handle": f"{tenant.prefix}/lite-1",
        "templateVersion": "coil-lite-1",
        "value": [{"index": 2000, "type": "coilNo", "data": "C1"}],
    }
    refused = await client.post("/identityv2/data", json=record, headers=tenant.headers)
    assert refused.json()["error"] == "template.value_invalid"  # coilNo too short
    record["value"][0]["data"] = "C-0001"
    ok = await client.post("/identityv2/data", json=record, headers=tenant.headers)
    assert ok.json()["status"] == 1
    detail = (await client.get(f"/identityv2/data/detail?handle={record['handle']}")).json()["data"]
    assert detail["templatePrefix"] == tenant.prefix

    update = _template(tenant.prefix)
    update["items"] = [
        {
            "name": "重量(吨)",
            "idType": "weight",
            "idIndex": 2001,
            "required": False,
            "state": 0,
            "metadata": {"type": "number", "minimum": 0, "maximum": 40, "unit": "t"},
        },
        {
            "name": "表面",
            "idType": "surface",
            "idIndex": 2002,
            "required": False,
            "metadata": {"type": "string", "enum": ["FA", "FB", "FC"]},
        },
    ]
    updated = await client.put("/snms/api/v5/template", json=update, headers=tenant.headers)
    assert updated.status_code == 200 and updated.json()["data"] is True, updated.text
    query = f"/snms/api/v5/template?prefix={tenant.prefix}&version=coil-lite-1"
    items = {i["idIndex"]: i for i in (await client.get(query)).json()["data"]["items"]}
    assert set(items) == {2000, 2001, 2002}  # nothing deleted
    assert items[2001]["state"] == 0 and items[2001]["name"] == "重量(吨)"

    disabled_item = dict(
        record,
        handle=f"{tenant.prefix}/lite-2",
        value=[{"index": 2000, "type": "coilNo", "data": "C-0002"}, {"index": 2001, "type": "weight", "data": "3"}],
    )
    response = await client.post("/identityv2/data", json=disabled_item, headers=tenant.headers)
    assert response.json()["error"] == "template.disabled_item" and "weight" in response.json()["message"]

    immutable = _template(tenant.prefix)
    immutable["items"] = [
        {
            "name": "钢卷号",
            "idType": "coilNo",
            "idIndex": 2000,
            "required": True,
            "metadata": {"type": "string", "minLength": 1, "maxLength": 99},
        }
    ]
    response = await client.put("/snms/api/v5/template", json=immutable, headers=tenant.headers)
    assert response.status_code == 409 and response.json()["error"] == "template.item_immutable"


async def test_template_authorisation_and_bad_definitions(client):
    tenant = await onboard(client, "tmpl2")
    other = await onboard(client, "tmpl3")
    foreign = await client.post("/snms/api/v5/template", json=_template(other.prefix), headers=tenant.headers)
    assert foreign.status_code == 403 and foreign.json()["status"] == -3
    node_level = await client.post("/snms/api/v5/template", json=_template("88.118", "x-1"), headers=tenant.headers)
    assert node_level.status_code == 403
    admin = await admin_headers(client)
    assert (
        await client.post("/snms/api/v5/template", json=_template("88.118", "x-1"), headers=admin)
    ).status_code == 200
    bad = _template(tenant.prefix, "bad-1")
    bad["items"][0]["idIndex"] = 1500
    response = await client.post("/snms/api/v5/template", json=bad, headers=tenant.headers)
    assert response.status_code == 400 and "idIndex" in response.json()["message"]
    bad = _template(tenant.prefix, "bad-2")
    bad["items"][1]["idType"] = "coilNo"
    assert (await client.post("/snms/api/v5/template", json=bad, headers=tenant.headers)).status_code == 400
    bad = _template(tenant.prefix, "bad-3")
    bad["items"][0]["metadata"] = {"type": "colour"}
    assert (await client.post("/snms/api/v5/template", json=bad, headers=tenant.headers)).status_code == 400
