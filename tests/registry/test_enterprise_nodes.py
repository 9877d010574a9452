"""Enterprise nodes on real PostgreSQL and Redis: homing an enterprise prefix through the business API and the CLI,
refusals that write nothing, ``site_of`` for the faces, unhoming, the health check against a real UDP (and TCP)
Handle server started here, its metrics, and the upward statistics that carry it to the reference top-level node."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import struct
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from faces.handle_rest.hot_path import ResolverFastPath
from foundation.crypto.keys import ensure_signing_key, load_signing_key
from node.app import create_app
from registry.enterprise_nodes import service
from registry.enterprise_nodes.health import ROUND_KEY, EnterpriseNodeChecker, probe
from registry.kernel.syntax import canonical
from sync.reporter import Reporter
from sync.upstream import HttpUpstream
from tests.conftest import REDIS_URL, make_settings
from tests.factories import admin_headers, credit_code, onboard
from tests.servers import free_port, running_toplevel

SITE = {
    "version": 1,
    "protocolVersion": "2.10",
    "serialNumber": 3,
    "primarySite": True,
    "multiPrimary": False,
    "attributes": [{"name": "desc", "value": "Baosteel enterprise node"}],
    "servers": [
        {
            "serverId": 1,
            "address": "10.20.30.40",
            "publicKey": {"format": "base64", "value": "AAAAB0RTQV9QVUIAAAAA"},
            "interfaces": [
                {"query": True, "admin": True, "protocol": "TCP", "port": 2641},
                {"query": True, "admin": False, "protocol": "UDP", "port": 2641},
                {"query": True, "admin": True, "protocol": "HTTP", "port": 8000},
            ],
        },
        {"serverId": 2, "address": "2001:db8::7", "interfaces": [{"protocol": "udp", "port": 2641}]},
    ],
}


# --- a tiny enterprise node, from RFC 3652 section 2 and tests/native_protocol/PROTOCOL_NOTES.md -----------------


def _site_info_answer(request: bytes) -> bytes | None:
    """The answer to a well-formed get-site-info request (RC_SUCCESS, a small HS_SITE), else None."""
    if len(request) < 20 + 24:
        return None
    major, minor, _flag0, _flag1, session, request_id, sequence, length = struct.unpack(">BBBBIIII", request[:20])
    if (major, sequence, length) != (2, 0, len(request) - 20):
        return None
    opcode, code, _opflags, _serial, _rec, _res, _expiry, body_length = struct.unpack(">IIIHBBII", request[20:44])
    body = request[44 : 44 + body_length]
    credential = request[44 + body_length :]
    if (opcode, code, body, credential) != (2, 0, b"\0\0\0\x01/", b"\0\0\0\0"):
        return None
    site = b"\0\x01\x02\x0b\0\x01\x80\x02" + b"\0\0\0\0" + b"\0\0\0\0" + b"\0\0\0\0"  # a site with no servers
    header = struct.pack(">IIIHBBII", 2, 1, 0, 0xFFFF, 0, 0, 0, len(site))
    message = header + site + b"\0\0\0\0"
    return struct.pack(">BBBBIIII", 2, 11, 2, 11, session, request_id, 0, len(message)) + message


class _EnterpriseNodeUdp(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.requests = 0
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        self.requests += 1
        answer = _site_info_answer(data)
        if answer is not None and self.transport is not None:
            self.transport.sendto(answer, addr)


@contextlib.asynccontextmanager
async def enterprise_node_udp() -> AsyncIterator[tuple[int, _EnterpriseNodeUdp]]:
    transport, protocol = await asyncio.get_running_loop().create_datagram_endpoint(
        _EnterpriseNodeUdp, local_addr=("127.0.0.1", 0)
    )
    try:
        yield transport.get_extra_info("sockname")[1], protocol
    finally:
        transport.close()


@contextlib.asynccontextmanager
async def enterprise_node_tcp() -> AsyncIterator[int]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        envelope = await reader.readexactly(20)
        length = struct.unpack(">I", envelope[16:20])[0]
        answer = _site_info_answer(envelope + await reader.readexactly(length))
        if answer is not None:
            writer.write(answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _short_site(port: int) -> dict:
    return service.site_from_address("127.0.0.1", port)


# --- homing -----------------------------------------------------------------------------------------------------


async def _journal_kinds(db) -> list[str]:
    async with db.read_session() as session:
        rows = await session.execute(text("SELECT kind FROM journal WHERE kind LIKE 'prefix.%homed' ORDER BY seq"))
        return [r[0] for r in rows]


async def test_home_through_the_api_site_of_and_unhome(client, fresh_node):
    tenant = await onboard(client, "enode-api")
    admin = await admin_headers(client)
    url = f"/snms/api/v5/prefixes/{tenant.prefix}/home"

    answer = await client.put(url, json={"address": "127.0.0.1", "port": 2641, "httpPort": 8000}, headers=admin)
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert answer.json()["status"] == 1 and data["prefix"] == tenant.prefix and data["healthy"] is None
    interfaces = data["site"]["servers"][0]["interfaces"]
    assert [(i["protocol"], i["port"]) for i in interfaces] == [("TCP", 2641), ("UDP", 2641), ("HTTP", 8000)]

    async with fresh_node.read_session() as session:
        site = await service.site_of(session, canonical(tenant.prefix))
        assert site is not None and site["servers"][0]["address"] == "127.0.0.1"
        assert await service.site_of(session, "88.118.999999") is None
        covering = await service.site_covering(session, canonical(tenant.prefix) + ".7.1")
        assert covering == (canonical(tenant.prefix), site)
        assert await service.site_covering(session, canonical(tenant.prefix)) == (canonical(tenant.prefix), site)
        assert await service.site_covering(session, "88.118") is None

    # re-homing replaces the site; the siteinfo.json form, as Handle.Net tools write it
    answer = await client.put(url, json=SITE, headers=admin)
    assert answer.status_code == 200, answer.text
    listed = (await client.get("/snms/api/v5/prefixes/homed", headers=admin)).json()["data"]
    assert [n["prefix"] for n in listed] == [tenant.prefix]
    assert listed[0]["site"]["servers"][1] == {
        "serverId": 2,
        "address": "2001:db8::7",
        "interfaces": [{"query": True, "admin": False, "protocol": "UDP", "port": 2641}],
    }
    assert listed[0]["site"]["servers"][0]["publicKey"] == SITE["servers"][0]["publicKey"]
    async with fresh_node.read_session() as session:
        assert (await service.site_of(session, canonical(tenant.prefix)))["serialNumber"] == 3
    # {"site": ...} is the same
    answer = await client.put(url, json={"site": SITE}, headers=admin)
    assert answer.status_code == 200, answer.text

    # the enterprise itself may not home its prefix, nor list
    refused = await client.put(url, json={"address": "127.0.0.1", "port": 1}, headers=tenant.headers)
    assert refused.status_code == 403 and refused.json()["error"] == "enterprise_node.forbidden"
    refused = await client.delete(url, headers=tenant.headers)
    assert refused.status_code == 403
    assert (await client.get("/snms/api/v5/prefixes/homed", headers=tenant.headers)).status_code == 403
    assert (await client.get("/snms/api/v5/prefixes/homed")).status_code == 401

    answer = await client.delete(url, headers=admin)
    assert answer.status_code == 200 and answer.json()["data"]["homed"] is False
    async with fresh_node.read_session() as session:
        assert await service.site_of(session, canonical(tenant.prefix)) is None
    again = await client.delete(url, headers=admin)
    assert again.status_code == 404 and again.json()["error"] == "enterprise_node.not_homed"
    assert (await client.get("/snms/api/v5/prefixes/homed", headers=admin)).json()["data"] == []
    assert await _journal_kinds(fresh_node) == ["prefix.homed", "prefix.homed", "prefix.homed", "prefix.unhomed"]


def _server(**changes) -> dict:
    return {"serverId": 1, "address": "10.0.0.1", "interfaces": [{"protocol": "UDP", "port": 2641}], **changes}


BAD_REQUESTS = [
    ({}, "address and port"),
    ([], "the request must be an object"),
    ({"servers": []}, "servers must be a list of 1 to"),
    ({"servers": "10.0.0.1"}, "servers must be a list"),
    ({"servers": [_server(address="10.0.0.300")]}, "is not an IPv4 or IPv6 address"),
    ({"servers": [_server(address="host.example.com")]}, "is not an IPv4 or IPv6 address"),
    ({"servers": [_server(address="0.0.0.0")]}, "is not the address of a server"),
    ({"servers": [_server(address=None)]}, "servers[0].address must be"),
    ({"servers": [_server(interfaces=[])]}, "servers[0].interfaces must be a list of 1 to"),
    ({"servers": [_server(interfaces=[{"protocol": "SCTP", "port": 2641}])]}, "protocol must be one of"),
    ({"servers": [_server(interfaces=[{"protocol": "UDP", "port": 0}])]}, "port must be an integer from 1"),
    ({"servers": [_server(interfaces=[{"protocol": "UDP", "port": 65536}])]}, "port must be an integer"),
    ({"servers": [_server(interfaces=[{"protocol": "UDP", "port": "2641"}])]}, "port must be an integer"),
    ({"servers": [_server(interfaces=[{"protocol": "UDP", "port": True}])]}, "port must be an integer"),
    ({"servers": [_server(interfaces=[{"protocol": "UDP", "port": 1, "query": "yes"}])]}, "query must be true"),
    ({"servers": [_server(publicKey={"format": "key", "value": 7})]}, "publicKey.value must be"),
    ({"servers": [_server(), _server()]}, "distinct serverId"),
    ({"servers": [_server()], "protocolVersion": "two"}, "protocolVersion must be"),
    ({"servers": [_server()], "serialNumber": 70000}, "serialNumber must be"),
    ({"servers": [_server()], "attributes": [{"value": "x"}]}, "attributes[0].name must be"),
    ({"site": "not a site"}, "the site must be an object"),
    ({"address": "10.0.0.1"}, "port must be an integer"),
    ({"address": "10.0.0.1", "port": 2641, "httpPort": 0}, "httpPort must be an integer"),
    ({"address": "fe80::1::2", "port": 2641}, "is not an IPv4 or IPv6 address"),
]


async def test_refusals_are_typed_and_write_nothing(client, fresh_node):
    tenant = await onboard(client, "enode-bad")
    admin = await admin_headers(client)
    url = f"/snms/api/v5/prefixes/{tenant.prefix}/home"
    for body, message in BAD_REQUESTS:
        answer = await client.put(url, json=body, headers=admin)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["error"] == "enterprise_node.site_invalid" and message in answer.json()["message"], (
            body,
            answer.text,
        )
    not_json = await client.put(url, content=b"{", headers={**admin, "content-type": "application/json"})
    assert not_json.status_code == 400
    good = {"address": "127.0.0.1", "port": 2641}
    unknown = await client.put("/snms/api/v5/prefixes/88.118.424242/home", json=good, headers=admin)
    assert unknown.status_code == 404 and unknown.json()["error"] == "prefix.not_found"
    node_prefix = await client.put("/snms/api/v5/prefixes/88.118/home", json=good, headers=admin)
    assert node_prefix.status_code == 404
    await client.post(f"/snms/api/v5/prefixes/{tenant.prefix}/disable", headers=admin)
    disabled = await client.put(url, json=good, headers=admin)
    assert disabled.status_code == 409 and disabled.json()["error"] == "enterprise_node.prefix_not_homeable"
    assert "disabled" in disabled.json()["message"]
    assert (await client.get("/snms/api/v5/prefixes/homed", headers=admin)).json()["data"] == []
    assert await _journal_kinds(fresh_node) == []


async def test_cli_homes_lists_and_unhomes_on_postgresql(client, fresh_node, database_url, tmp_path):
    tenant = await onboard(client, "enode-cli")
    site_file = tmp_path / "siteinfo.json"
    site_file.write_text(json.dumps(SITE), encoding="utf-8")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "SECNODE_DATABASE_URL": database_url,
        "SECNODE_NATIVE_ENABLED": "false",
        "COLUMNS": "200",
    }

    def secnode(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "node.cli", "prefix", *args],
            cwd=os.getcwd(),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    homed = await asyncio.to_thread(secnode, "home", tenant.prefix, "--site", str(site_file))
    assert homed.returncode == 0, homed.stdout + homed.stderr
    assert f"prefix {tenant.prefix}: homed at 10.20.30.40, 2001:db8::7" in homed.stdout
    short = await asyncio.to_thread(
        secnode, "home", tenant.prefix, "--address", "127.0.0.1", "--port", "2641", "--http-port", "8000"
    )
    assert short.returncode == 0, short.stdout + short.stderr
    listed = await asyncio.to_thread(secnode, "homed")
    assert tenant.prefix in listed.stdout and "UDP/2641" in listed.stdout and "unchecked" in listed.stdout
    bad = await asyncio.to_thread(secnode, "home", tenant.prefix, "--address", "nowhere", "--port", "2641")
    assert bad.returncode == 1 and "enterprise_node.site_invalid" in bad.stdout
    neither = await asyncio.to_thread(secnode, "home", tenant.prefix)
    assert neither.returncode == 2
    async with fresh_node.read_session() as session:
        assert (await service.site_of(session, canonical(tenant.prefix)))["servers"][0]["address"] == "127.0.0.1"
    gone = await asyncio.to_thread(secnode, "unhome", tenant.prefix)
    assert gone.returncode == 0, gone.stdout + gone.stderr
    again = await asyncio.to_thread(secnode, "unhome", tenant.prefix)
    assert again.returncode == 1 and "enterprise_node.not_homed" in again.stdout
    async with fresh_node.read_session() as session:
        assert await service.site_of(session, canonical(tenant.prefix)) is None
        actions = [r[0] for r in await session.execute(text("SELECT action FROM audit_log ORDER BY seq"))]
    assert f"CLI prefix home {tenant.prefix}" in actions and f"CLI prefix unhome {tenant.prefix}" in actions


# --- health -----------------------------------------------------------------------------------------------------


async def test_probe_speaks_get_site_info_over_udp_then_tcp():
    async with enterprise_node_udp() as (port, node):
        assert await probe(_short_site(port), 1.0) is None
        assert node.requests == 1
    closed = _closed_port()
    async with enterprise_node_tcp() as tcp_port:
        site = service.check_site(
            {
                "servers": [
                    {
                        "address": "127.0.0.1",
                        "interfaces": [{"protocol": "UDP", "port": closed}, {"protocol": "TCP", "port": tcp_port}],
                    }
                ]
            }
        )
        assert await probe(site, 1.0) is None  # UDP refused, TCP answers
    error = await probe(_short_site(closed), 0.5)
    assert error is not None and f"UDP 127.0.0.1:{closed}" in error and f"TCP 127.0.0.1:{closed}" in error
    http_only = service.check_site(
        {"servers": [{"address": "127.0.0.1", "interfaces": [{"protocol": "HTTP", "port": 1}]}]}
    )
    assert await probe(http_only, 0.5) == "the first server has no UDP or TCP interface"


async def test_health_check_records_metrics_and_one_worker_per_round(client, fresh_node, settings):
    healthy_tenant = await onboard(client, "enode-up")
    down_tenant = await onboard(client, "enode-down")
    admin = await admin_headers(client)
    closed = _closed_port()
    await client.put(
        f"/snms/api/v5/prefixes/{down_tenant.prefix}/home", json={"address": "127.0.0.1", "port": closed}, headers=admin
    )
    async with enterprise_node_udp() as (port, node):
        await client.put(
            f"/snms/api/v5/prefixes/{healthy_tenant.prefix}/home",
            json={"address": "127.0.0.1", "port": port},
            headers=admin,
        )
        checker = EnterpriseNodeChecker(fresh_node, settings, timeout=0.5)
        for _ in range(3):
            outcomes = {o.prefix_key: o.error for o in await checker.check_all()}
        assert outcomes[canonical(healthy_tenant.prefix)] is None and node.requests == 3
    assert outcomes[canonical(down_tenant.prefix)] is not None
    await checker.refresh_metrics()

    listed = {n["prefix"]: n for n in (await client.get("/snms/api/v5/prefixes/homed", headers=admin)).json()["data"]}
    up, down = listed[healthy_tenant.prefix], listed[down_tenant.prefix]
    assert up["healthy"] is True and up["consecutiveFailures"] == 0 and up["lastError"] is None
    assert up["lastCheckedAt"] is not None
    assert down["healthy"] is False and down["consecutiveFailures"] == 3 and "127.0.0.1" in down["lastError"]

    metrics = (await client.get("/metrics")).text
    assert f'secnode_enterprise_node_up{{prefix="{healthy_tenant.prefix}"}} 1.0' in metrics
    assert f'secnode_enterprise_node_up{{prefix="{down_tenant.prefix}"}} 0.0' in metrics
    assert f'secnode_enterprise_node_check_age_seconds{{prefix="{healthy_tenant.prefix}"}}' in metrics

    # re-homing starts afresh; a later success clears the failures
    async with enterprise_node_udp() as (port, node):
        await client.put(
            f"/snms/api/v5/prefixes/{down_tenant.prefix}/home",
            json={"address": "127.0.0.1", "port": port},
            headers=admin,
        )
        fresh = (await client.get("/snms/api/v5/prefixes/homed", headers=admin)).json()["data"]
        assert {n["prefix"]: n["healthy"] for n in fresh}[down_tenant.prefix] is None
        await checker.check_all()
    listed = {n["prefix"]: n for n in (await client.get("/snms/api/v5/prefixes/homed", headers=admin)).json()["data"]}
    assert listed[down_tenant.prefix]["healthy"] is True and listed[down_tenant.prefix]["consecutiveFailures"] == 0

    # one worker per round: the Redis key decides; the others only refresh their metrics
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.delete(ROUND_KEY)
        first = EnterpriseNodeChecker(fresh_node, settings, redis, timeout=0.2)
        second = EnterpriseNodeChecker(fresh_node, settings, redis, timeout=0.2)
        assert [await first.round(), await second.round()] == [True, False]
        assert 50_000 < await redis.pttl(ROUND_KEY) <= 54_000  # 90% of the 60 s interval
    finally:
        await redis.aclose()

    # unhomed: gone from the metrics at the next refresh
    await client.delete(f"/snms/api/v5/prefixes/{down_tenant.prefix}/home", headers=admin)
    await checker.refresh_metrics()
    assert f'prefix="{down_tenant.prefix}"' not in (await client.get("/metrics")).text


async def test_a_secnode_native_face_is_a_healthy_enterprise_node(fresh_node, settings):
    """Another secnode as the enterprise node: its native Handle face answers the checker's get-site-info over UDP
    and over TCP."""
    settings = settings.model_copy(update={"native_enabled": True, "native_port": 0})
    app = create_app(settings, db=fresh_node)
    async with app.router.lifespan_context(app):
        port = app.state.native.udp_port
        assert await probe(_short_site(port), 2.0) is None
        tcp_only = service.check_site(
            {"servers": [{"address": "127.0.0.1", "interfaces": [{"protocol": "TCP", "port": port}]}]}
        )
        assert await probe(tcp_only, 2.0) is None


async def test_the_checker_starts_with_the_application_and_zero_turns_it_off(fresh_node, database_url):
    settings = make_settings(database_url, enterprise_node_check_seconds=0)
    app = create_app(settings, db=fresh_node)
    async with app.router.lifespan_context(app):
        assert isinstance(app.state.enterprise_nodes, EnterpriseNodeChecker)
        await asyncio.wait_for(app.state.enterprise_nodes.run(), 1)  # returns at once: off


# --- upward statistics ------------------------------------------------------------------------------------------


async def test_upward_statistics_carry_enterprise_node_health(fresh_node, database_url, tmp_path):
    port = free_port()
    with running_toplevel(tmp_path, port) as top:
        key_path = str(tmp_path / "node.key")
        ensure_signing_key(key_path)
        # approvals stay local (the top-level approves prefixes only when the reporter drains; not needed here)
        settings = make_settings(database_url, node_key_file=key_path, sync_in_serve=False)
        app = create_app(settings, db=fresh_node)
        upstream = HttpUpstream(top, settings.node_prefix, load_signing_key(key_path))
        reporter = Reporter(fresh_node, settings, upstream, batch=100)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=ResolverFastPath(app))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                tenant = await onboard(client, "enode-stats")
                admin = await admin_headers(client)
                async with enterprise_node_udp() as (udp_port, _):
                    answer = await client.put(
                        f"/snms/api/v5/prefixes/{tenant.prefix}/home",
                        json={"address": "127.0.0.1", "port": udp_port},
                        headers=admin,
                    )
                    assert answer.status_code == 200, answer.text
                    await EnterpriseNodeChecker(fresh_node, settings, timeout=0.5).check_all()
                await upstream.register("http://127.0.0.1:8000")
                await reporter.drain()
                await reporter.report_health()
                node = httpx.get(f"{top}/v1/nodes/{settings.node_prefix}").json()
                await upstream.aclose()
    assert node["entries"].get("prefix.homed") == 1  # the journal carries the homing upward too
    homed = node["enterpriseNodes"]
    assert homed["homed"] == 1 and homed["healthy"] == 1 and homed["unhealthy"] == 0
    assert homed["nodes"][0]["prefix"] == tenant.prefix and homed["nodes"][0]["healthy"] is True


@pytest.mark.parametrize("value", ["x", -1, True, None])
def test_the_top_level_ignores_malformed_counts(value):
    from sync.toplevel.app import _count

    assert _count(value) == 0


# --- the embedded default (SQLite) ------------------------------------------------------------------------------


def test_home_and_unhome_on_sqlite(tmp_path):
    """`secnode prefix home | homed | unhome` on the embedded default, SQLite in a temporary folder."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "COLUMNS": "200",
        "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": "Cli-Secret-2026",
    }

    def secnode(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "node.cli", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert secnode("init").returncode == 0
    added = secnode(
        "enterprise", "add", "--name", "宝钢示范", "--credit-code", credit_code(),
        "--industry", "steel", "--industry-code", "C3120", "--contact-name", "赵六", "--contact-phone",
        "021-6666-0000", "--contact-email", "a@example.com", "--username", "baosteel", "--password", "Bao-Steel-2026",
    )  # fmt: skip
    assert added.returncode == 0, added.stdout + added.stderr
    allocated = secnode(
        "prefix", "allocate", "--enterprise-id", "1", "--code", "1042", "--admin-password", "Prefix-Admin-2026"
    )
    assert allocated.returncode == 0, allocated.stdout + allocated.stderr
    site_file = tmp_path / "siteinfo.json"
    site_file.write_text(json.dumps(SITE), encoding="utf-8")
    homed = secnode("prefix", "home", "88.118.1042", "--site", str(site_file))
    assert homed.returncode == 0 and "homed at 10.20.30.40" in homed.stdout, homed.stdout + homed.stderr
    rehomed = secnode("prefix", "home", "88.118.1042", "--address", "::1", "--port", "2641")
    assert rehomed.returncode == 0, rehomed.stdout + rehomed.stderr
    listed = secnode("prefix", "homed")
    assert "88.118.1042" in listed.stdout and "::1" in listed.stdout and "TCP/2641" in listed.stdout
    unknown = secnode("prefix", "home", "88.118.9", "--address", "::1", "--port", "2641")
    assert unknown.returncode == 1 and "prefix.not_found" in unknown.stdout
    assert secnode("prefix", "unhome", "88.118.1042").returncode == 0
    assert "88.118.1042" not in secnode("prefix", "homed").stdout
    gone = secnode("prefix", "unhome", "88.118.1042")
    assert gone.returncode == 1 and "enterprise_node.not_homed" in gone.stdout


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
async def test_migration_0014_goes_down_and_up(dialect, tmp_path):
    from sqlalchemy import inspect
    from sqlalchemy.ext.asyncio import create_async_engine

    from foundation.migrate import downgrade, upgrade
    from tests.conftest import migrated_database

    async def tables(url: str) -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    async with migrated_database(dialect, tmp_path) as url:
        assert "enterprise_nodes" in await tables(url)
        await asyncio.to_thread(downgrade, url, "0012")
        assert "enterprise_nodes" not in await tables(url)
        await asyncio.to_thread(upgrade, url)
        assert "enterprise_nodes" in await tables(url)
