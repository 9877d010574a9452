"""Factories: enterprises with prefixes, logged-in clients, identifier payloads."""

from __future__ import annotations

import asyncio
import base64
import itertools
from dataclasses import dataclass

import httpx

from registry.enterprises.credit_code import check_character
from tests.conftest import ADMIN_PASSWORD

_serial = itertools.count(1)
ENABLED, IN_UPSTREAM_AUDIT = 1, 5  # SNMS prefix states


def credit_code(n: int | None = None) -> str:
    body = f"913301007{(n if n is not None else next(_serial)):08d}"
    return body + check_character(body)


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def login(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    response = await client.post("/identity/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['data']['token']}"}


async def admin_headers(client: httpx.AsyncClient) -> dict[str, str]:
    return await login(client, "admin", ADMIN_PASSWORD)


@dataclass
class Tenant:
    enterprise_id: int
    prefix: str
    username: str
    password: str
    headers: dict[str, str]  # bearer token of the enterprise user
    credit_code: str

    @property
    def handle_admin(self) -> dict[str, str]:
        return basic(f"300:{self.prefix}/admin", self.password)


def application(username: str, industry: str = "steel", **overrides) -> dict:
    return {
        "name": f"{username} 有限公司",
        "creditCode": credit_code(),
        "industry": industry,
        "industryCode": "C3120",
        "contactName": "张三",
        "contactPhone": "+86-571-8888-0000",
        "contactEmail": f"{username}@example.com",
        "username": username,
        "password": "enterprise-pass-1",
        **overrides,
    }


async def onboard(
    client: httpx.AsyncClient, username: str, *, industry: str = "steel", code: str | None = None
) -> Tenant:
    """Apply, approve, apply for a prefix, approve it: an enterprise ready to register identifiers."""
    admin = await admin_headers(client)
    form = application(username, industry)
    response = await client.post("/snms/api/v5/enterprises", json=form)
    assert response.status_code == 201, response.text
    enterprise_id = response.json()["data"]["id"]
    response = await client.post(
        f"/snms/api/v5/enterprises/{enterprise_id}/audit", json={"approve": True}, headers=admin
    )
    assert response.json()["status"] == 1, response.text
    headers = await login(client, username, form["password"])
    body = {"code": code} if code else {}
    response = await client.post("/snms/api/v5/prefixes", json=body, headers=headers)
    assert response.status_code == 201, response.text
    prefix = response.json()["data"]["prefix"]
    response = await client.post(f"/snms/api/v5/prefixes/{prefix}/audit", json={"approve": True}, headers=admin)
    if response.json()["data"]["state"] == IN_UPSTREAM_AUDIT:
        await _until_enabled(client, prefix, admin)
    else:
        assert response.json()["data"]["state"] == ENABLED, response.text
    headers = await login(client, username, form["password"])  # a new token sees the new prefix
    return Tenant(enterprise_id, prefix, username, form["password"], headers, form["creditCode"])


async def _until_enabled(client: httpx.AsyncClient, prefix: str, admin: dict[str, str], timeout: float = 60) -> None:
    """A node with a top-level node enables a prefix when the top-level approves it (through the reporter)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        state = (await client.get(f"/snms/api/v5/prefixes/{prefix}", headers=admin)).json()["data"]["state"]
        if state == ENABLED:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{prefix} still in state {state}"
        await asyncio.sleep(0.2)


def coil(prefix: str, serial: int, **overrides) -> dict:
    """A steel coil in the seed template's business shape."""
    values = {
        "coilNo": f"C{serial:08d}",
        "heatNo": f"H{serial % 997:06d}",
        "grade": "Q235B",
        "productStandard": "GB/T 700-2006",
        "thickness": "2.5",
        "width": "1250",
        "netWeight": "21.4",
        "productionDate": "2026-11-20",
        **overrides,
    }
    indexes = {
        "coilNo": 2000,
        "heatNo": 2001,
        "grade": 2002,
        "productStandard": 2003,
        "thickness": 2004,
        "width": 2005,
        "length": 2006,
        "netWeight": 2007,
        "yieldStrength": 2013,
        "productionDate": 2018,
    }
    return {
        "handle": f"{prefix}/COIL-2026-{serial:06d}",
        "templateVersion": "steel-coil-1.0",
        "value": [
            {"index": indexes[k], "type": k, "data": {"format": "string", "value": v}}
            for k, v in values.items()
            if v is not None
        ],
    }
