"""Load scenarios for locust, one user class each; name classes on the command line to run only those.

    SECNODE_LOCUST_ADMIN_PASSWORD=... .venv/bin/locust -f loadtests/locustfile.py --headless \\
        -u 50 -r 10 -t 2m --host http://127.0.0.1:8000 [ResolveUser] [RegisterUser] [TraceUser]

- ``ResolveUser`` (weight 20): partners resolving identifiers through anonymous Handle REST: Zipf-distributed hot
  keys (s = 1.1) over the seeded coils, 5% unknown handles (expected 404), 10% filtered by ``?type=``.
- ``RegisterUser`` (weight 1): an enterprise system registering batches of 100 coils through
  ``POST /identityv2/data/batchCreate`` (bearer token), and a few value updates through Handle REST.
- ``TraceUser`` (weight 2): supply-chain queries: downstream traces from heats (as the steel mill), upstream traces
  from vehicles (as the car maker), lifecycle queries ``/epcis/events?MATCH_anyEPC=`` of coils and parts.
- no class named: the mixed scenario, all three by weight.

At test start the node is seeded through its own API, only for the selected classes: an enterprise with
``SECNODE_LOCUST_RECORDS`` steel coils (default 10,000) for resolve and register, and the demo supply chain
(``loadtests/demo_data.py``, ``SECNODE_LOCUST_TRACE_SCALE``, default 5: about 500 identifiers) for traces. The node
administrator's password comes from ``SECNODE_LOCUST_ADMIN_PASSWORD``. Headless, the seeding is done before the
``-t`` clock starts; a failed seeding ends the run with exit code 1. Answers are checked, not only their status (a
refused batch item, a trace node of unexpected status, an empty lifecycle are failures), and any failure makes
locust exit with code 1.

locust measures scenarios and correctness under load; for peak throughput use ``loadtests/bench_resolve.py``
(wrk), since locust on two shared cores cannot saturate the node.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
import os
import random
import sys
from pathlib import Path

import httpx
from locust import HttpUser, between, events, task
from locust.runners import MasterRunner

# locust puts only this file's folder on sys.path; the seeding reuses the package's demo data
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from loadtests.demo_data import Demo

RECORDS = int(os.environ.get("SECNODE_LOCUST_RECORDS", "10000"))
TRACE_SCALE = int(os.environ.get("SECNODE_LOCUST_TRACE_SCALE", "5"))
ADMIN_PASSWORD = os.environ.get("SECNODE_LOCUST_ADMIN_PASSWORD", "")
ZIPF_S = 1.1
logging.getLogger("httpx").setLevel(logging.WARNING)  # the seeding's thousands of requests are not news
_state: dict = {}
_serial = itertools.count(RECORDS)


def _coil(prefix: str, serial: int) -> dict:
    return {
        "handle": f"{prefix}/COIL-{serial:09d}",
        "templateVersion": "steel-coil-1.0",
        "value": [
            {"index": 2000, "type": "coilNo", "data": f"C{serial:09d}"},
            {"index": 2001, "type": "heatNo", "data": f"H{serial % 997:06d}"},
            {"index": 2002, "type": "grade", "data": "Q235B"},
            {"index": 2003, "type": "productStandard", "data": "GB/T 700-2006"},
            {"index": 2004, "type": "thickness", "data": "2.5"},
            {"index": 2005, "type": "width", "data": "1250"},
            {"index": 2007, "type": "netWeight", "data": "21.4"},
            {"index": 2018, "type": "productionDate", "data": "2026-11-20"},
        ],
    }


async def _seed(host: str, records: bool, chain: bool) -> dict:
    state: dict = {}
    async with httpx.AsyncClient(base_url=host, timeout=300) as http:
        # a random seed: every run onboards enterprises with credit codes of their own
        demo = Demo(http, ADMIN_PASSWORD, seed=random.randrange(10**9))
        if records:
            prefix, _, bearer = await demo.enterprise("负载测试钢厂", "steel", "C3120")
            await demo.register(bearer, [_coil(prefix, s) for s in range(RECORDS)])
            basic = base64.b64encode(f"300:{prefix}/admin:{Demo.PASSWORD}".encode()).decode()
            cumulative = list(itertools.accumulate(1 / r**ZIPF_S for r in range(1, RECORDS + 1)))
            state.update(prefix=prefix, bearer=bearer, basic={"Authorization": f"Basic {basic}"}, cumulative=cumulative)
        if chain:
            await demo.run(TRACE_SCALE)
            state.update(chain=demo.chain, tokens=demo.tokens)
    return state


def _seed_once(environment) -> None:
    if _state or isinstance(environment.runner, MasterRunner):  # workers seed for themselves
        return
    selected = set(environment.user_classes)
    try:
        _state.update(
            asyncio.run(
                _seed(
                    environment.host, records=bool({ResolveUser, RegisterUser} & selected), chain=TraceUser in selected
                )
            )
        )
    except Exception:
        # without seed data every request would fail: stop with the cause in the log
        logging.exception("seeding the node at %s failed", environment.host)
        raise SystemExit(1) from None


@events.init.add_listener
def _seed_headless(environment, **_kwargs) -> None:
    # before the run starts, so that --run-time counts load only
    if environment.parsed_options and environment.parsed_options.headless and environment.host:
        _seed_once(environment)


@events.test_start.add_listener
def _seed_interactive(environment, **_kwargs) -> None:
    _seed_once(environment)  # the web UI: the host is known only now


def _hot_key() -> int:
    return random.choices(range(RECORDS), cum_weights=_state["cumulative"])[0]


class ResolveUser(HttpUser):
    """Partners resolving identifiers: the node's hot path."""

    weight = 20
    wait_time = between(0.0, 0.01)

    @task(85)
    def resolve(self) -> None:
        self.client.get(f"/api/handles/{_state['prefix']}/COIL-{_hot_key():09d}", name="/api/handles/[coil]")

    @task(5)
    def resolve_unknown(self) -> None:
        with self.client.get(
            f"/api/handles/{_state['prefix']}/UNKNOWN-{random.randrange(10**9)}",
            name="/api/handles/[unknown]",
            catch_response=True,
        ) as response:
            if response.status_code == 404 and response.json().get("responseCode") == 100:
                response.success()
            else:
                response.failure(f"unknown handle answered {response.status_code}")

    @task(10)
    def resolve_filtered(self) -> None:
        self.client.get(
            f"/api/handles/{_state['prefix']}/COIL-{_hot_key():09d}?type=grade&type=heatNo",
            name="/api/handles/[coil]?type=",
        )


class RegisterUser(HttpUser):
    """An enterprise system: registration batches and value changes."""

    weight = 1
    wait_time = between(0.5, 1.5)

    @task(3)
    def register_batch(self) -> None:
        batch = [_coil(_state["prefix"], next(_serial)) for _ in range(100)]
        with self.client.post(
            "/identityv2/data/batchCreate",
            json=batch,
            headers=_state["bearer"],
            name="/identityv2/data/batchCreate",
            catch_response=True,
        ) as response:
            # a batch answers 200 with a code per item: a refused item is an error too
            refused = [r for r in response.json().get("data") or [] if r.get("code") != 1]
            if response.status_code == 200 and not refused:
                response.success()
            else:
                response.failure(f"batch answered {response.status_code}, refused: {refused[:2]}")

    @task(1)
    def update_value(self) -> None:
        handle = f"{_state['prefix']}/NOTE-{random.randrange(100)}"
        self.client.put(
            f"/api/handles/{handle}",
            headers=_state["basic"],
            name="/api/handles/[note] PUT",
            json={"values": [{"index": 1, "type": "URL", "data": f"https://example.com/{random.randrange(10**6)}"}]},
        )


class TraceUser(HttpUser):
    """Quality and recall queries across the supply chain."""

    weight = 2
    wait_time = between(0.0, 0.1)

    def _trace(self, direction: str, kind: str, role: str) -> None:
        handle = random.choice(_state["chain"][kind])
        with self.client.get(
            f"/trace/{direction}",
            params={"handle": handle, "depth": 10},
            headers=_state["tokens"][role],
            name=f"/trace/{direction}",
            catch_response=True,
        ) as response:
            # every identifier of the demo chain exists; some belong to partners that did not grant this role
            nodes = response.json().get("nodes", []) if response.status_code == 200 else []
            found = sum(1 for n in nodes if n.get("status") == "found")
            wrong = [n for n in nodes if n.get("status") not in ("found", "unauthorised")]
            if found > 1 and not wrong:
                response.success()
            else:
                response.failure(
                    f"{direction} trace of {handle}: {response.status_code}, {found} found, wrong: {wrong[:2]}"
                )

    @task(2)
    def downstream(self) -> None:
        self._trace("downstream", "heats", "steel")

    @task(2)
    def upstream(self) -> None:
        self._trace("upstream", "vehicles", "cars")

    @task(3)
    def lifecycle(self) -> None:
        handle = random.choice(_state["chain"][random.choice(["coils", "parts"])])
        with self.client.get(
            "/epcis/events",
            params={"MATCH_anyEPC": handle},
            headers=_state["tokens"]["parts"],
            name="/epcis/events?MATCH_anyEPC=",
            catch_response=True,
        ) as response:
            found = (
                response.json().get("epcisBody", {}).get("queryResults", {}).get("resultsBody", {}).get("eventList", [])
                if response.status_code == 200
                else []
            )
            if found:
                response.success()
            else:
                response.failure(f"lifecycle of {handle}: {response.status_code}, no events")
