"""Realistic demo data across the three industries, through the node's own APIs.

    .venv/bin/python -m loadtests.demo_data --url http://127.0.0.1:8000 --admin-password ... [--scale 50]

A steel mill melts heats and rolls them into coils; a parts maker stamps coils into parts; a car maker assembles
parts into vehicles (VINs with valid check digits); a packaging company's reusable crates carry parts on pallets,
come back empty and are finally recycled. Every step is an EPCIS event (commissioning, transformation, packing,
shipping, receiving, unpacking, assembling, returning, recycling) and the records reference each other through
their template items, across four enterprises that grant each other access. ``--scale 1`` makes about 100
identifiers and 65 events; the default (50) about 5,000 identifiers and 3,300 events.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from registry.enterprises.credit_code import check_character
from registry.events.vocabulary import RECYCLING
from registry.templates.vin import check_digit


def _credit_code(rng: random.Random) -> str:
    body = "9133010" + f"{rng.randrange(10**10):010d}"
    return body + check_character(body)


def vin(rng: random.Random, serial: int) -> str:
    draft = f"LSV{rng.choice('ABCDEFGH')}{rng.randrange(10000):04d}0{rng.choice('NPRS')}{serial % 10**7:07d}"
    return draft[:8] + check_digit(draft) + draft[9:]


class Demo:
    PASSWORD = "demo-password-1"  # every demo enterprise's login (and Handle REST admin) password

    def __init__(self, http: httpx.AsyncClient, admin_password: str, seed: int = 7):
        self.http = http
        self.admin_password = admin_password
        self.rng = random.Random(seed)
        self.clock = datetime(2026, 10, 1, tzinfo=UTC)
        self.tag = uuid.uuid4().hex[:6]
        self.counts = {"identifiers": 0, "events": 0}
        self.chain: dict[str, list[str]] = {}  # identifiers by kind, after run(): for load tests to query
        self.tokens: dict[str, dict[str, str]] = {}  # bearer headers by industry role, after run()

    def _tick(self, hours: float = 1.0) -> str:
        self.clock += timedelta(hours=hours * self.rng.uniform(0.5, 1.5))
        return self.clock.isoformat()

    async def _token(self, username: str, password: str) -> dict[str, str]:
        response = await self.http.post("/identity/token", json={"username": username, "password": password})
        response.raise_for_status()
        return {"Authorization": "Bearer " + response.json()["data"]["token"]}

    async def enterprise(self, name: str, industry: str, code: str) -> tuple[str, int, dict[str, str]]:
        admin = await self._token("admin", self.admin_password)
        username, password = f"{industry[:4]}{self.tag}{self.rng.randrange(1000)}", self.PASSWORD
        created = await self.http.post(
            "/snms/api/v5/enterprises",
            json={
                "name": name,
                "creditCode": _credit_code(self.rng),
                "industry": industry,
                "industryCode": code,
                "contactName": "演示",
                "contactPhone": "0571-8888-0000",
                "contactEmail": f"{username}@example.com",
                "username": username,
                "password": password,
            },
        )
        created.raise_for_status()
        enterprise_id = created.json()["data"]["id"]
        await self.http.post(f"/snms/api/v5/enterprises/{enterprise_id}/audit", json={"approve": True}, headers=admin)
        user = await self._token(username, password)
        applied = await self.http.post("/snms/api/v5/prefixes", json={}, headers=user)
        if not (applied.json().get("data") or {}).get("prefix"):
            raise RuntimeError(f"prefix application failed: {applied.status_code} {applied.text[:300]}")
        prefix = applied.json()["data"]["prefix"]
        await self.http.post(f"/snms/api/v5/prefixes/{prefix}/audit", json={"approve": True}, headers=admin)
        return prefix, enterprise_id, await self._token(username, password)

    async def register(self, headers: dict[str, str], items: list[dict]) -> None:
        for start in range(0, len(items), 2000):
            response = await self.http.post(
                "/identityv2/data/batchCreate", json=items[start : start + 2000], headers=headers
            )
            response.raise_for_status()
            failed = [r for r in response.json()["data"] if r["code"] != 1]
            if failed:
                raise RuntimeError(f"registration failed: {failed[:3]}")
        self.counts["identifiers"] += len(items)

    async def capture(self, headers: dict[str, str], events: list[dict]) -> None:
        for start in range(0, len(events), 2000):
            document = {"type": "EPCISDocument", "epcisBody": {"eventList": events[start : start + 2000]}}
            response = await self.http.post("/epcis/capture", json=document, headers=headers)
            if response.status_code != 201:
                raise RuntimeError(f"capture failed: {response.text[:500]}")
        self.counts["events"] += len(events)

    def _event(self, kind: str, step: str, **fields) -> dict:
        event = {"type": kind, "eventTime": self._tick(), "bizStep": step, **fields}
        if kind != "TransformationEvent":
            event.setdefault("action", "ADD")
        return event

    async def run(self, scale: int) -> dict[str, int]:
        rng = self.rng
        steel, steel_id, steel_h = await self.enterprise("演示钢铁有限公司", "steel", "C3120")
        parts, parts_id, parts_h = await self.enterprise("演示汽车零部件有限公司", "automotive", "C3670")
        cars, cars_id, cars_h = await self.enterprise("演示整车制造有限公司", "automotive", "C3612")
        pack, pack_id, pack_h = await self.enterprise("演示绿色包装有限公司", "packaging", "C2231")
        for owner, partners in (
            (steel_h, (parts_id, cars_id)),
            (parts_h, (steel_id, cars_id, pack_id)),
            (cars_h, (steel_id, parts_id)),
            (pack_h, (parts_id, cars_id)),
        ):
            for partner in partners:
                await self.http.put(f"/epcis/grants/{partner}", headers=owner)

        heats = [f"{steel}/HEAT-{i:05d}" for i in range(5 * scale)]
        await self.register(
            steel_h,
            [
                {
                    "handle": h,
                    "value": [{"index": 1, "type": "URL", "data": f"https://mill.example/heat/{h.rsplit('-', 1)[1]}"}],
                }
                for h in heats
            ],
        )
        coils, coil_items, steel_events = [], [], []
        for heat in heats:
            made = [f"{steel}/COIL-{len(coils) + k:06d}" for k in range(4)]
            coils += made
            for handle in made:
                coil_items.append(
                    {
                        "handle": handle,
                        "templateVersion": "steel-coil-1.0",
                        "value": [
                            {"index": 2000, "type": "coilNo", "data": handle.rsplit("/", 1)[1]},
                            {"index": 2001, "type": "heatNo", "data": heat.rsplit("/", 1)[1]},
                            {"index": 2002, "type": "grade", "data": rng.choice(["Q235B", "DC01", "SPHC", "22MnB5"])},
                            {"index": 2003, "type": "productStandard", "data": "GB/T 700-2006"},
                            {"index": 2004, "type": "thickness", "data": f"{rng.uniform(0.6, 3.0):.2f}"},
                            {"index": 2005, "type": "width", "data": str(rng.choice([1000, 1250, 1500]))},
                            {"index": 2007, "type": "netWeight", "data": f"{rng.uniform(8, 25):.2f}"},
                            {"index": 2018, "type": "productionDate", "data": self.clock.date().isoformat()},
                        ],
                    }
                )
            steel_events.append(
                self._event(
                    "TransformationEvent",
                    "commissioning",
                    inputEPCList=[heat],
                    outputEPCList=made,
                    bizLocation={"id": f"{steel}/MILL-1"},
                )
            )
        await self.register(
            steel_h,
            coil_items
            + [
                {
                    "handle": f"{steel}/MILL-1",
                    "value": [{"index": 1, "type": "URL", "data": "https://mill.example/site/1"}],
                }
            ],
        )
        steel_events += [
            self._event("ObjectEvent", "shipping", epcList=coils[i : i + 20], disposition="in_transit")
            for i in range(0, len(coils), 20)
        ]
        await self.capture(steel_h, steel_events)

        part_handles, part_items, part_events = [], [], []
        for index, source in enumerate(coils):
            made = [f"{parts}/PART-{index * 3 + k:06d}" for k in range(3)]
            part_handles += made
            for handle in made:
                part_items.append(
                    {
                        "handle": handle,
                        "templateVersion": "auto-part-1.0",
                        "value": [
                            {"index": 2000, "type": "partNo", "data": rng.choice(["DR-FL-01", "HD-01", "FD-RR-02"])},
                            {"index": 2001, "type": "partName", "data": rng.choice(["车门外板", "引擎盖", "翼子板"])},
                            {"index": 2002, "type": "batchNo", "data": f"B{index // 10:05d}"},
                            {"index": 2003, "type": "supplierCode", "data": "SUP-0042"},
                            {"index": 2004, "type": "productionDate", "data": self.clock.date().isoformat()},
                            {"index": 2005, "type": "materialIds", "data": source},
                            {"index": 2006, "type": "inspectionResult", "data": "qualified"},
                        ],
                    }
                )
        await self.register(parts_h, part_items)
        part_events.append(self._event("ObjectEvent", "receiving", epcList=coils[:200], disposition="active"))
        for index, source in enumerate(coils):
            part_events.append(
                self._event(
                    "TransformationEvent",
                    "commissioning",
                    inputEPCList=[source],
                    outputEPCList=part_handles[index * 3 : index * 3 + 3],
                )
            )
        await self.capture(parts_h, part_events)

        crates = [f"{pack}/CRATE-{i:05d}" for i in range(max(2, len(part_handles) // 6))]
        pallets = [f"{pack}/PALLET-{i:04d}" for i in range(max(1, len(crates) // 4))]
        await self.register(
            pack_h,
            [
                {
                    "handle": c,
                    "templateVersion": "pack-unit-1.0",
                    "value": [
                        {"index": 2000, "type": "packagingType", "data": "crate"},
                        {"index": 2001, "type": "material", "data": "HDPE"},
                        {"index": 2003, "type": "tareWeight", "data": "2.4"},
                        {"index": 2004, "type": "dimensions", "data": "800x600x400"},
                        {"index": 2007, "type": "designReuseCount", "data": "200"},
                        {"index": 2010, "type": "manufactureDate", "data": "2026-01-10"},
                    ],
                }
                for c in crates
            ],
        )
        await self.register(
            pack_h,
            [
                {
                    "handle": p,
                    "templateVersion": "pallet-1.0",
                    "value": [
                        {"index": 2000, "type": "material", "data": "wood"},
                        {"index": 2001, "type": "dimensions", "data": "1200x1000x150"},
                        {"index": 2002, "type": "tareWeight", "data": "22"},
                        {"index": 2003, "type": "ratedLoad", "data": "1500"},
                        {"index": 2006, "type": "manufactureDate", "data": "2025-12-01"},
                    ],
                }
                for p in pallets
            ],
        )
        packing = []
        for index, crate in enumerate(crates):
            packing.append(
                self._event(
                    "AggregationEvent", "packing", parentID=crate, childEPCs=part_handles[index * 6 : index * 6 + 6]
                )
            )
        for index, pallet in enumerate(pallets):
            packing.append(
                self._event("AggregationEvent", "loading", parentID=pallet, childEPCs=crates[index * 4 : index * 4 + 4])
            )
        await self.capture(parts_h, packing)

        vehicle_items, vehicle_events = [], []
        for index in range(len(part_handles) // 12):
            handle = f"{cars}/VIN-{vin(rng, index)}"
            components = part_handles[index * 12 : index * 12 + 12]
            vehicle_items.append(
                {
                    "handle": handle,
                    "templateVersion": "vehicle-1.0",
                    "value": [
                        {"index": 2000, "type": "vin", "data": handle.rsplit("-", 1)[1]},
                        {"index": 2001, "type": "model", "data": rng.choice(["EV-7", "SUV-3"])},
                        {"index": 2003, "type": "plant", "data": "宁波工厂"},
                        {"index": 2004, "type": "productionDate", "data": self.clock.date().isoformat()},
                        {"index": 2005, "type": "componentIds", "data": ",".join(components)},
                    ],
                }
            )
            crate_index = (index * 12) // 6
            for crate in crates[crate_index : crate_index + 2]:
                vehicle_events.append(
                    self._event(
                        "AggregationEvent",
                        "unpacking",
                        action="DELETE",
                        parentID=crate,
                        childEPCs=part_handles[crates.index(crate) * 6 : crates.index(crate) * 6 + 6],
                    )
                )
            vehicle_events.append(
                self._event("TransformationEvent", "assembling", inputEPCList=components, outputEPCList=[handle])
            )
        await self.register(cars_h, vehicle_items)
        await self.capture(cars_h, vehicle_events)

        returns = []
        for crate in crates:
            returns.append(self._event("ObjectEvent", "receiving", epcList=[crate], disposition="returned"))
            if rng.random() < 0.2:
                returns.append(self._event("ObjectEvent", RECYCLING, epcList=[crate], disposition="disposed"))
        await self.capture(pack_h, returns)
        self.chain = {
            "heats": heats,
            "coils": coils,
            "parts": part_handles,
            "crates": crates,
            "vehicles": [item["handle"] for item in vehicle_items],
        }
        self.tokens = {"steel": steel_h, "parts": parts_h, "cars": cars_h, "packaging": pack_h}
        return {
            **self.counts,
            "heats": len(heats),
            "coils": len(coils),
            "parts": len(part_handles),
            "vehicles": len(vehicle_items),
            "crates": len(crates),
            "pallets": len(pallets),
        }


async def main(url: str, admin_password: str, scale: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=300) as http:
        counts = await Demo(http, admin_password).run(scale)
    print(", ".join(f"{k}: {v}" for k, v in counts.items()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--admin-password", required=True)
    parser.add_argument("--scale", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.url, args.admin_password, args.scale))
