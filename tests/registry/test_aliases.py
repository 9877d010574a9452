"""Aliases: GS1 keys, Ecode, OID and other schemes mapped onto handles as ALIAS values, validated on write, unique
across handles (also against concurrent writers), looked up by /api/aliases, freed when the record goes."""

import asyncio
import csv
import json

from registry.bulk.importer import Importer, ImportRequest
from tests.factories import admin_headers, coil, onboard

GCP_ROUTE = "/snms/api/v5/gs1/company-prefixes"
GTIN = "06901234000016"  # under the GS1 company prefix 6901234


def alias(index: int, text: str) -> dict:
    return {"index": index, "type": "ALIAS", "data": {"format": "string", "value": text}}


async def _tenant_with_company_prefix(client, name: str, company_prefix: str = "6901234"):
    tenant = await onboard(client, name)
    declared = await client.post(GCP_ROUTE, json={"companyPrefix": company_prefix}, headers=tenant.headers)
    assert declared.status_code == 201, declared.text
    admin = await admin_headers(client)
    approved = await client.post(f"{GCP_ROUTE}/{company_prefix}/audit", json={"approve": True}, headers=admin)
    assert approved.json()["data"]["state"] == 1
    return tenant


async def test_a_gs1_key_maps_onto_a_handle_and_is_looked_up(client):
    tenant = await _tenant_with_company_prefix(client, "aliassteel")
    handle = f"{tenant.prefix}/COIL-A1"
    values = [alias(10, f"https://example.com/01/{GTIN}/21/S1"), alias(11, f"gs1:(01){GTIN}(10)LOT7")]
    created = await client.put(f"/api/handles/{handle}", json=values, headers=tenant.handle_admin)
    assert created.status_code == 201, created.text

    record = (await client.get(f"/api/handles/{handle}")).json()
    assert [v["data"]["value"] for v in record["values"] if v["type"] == "ALIAS"] == [
        f"https://example.com/01/{GTIN}/21/S1",
        f"gs1:(01){GTIN}(10)LOT7",
    ]

    found = await client.get(f"/api/aliases/gs1/(01){GTIN}(21)S1")
    assert found.status_code == 200
    assert found.json() == {
        "responseCode": 1,
        "scheme": "gs1",
        "alias": f"(01){GTIN}(21)S1",
        "matched": f"(01){GTIN}(21)S1",
        "handle": handle,
    }
    by_link = await client.get("/api/aliases", params={"alias": f"https://id.gs1.org/01/{GTIN}/21/S1?17=261231"})
    assert by_link.json()["handle"] == handle
    by_urn = await client.get("/api/aliases", params={"alias": "urn:epc:class:lgtin:6901234.000001.LOT7"})
    assert by_urn.json()["handle"] == handle and by_urn.json()["alias"] == f"(01){GTIN}(10)LOT7"

    # a serial nobody mapped falls back to the less specific key: here none, since neither the lot nor the GTIN
    # alone is mapped; map the GTIN to a product record and the fallback finds it
    assert (await client.get(f"/api/aliases/gs1/(01){GTIN}(21)OTHER")).status_code == 404
    product = f"{tenant.prefix}/PRODUCT-1"
    made = await client.put(f"/api/handles/{product}", json=[alias(10, f"gs1:(01){GTIN}")], headers=tenant.handle_admin)
    assert made.status_code == 201, made.text
    fallback = (await client.get(f"/api/aliases/gs1/(01){GTIN}(21)OTHER")).json()
    assert fallback["handle"] == product and fallback["matched"] == f"(01){GTIN}"


async def test_refusals_write_nothing(client):
    tenant = await _tenant_with_company_prefix(client, "aliasrefuse")
    other = await _tenant_with_company_prefix(client, "aliasother", company_prefix="6907777")
    handle = f"{tenant.prefix}/COIL-R1"

    cases = [
        (alias(10, "gs1:(01)06901234000017"), 400, "value.bad_alias", "check digit"),
        (alias(10, "gs1:(01)06901234000016(99)x"), 400, "value.bad_alias", "qualifiers"),
        (alias(10, "gs1:(01)06907777000018"), 403, "value.alias_not_yours", "company prefix"),
        (alias(10, "gs1:(00)069012340000000001"), 400, "value.bad_alias", "check digit"),
        (alias(10, "oid:1.40.1"), 400, "value.bad_alias", "X.660"),
        (alias(10, "ecode:9123"), 400, "value.bad_alias", "GB/T 31866"),
        (alias(10, "no scheme here"), 400, "value.bad_alias", "scheme:key"),
        ({"index": 10, "type": "ALIAS", "data": {"format": "hex", "value": "00"}}, 400, "value.bad_alias", "string"),
    ]
    for value, status, error, reason in cases:
        response = await client.put(f"/api/handles/{handle}", json=[value], headers=tenant.handle_admin)
        assert response.status_code == status, (value, response.text)
        assert response.json()["error"] == error and reason in response.json()["message"], response.text
    assert (await client.get(f"/api/handles/{handle}")).status_code == 404

    twice = [alias(10, "oid:1.2.156.1"), alias(11, "OID:1.2.156.1")]
    response = await client.put(f"/api/handles/{handle}", json=twice, headers=tenant.handle_admin)
    assert response.status_code == 400 and "twice" in response.json()["message"]

    mine = await client.put(f"/api/handles/{handle}", json=[alias(10, "duns:123456789")], headers=tenant.handle_admin)
    assert mine.status_code == 201
    theirs = f"{other.prefix}/COIL-R2"
    taken = await client.put(f"/api/handles/{theirs}", json=[alias(10, "duns:123456789")], headers=other.handle_admin)
    assert taken.status_code == 409 and taken.json()["error"] == "value.alias_taken"
    assert handle.lower() in taken.json()["message"]
    assert (await client.get(f"/api/handles/{theirs}")).status_code == 404

    # the record goes, the key is free again
    assert (await client.delete(f"/api/handles/{handle}", headers=tenant.handle_admin)).status_code == 200
    assert (await client.get("/api/aliases/duns/123456789")).status_code == 404
    freed = await client.put(f"/api/handles/{theirs}", json=[alias(10, "duns:123456789")], headers=other.handle_admin)
    assert freed.status_code == 201


async def test_other_schemes(client):
    tenant = await onboard(client, "aliasschemes")
    handle = f"{tenant.prefix}/PALLET-1"
    ecode = "10" + "1" * 32
    values = [alias(10, f"ecode:{ecode}"), alias(11, "oid:1.2.156.112604.7"), alias(12, "vin:LSVAU2180N2183294")]
    assert (await client.put(f"/api/handles/{handle}", json=values, headers=tenant.handle_admin)).status_code == 201
    for path in (f"ecode/{ecode}", "oid/1.2.156.112604.7", "vin/LSVAU2180N2183294"):
        answer = await client.get(f"/api/aliases/{path}")
        assert answer.status_code == 200 and answer.json()["handle"] == handle, path
    missing = await client.get("/api/aliases/oid/1.2.156.9")
    assert missing.status_code == 404 and missing.json()["responseCode"] == 100
    bad = await client.get("/api/aliases/gs1/(01)06901234000017")
    assert bad.status_code == 400 and bad.json()["error"] == "value.bad_alias"
    assert (await client.get("/api/aliases")).status_code == 400


async def test_concurrent_writers_cannot_both_take_a_key(client):
    tenant = await onboard(client, "aliasrace")
    results = await asyncio.gather(
        *(
            client.put(
                f"/api/handles/{tenant.prefix}/RACE-{n}",
                json=[alias(10, "duns:987654321")],
                headers=tenant.handle_admin,
            )
            for n in range(6)
        )
    )
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201, 409, 409, 409, 409, 409], [r.text for r in results]
    assert all(r.json()["error"] == "value.alias_taken" for r in results if r.status_code == 409)


async def test_the_business_batch_carries_aliases(client):
    tenant = await _tenant_with_company_prefix(client, "aliasbatch")
    items = []
    for serial in range(1, 4):
        item = coil(tenant.prefix, serial)
        item["value"].append(
            {"index": 10, "type": "ALIAS", "data": {"format": "string", "value": f"gs1:(01){GTIN}(21)B{serial}"}}
        )
        items.append(item)
    clash = coil(tenant.prefix, 9)
    clash["value"].append(
        {"index": 10, "type": "ALIAS", "data": {"format": "string", "value": f"gs1:(01){GTIN}(21)B1"}}
    )
    items.append(clash)
    response = await client.post("/identityv2/data/batchCreate", json=items, headers=tenant.headers)
    assert response.status_code == 200, response.text
    results = response.json()["data"]
    assert [r["code"] for r in results][:3] == [1, 1, 1], results
    assert results[3]["code"] != 1 and "already names" in results[3]["msg"], results
    found = await client.get(f"/api/aliases/gs1/(01){GTIN}(21)B2")
    assert found.json()["handle"] == f"{tenant.prefix}/COIL-2026-000002"


async def test_secnode_import_maps_a_column_of_gs1_keys(client, fresh_node, settings, tmp_path):
    tenant = await _tenant_with_company_prefix(client, "aliasimport")
    rows = [
        {"编号": f"COIL-{n}", "钢卷号": f"C{n:08d}", "炉号": "H000001", "牌号": "Q235B", "产品标准": "GB/T 700-2006",
         "厚度": "2.5", "宽度": "1250", "净重": "21.4", "生产日期": "2026-11-20", "GTIN+serial": f"(01){GTIN}(21)I{n}"}
        for n in range(3)
    ]  # fmt: skip
    rows.append(dict(rows[0], 编号="COIL-9"))  # the same key again: refused, the others go on
    source = tmp_path / "coils.csv"
    with source.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    mapping = tmp_path / "mapping.json"
    names = ["suffix", "coilNo", "heatNo", "grade", "productStandard", "thickness", "width", "netWeight"]
    mapping.write_text(
        json.dumps(
            dict(zip(list(rows[0])[:8], names, strict=True))
            | {"生产日期": "productionDate", "GTIN+serial": "alias:gs1"}
        )
    )
    done = await Importer(
        fresh_node,
        settings,
        ImportRequest(path=source, prefix=tenant.prefix, template="steel-coil-1.0", mapping=mapping),
    ).run()
    assert (done.counts.created, done.counts.failed) == (3, 1)
    record = (await client.get(f"/api/handles/{tenant.prefix}/COIL-2")).json()
    assert {"index": 1100, "type": "ALIAS", "value": f"gs1:(01){GTIN}(21)I2"} in [
        {"index": v["index"], "type": v["type"], "value": v["data"]["value"]} for v in record["values"]
    ]
    assert (await client.get(f"/api/aliases/gs1/(01){GTIN}(21)I1")).json()["handle"] == f"{tenant.prefix}/COIL-1"
