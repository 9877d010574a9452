"""A small supply chain across three enterprises, seeded through the node's API: a steel heat is rolled into coils,
a coil is stamped into door panels, the panels travel in a returnable crate on a pallet and end in a vehicle."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from registry.templates.vin import check_digit
from tests.factories import Tenant, coil, onboard

CBV = "https://ref.gs1.org/cbv/BizStep-"


@dataclass
class Chain:
    mill: Tenant
    maker: Tenant
    packer: Tenant
    heat: str
    coils: list[str]
    parts: list[str]
    vehicle: str
    crate: str
    pallet: str


def _vin(serial: int) -> str:
    draft = f"LSVAU2180N{serial:07d}"
    return draft[:8] + check_digit(draft) + draft[9:]


def _part(handle: str, source: str, name: str) -> dict:
    fields = [
        (2000, "partNo", "DR-FL-01"),
        (2001, "partName", name),
        (2002, "batchNo", "B00042"),
        (2003, "supplierCode", "SUP-0042"),
        (2004, "productionDate", "2026-11-22"),
        (2005, "materialIds", source),
        (2006, "inspectionResult", "qualified"),
    ]
    return {
        "handle": handle,
        "templateVersion": "auto-part-1.0",
        "value": [{"index": i, "type": t, "data": v} for i, t, v in fields],
    }


def _event(kind: str, step: str, time: str, **fields) -> dict:
    return {"type": kind, "eventTime": f"{time}+08:00", "bizStep": CBV + step, **fields}


async def _register(http: httpx.AsyncClient, tenant: Tenant, items: list[dict]) -> None:
    answer = await http.post("/identityv2/data/batchCreate", json=items, headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    assert all(r["code"] == 1 for r in answer.json()["data"]), answer.text


async def _capture(http: httpx.AsyncClient, tenant: Tenant, *events: dict) -> None:
    for event in events:
        answer = await http.post("/epcis/events", json=event, headers=tenant.headers)
        assert answer.status_code == 201, answer.text


async def seed(http: httpx.AsyncClient) -> Chain:
    mill = await onboard(http, "hzsteel", industry="steel")
    maker = await onboard(http, "nbauto", industry="automotive")
    packer = await onboard(http, "greenpack", industry="packaging")
    for owner in (mill, packer):  # the maker records events about the mill's coils and the packer's crates
        granted = await http.put(f"/epcis/grants/{maker.enterprise_id}", headers=owner.headers)
        assert granted.status_code == 200, granted.text

    heat = f"{mill.prefix}/HEAT-2611-0042"
    coils = [coil(mill.prefix, n, heatNo="H2611-0042") for n in (1, 2)]
    await _register(
        http,
        mill,
        [
            {"handle": heat, "value": [{"index": 1, "type": "URL", "data": "https://mill.example/heat/2611-0042"}]},
            *coils,
        ],
    )
    coils = [c["handle"] for c in coils]
    await _capture(
        http,
        mill,
        _event("TransformationEvent", "commissioning", "2026-11-20T08:00:00", inputEPCList=[heat], outputEPCList=coils),
        _event(
            "ObjectEvent", "shipping", "2026-11-21T09:30:00", action="OBSERVE", epcList=coils, disposition="in_transit"
        ),
    )

    parts = [f"{maker.prefix}/PART-DR-{n:06d}" for n in (1, 2)]
    vehicle = f"{maker.prefix}/VIN-{_vin(1)}"
    await _register(
        http,
        maker,
        [
            _part(parts[0], coils[0], "车门外板"),
            _part(parts[1], coils[0], "车门内板"),
            {
                "handle": vehicle,
                "templateVersion": "vehicle-1.0",
                "value": [
                    {"index": 2000, "type": "vin", "data": vehicle.rsplit("-", 1)[1]},
                    {"index": 2001, "type": "model", "data": "EV-7"},
                    {"index": 2003, "type": "plant", "data": "宁波工厂"},
                    {"index": 2004, "type": "productionDate", "data": "2026-11-25"},
                    {"index": 2005, "type": "componentIds", "data": ",".join(parts)},
                ],
            },
        ],
    )
    crate, pallet = f"{packer.prefix}/CRATE-00001", f"{packer.prefix}/PALLET-0001"
    await _register(
        http,
        packer,
        [
            {
                "handle": crate,
                "templateVersion": "pack-unit-1.0",
                "value": [
                    {"index": 2000, "type": "packagingType", "data": "crate"},
                    {"index": 2001, "type": "material", "data": "HDPE"},
                    {"index": 2003, "type": "tareWeight", "data": "2.4"},
                    {"index": 2004, "type": "dimensions", "data": "800x600x400"},
                    {"index": 2010, "type": "manufactureDate", "data": "2026-01-10"},
                ],
            },
            {
                "handle": pallet,
                "templateVersion": "pallet-1.0",
                "value": [
                    {"index": 2000, "type": "material", "data": "wood"},
                    {"index": 2001, "type": "dimensions", "data": "1200x1000x150"},
                    {"index": 2002, "type": "tareWeight", "data": "22"},
                    {"index": 2003, "type": "ratedLoad", "data": "1500"},
                    {"index": 2006, "type": "manufactureDate", "data": "2025-12-01"},
                ],
            },
        ],
    )
    await _capture(
        http,
        maker,
        _event(
            "ObjectEvent",
            "receiving",
            "2026-11-22T07:45:00",
            action="OBSERVE",
            epcList=[coils[0]],
            disposition="active",
        ),
        _event(
            "TransformationEvent", "commissioning", "2026-11-22T10:00:00", inputEPCList=[coils[0]], outputEPCList=parts
        ),
        _event("AggregationEvent", "packing", "2026-11-22T15:00:00", action="ADD", parentID=crate, childEPCs=parts),
        _event("AggregationEvent", "loading", "2026-11-22T16:00:00", action="ADD", parentID=pallet, childEPCs=[crate]),
        _event(
            "AggregationEvent", "unpacking", "2026-11-25T08:00:00", action="DELETE", parentID=crate, childEPCs=parts
        ),
        _event("TransformationEvent", "assembling", "2026-11-25T14:00:00", inputEPCList=parts, outputEPCList=[vehicle]),
    )
    return Chain(mill, maker, packer, heat, coils, parts, vehicle, crate, pallet)
