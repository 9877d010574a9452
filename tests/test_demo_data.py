"""The demo data generator builds a consistent supply chain through the node's APIs."""

from loadtests.demo_data import Demo
from tests.conftest import ADMIN_PASSWORD


async def test_demo_supply_chain_traces_from_vehicle_to_heat(client):
    counts = await Demo(client, ADMIN_PASSWORD).run(scale=1)
    assert counts["identifiers"] >= 100 and counts["vehicles"] >= 4 and counts["events"] >= 60
    # the first vehicle's first component traces back through a coil to its heat
    admin = {
        "Authorization": "Bearer "
        + (await client.post("/identity/token", json={"username": "admin", "password": ADMIN_PASSWORD})).json()["data"][
            "token"
        ]
    }
    prefixes = (await client.get("/snms/api/v5/prefixes", headers=admin)).json()["data"]
    cars = next(p["prefix"] for p in prefixes if p["code"] == "1003")
    listing = await client.get(f"/api/handles?prefix={cars}", headers=admin)
    vehicle = next(h for h in listing.json()["handles"] if "/VIN-" in h)
    up = (await client.get(f"/trace/upstream?handle={vehicle}&depth=5", headers=admin)).json()
    statuses = {n["id"].split("/")[1].split("-")[0]: n["status"] for n in up["nodes"]}
    assert statuses.get("HEAT") == "found" and statuses.get("COIL") == "found" and statuses.get("PART") == "found"
    kinds = {e["kind"] for e in up["edges"]}
    assert {"transformation", "reference"} <= kinds
