"""Load scenarios for locust.

    .venv/bin/locust -f loadtests/locustfile.py --headless -u 50 -r 10 -t 2m --host http://127.0.0.1:8000

At test start the file onboards an enterprise through the business API (node administrator password from
``SECNODE_LOCUST_ADMIN_PASSWORD``) and registers ``SECNODE_LOCUST_RECORDS`` steel coils (default 10,000).

- ``Resolver`` (default, weight 20): resolves with Zipf-distributed hot keys (s = 1.1), 5% unknown handles, some
  queries filtered by type, through anonymous Handle REST.
- ``Registrar`` (weight 1): a few writes: value updates through Handle REST and batches of 100 through the
  business API.

locust measures scenarios and correctness under load; for peak throughput use ``loadtests/bench_resolve.py``
(wrk), since locust on two shared cores cannot saturate the node.
"""

from __future__ import annotations

import base64
import itertools
import os
import random
import uuid

import httpx
from locust import HttpUser, between, events, task

RECORDS = int(os.environ.get("SECNODE_LOCUST_RECORDS", "10000"))
ADMIN_PASSWORD = os.environ.get("SECNODE_LOCUST_ADMIN_PASSWORD", "")
ZIPF_S = 1.1
_state: dict = {}
_serial = itertools.count(RECORDS)


def _coil(prefix: str, serial: int) -> dict:
    return {"handle": f"{prefix}/COIL-{serial:09d}", "templateVersion": "steel-coil-1.0", "value": [
        {"index": 2000, "type": "coilNo", "data": f"C{serial:09d}"},
        {"index": 2001, "type": "heatNo", "data": f"H{serial % 997:06d}"},
        {"index": 2002, "type": "grade", "data": "Q235B"},
        {"index": 2003, "type": "productStandard", "data": "GB/T 700-2006"},
        {"index": 2004, "type": "thickness", "data": "2.5"}, {"index": 2005, "type": "width", "data": "1250"},
        {"index": 2007, "type": "netWeight", "data": "21.4"},
        {"index": 2018, "type": "productionDate", "data": "2026-11-20"}]}


def _credit_code() -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    body = "9133010" + f"{random.randrange(10**10):010d}"
    check = alphabet[(31 - sum(alphabet.index(c) * w for c, w in zip(body, weights)) % 31) % 31]
    return body + check


@events.test_start.add_listener
def _onboard(environment, **_kwargs) -> None:
    host = environment.host
    with httpx.Client(base_url=host, timeout=120) as http:
        def token(username: str, password: str) -> dict:
            data = http.post("/identity/token", json={"username": username, "password": password}).json()
            return {"Authorization": "Bearer " + data["data"]["token"]}

        admin = token("admin", ADMIN_PASSWORD)
        username, password = "load" + uuid.uuid4().hex[:8], "load-test-password"
        enterprise = http.post("/snms/api/v5/enterprises", json={
            "name": "负载测试钢厂", "creditCode": _credit_code(), "industry": "steel", "industryCode": "C3120",
            "contactName": "测试", "contactPhone": "010-0000-0000", "contactEmail": "load@example.com",
            "username": username, "password": password}).json()["data"]
        http.post(f"/snms/api/v5/enterprises/{enterprise['id']}/audit", json={"approve": True}, headers=admin)
        prefix = http.post("/snms/api/v5/prefixes", json={}, headers=token(username, password)).json()["data"]["prefix"]
        http.post(f"/snms/api/v5/prefixes/{prefix}/audit", json={"approve": True}, headers=admin)
        user = token(username, password)
        for start in range(0, RECORDS, 2000):
            batch = [_coil(prefix, s) for s in range(start, min(start + 2000, RECORDS))]
            http.post("/identityv2/data/batchCreate", json=batch, headers=user).raise_for_status()
    basic = base64.b64encode(f"300:{prefix}/admin:{password}".encode()).decode()
    ranks = range(1, RECORDS + 1)
    cumulative = list(itertools.accumulate(1 / r**ZIPF_S for r in ranks))
    _state.update(prefix=prefix, bearer=user, basic={"Authorization": f"Basic {basic}"}, cumulative=cumulative)


def _hot_key() -> int:
    return random.choices(range(RECORDS), cum_weights=_state["cumulative"])[0]


class Resolver(HttpUser):
    """Partners resolving identifiers: the node's hot path."""

    weight = 20
    wait_time = between(0.0, 0.01)

    @task(90)
    def resolve(self) -> None:
        if random.random() < 0.05:
            with self.client.get(f"/api/handles/{_state['prefix']}/UNKNOWN-{random.randrange(10**9)}",
                                 name="/api/handles/[unknown]", catch_response=True) as response:
                if response.status_code == 404 and response.json()["responseCode"] == 100:
                    response.success()
                else:
                    response.failure(f"unknown handle answered {response.status_code}")
            return
        self.client.get(f"/api/handles/{_state['prefix']}/COIL-{_hot_key():09d}", name="/api/handles/[coil]")

    @task(10)
    def resolve_filtered(self) -> None:
        self.client.get(f"/api/handles/{_state['prefix']}/COIL-{_hot_key():09d}?type=grade&type=heatNo",
                        name="/api/handles/[coil]?type=")


class Registrar(HttpUser):
    """An enterprise system: value changes and registration batches."""

    weight = 1
    wait_time = between(0.5, 1.5)

    @task(5)
    def update_value(self) -> None:
        handle = f"{_state['prefix']}/NOTE-{random.randrange(100)}"
        self.client.put(f"/api/handles/{handle}", headers=_state["basic"], name="/api/handles/[note] PUT",
                        json={"values": [{"index": 1, "type": "URL",
                                          "data": f"https://example.com/{random.randrange(10**6)}"}]})

    @task(1)
    def register_batch(self) -> None:
        batch = [_coil(_state["prefix"], next(_serial)) for _ in range(100)]
        self.client.post("/identityv2/data/batchCreate", json=batch, headers=_state["bearer"],
                         name="/identityv2/data/batchCreate")
