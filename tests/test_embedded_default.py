"""Smoke test of the embedded default: `secnode serve` with nothing configured (SQLite file, in-process cache)."""

import httpx

from registry.enterprises.credit_code import check_character
from tests.servers import running_node

PASSWORD = "Embedded-Secret-1"


def _code() -> str:
    body = "91330100799999999"
    return body + check_character(body)


def test_embedded_node_registers_resolves_and_keeps_data_across_restarts(tmp_path):
    env = {"SECNODE_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD}
    with running_node(env, tmp_path) as url:
        http = httpx.Client(base_url=url, timeout=30)
        assert http.get("/readyz").json()["checks"] == {"database": "ok", "cache": "in-process"}
        admin = {
            "Authorization": "Bearer "
            + http.post("/identity/token", json={"username": "admin", "password": PASSWORD}).json()["data"]["token"]
        }
        enterprise = http.post(
            "/snms/api/v5/enterprises",
            json={
                "name": "绿色包装示范公司",
                "creditCode": _code(),
                "industry": "packaging",
                "industryCode": "C2231",
                "contactName": "李四",
                "contactPhone": "021-5555-0000",
                "contactEmail": "ops@example.com",
                "username": "greenpack",
                "password": "Green-Pack-2026",
            },
        ).json()["data"]
        http.post(f"/snms/api/v5/enterprises/{enterprise['id']}/audit", json={"approve": True}, headers=admin)
        user = {
            "Authorization": "Bearer "
            + http.post("/identity/token", json={"username": "greenpack", "password": "Green-Pack-2026"}).json()[
                "data"
            ]["token"]
        }
        prefix = http.post("/snms/api/v5/prefixes", json={}, headers=user).json()["data"]["prefix"]
        assert (
            http.post(f"/snms/api/v5/prefixes/{prefix}/audit", json={"approve": True}, headers=admin).json()["data"][
                "state"
            ]
            == 1
        )
        user = {
            "Authorization": "Bearer "
            + http.post("/identity/token", json={"username": "greenpack", "password": "Green-Pack-2026"}).json()[
                "data"
            ]["token"]
        }
        crates = [
            {
                "handle": f"{prefix}/CRATE-{i:05d}",
                "templateVersion": "pack-unit-1.0",
                "value": [
                    {"index": 2000, "type": "packagingType", "data": "crate"},
                    {"index": 2001, "type": "material", "data": "HDPE"},
                    {"index": 2003, "type": "tareWeight", "data": "2.1"},
                    {"index": 2004, "type": "dimensions", "data": "600x400x300"},
                    {"index": 2010, "type": "manufactureDate", "data": "2026-01-15"},
                ],
            }
            for i in range(50)
        ]
        result = http.post("/identityv2/data/batchCreate", json=crates, headers=user).json()
        assert [r["code"] for r in result["data"]] == [1] * 50, result
        assert http.get(f"/api/handles/{prefix}/crate-00007").json()["values"][1]["type"] == "packagingType"
        packed = http.post(
            "/epcis/capture",
            headers=user,
            json={
                "type": "EPCISDocument",
                "epcisBody": {
                    "eventList": [
                        {
                            "type": "AggregationEvent",
                            "eventTime": f"2026-11-20T08:0{n}:00+08:00",
                            "action": "ADD",
                            "parentID": f"{prefix}/CRATE-0000{n}",
                            "childEPCs": [f"{prefix}/CRATE-0000{n + 1}"],
                            "bizStep": "packing",
                        }
                        for n in (1, 2)
                    ]
                },
            },
        )
        assert packed.status_code == 201 and len(packed.json()["eventIDs"]) == 2, packed.text
        trace = http.get("/trace/upstream", params={"handle": f"{prefix}/CRATE-00001"}, headers=user).json()
        assert {n["status"] for n in trace["nodes"]} == {"found"} and len(trace["edges"]) == 2
        life = http.get("/epcis/events", params={"MATCH_anyEPC": f"{prefix}/CRATE-00002"}, headers=user).json()
        assert len(life["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 2
    assert (tmp_path / "secnode.db").exists()
    with running_node(env, tmp_path) as url:
        detail = httpx.get(f"{url}/identityv2/data/detail", params={"handle": f"{prefix}/CRATE-00049"}).json()
        assert detail["data"]["templateVersion"] == "pack-unit-1.0"
