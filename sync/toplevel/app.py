"""HTTP side of the reference top-level node (docs/sync-protocol.md)."""

from __future__ import annotations

import base64
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI, Request
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.responses import Response

from foundation.crypto import handle_trust as trust
from foundation.crypto.keys import key_id
from foundation.crypto.signing import verify
from foundation.crypto.trust_keys import TrustKey, ensure_trust_key, new_trust_key
from foundation.http.responses import JSONBody
from registry.kernel.values import public_view, render
from sync.snapshot import SnapshotInvalid, read_snapshot
from sync.toplevel.escrow_intake import escrow_routes
from sync.toplevel.storage import (
    decisions,
    enterprise_nodes,
    heartbeats,
    homes,
    journal,
    metadata,
    nodes,
    records,
    statistics,
)


def _count(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _insert_ignoring_conflicts(engine, table):
    dialect = sqlite if engine.dialect.name == "sqlite" else postgresql
    return dialect.insert(table).on_conflict_do_nothing()


def _problem(status: int, error: str, message: str, **extra: Any) -> JSONBody:
    return JSONBody({"error": error, "message": message, **extra}, status_code=status)


def _canonical(text: str) -> str:
    return text.translate(str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"))


def _owned(node_key: str, entry: dict[str, Any]) -> bool:
    """Whether an entry speaks only of prefixes under the reporting node's prefix."""
    kind, subject = entry.get("kind", ""), _canonical(str(entry.get("subjectKey", "")))
    if kind.startswith("prefix."):
        prefix = subject
    elif kind.startswith("handle."):
        prefix = subject.partition("/")[0]
        if prefix == "0.na":
            prefix = subject.partition("/")[2]
    else:
        return True  # enterprises, templates, events: speak of no prefix ownership
    return prefix == node_key or prefix.startswith(node_key + ".")


ROOT_IDENTITY = f"300:{trust.ROOT_HANDLE}"
ROOT_LIFETIME = 10 * 365 * 86400
NODE_CERTIFICATE_LIFETIME = 2 * 365 * 86400


class RootOfTrust:
    """The top level's root key: ``0.0/0.0`` publishes it (HS_PUBKEY at 300) with its self-issued certificate
    (HS_CERT at 400), and it certifies the trust key of every registered node for that node's prefix."""

    def __init__(self, key: TrustKey):
        self.key = key
        self.certificate = trust.certificate(
            ROOT_IDENTITY,
            trust.certificate_jwk(key),
            [{"handle": trust.ROOT_HANDLE, "perm": trust.EVERYTHING}],
            ROOT_IDENTITY,
            key,
            lifetime=ROOT_LIFETIME,
        )

    def values(self) -> list[dict[str, Any]]:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return [
            {
                "index": 300,
                "type": "HS_PUBKEY",
                "data": {"format": "key", "value": self.key.public_jwk()},
                "ttl": 86400,
                "timestamp": stamp,
            },
            {**trust.string_value(trust.CERT_INDEX, trust.CERT_TYPE, self.certificate), "timestamp": stamp},
        ]

    def certify_node(self, node_prefix: str, jwk: Any) -> str:
        """The node's trust key may act for ``0.NA/<node prefix>``, the handles under it and its derived prefixes."""
        trust.claims_key(jwk)  # TrustInvalid when it is no key a verifier could use
        return trust.certificate(
            f"301:0.NA/{node_prefix}",
            jwk,
            trust.prefix_permissions(node_prefix, derived=True),
            ROOT_IDENTITY,
            self.key,
            lifetime=NODE_CERTIFICATE_LIFETIME,
            chain=[trust.ROOT_HANDLE],
        )


def create_toplevel_app(
    database_url: str = "sqlite+aiosqlite:///./toplevel.db",
    *,
    auto_approve: bool = True,
    homing_ttl: int = 300,
    root_key_file: str | None = None,
    root_key_alg: str = "RS256",
) -> FastAPI:
    """``root_key_file``: the root of trust's key, made there at the first start; without one, a key of this run."""
    engine = create_async_engine(database_url)
    root_key = ensure_trust_key(root_key_file, root_key_alg)[1] if root_key_file else new_trust_key(root_key_alg)
    root = RootOfTrust(root_key)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        yield
        await engine.dispose()

    app = FastAPI(title="secnode reference top-level node", lifespan=lifespan)
    app.include_router(escrow_routes(engine))  # data escrow: the top-level node, or a stand-alone escrow agent

    async def _node(connection, node_prefix: str):
        return (await connection.execute(select(nodes).where(nodes.c.node_prefix == node_prefix))).first()

    @app.post("/v1/nodes", status_code=201)
    async def register(request: Request) -> Response:
        body = await request.body()
        try:
            data = orjson.loads(body)
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(data["publicKey"]))
            node_prefix, service_url = str(data["nodePrefix"]), str(data["serviceUrl"])
        except (orjson.JSONDecodeError, KeyError, ValueError, TypeError):
            return _problem(400, "sync.bad_request", "nodePrefix, publicKey and serviceUrl are required")
        if not verify(body, dict(request.headers), key):
            return _problem(401, "sync.bad_signature", "the registration is not signed by the key it presents")
        async with engine.begin() as connection:
            known = await _node(connection, node_prefix)
            if known is not None and known.key_id != key_id(key):
                return _problem(409, "sync.key_mismatch", f"{node_prefix} is registered with another key")
            if known is None:
                await connection.execute(
                    nodes.insert().values(
                        node_prefix=node_prefix,
                        key_id=key_id(key),
                        public_key=data["publicKey"],
                        service_url=service_url,
                        acknowledged=0,
                        registered_at=datetime.now(UTC),
                    )
                )
            else:
                await connection.execute(
                    update(nodes).where(nodes.c.node_prefix == node_prefix).values(service_url=service_url)
                )
        return JSONBody(
            {
                "nodePrefix": node_prefix,
                "keyId": key_id(key),
                "acknowledged": known.acknowledged if known is not None else 0,
            },
            status_code=201,
        )

    async def _signed(connection, node_prefix: str, request: Request) -> tuple[Any, Any, Response | None]:
        """(node, parsed body, None) for a request signed by the registered node's key, else a refusal."""
        body = await request.body()
        node = await _node(connection, node_prefix)
        if node is None:
            return None, None, _problem(401, "sync.unknown_node", f"{node_prefix} is not registered")
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(node.public_key))
        if not verify(body, dict(request.headers), key):
            return None, None, _problem(401, "sync.bad_signature", "the request is not signed by the node's key")
        try:
            return node, orjson.loads(body), None
        except orjson.JSONDecodeError:
            return None, None, _problem(400, "sync.bad_request", "the body is not JSON")

    @app.post("/v1/nodes/{node_prefix}/journal")
    async def receive_journal(node_prefix: str, request: Request) -> Response:
        async with engine.begin() as connection:
            node, data, refused = await _signed(connection, node_prefix, request)
            if refused is not None:
                return refused
            try:
                after, last, entries = int(data["after"]), int(data["last"]), list(data["entries"])
                seqs = [int(e["seq"]) for e in entries]
            except (KeyError, ValueError, TypeError):
                return _problem(400, "sync.bad_request", "after, last and entries are required")
            if (
                data.get("nodePrefix") != node_prefix
                or seqs != sorted(set(seqs))
                or any(not after < s <= last for s in seqs)
            ):
                return _problem(400, "sync.bad_batch", "entries must be in order, unique, within (after, last]")
            node_key = _canonical(node_prefix)
            foreign = next((e for e in entries if not _owned(node_key, e)), None)
            if foreign is not None:
                return _problem(
                    422, "sync.foreign_prefix", f"{foreign['subject']} is not under {node_prefix}", seq=foreign["seq"]
                )
            if after <= node.acknowledged and entries:
                now = datetime.now(UTC)
                await connection.execute(
                    _insert_ignoring_conflicts(engine, journal),
                    [
                        {
                            "node_prefix": node_prefix,
                            "seq": e["seq"],
                            "kind": e["kind"],
                            "subject_key": _canonical(e["subjectKey"]),
                            "entry": e,
                            "received_at": now,
                        }
                        for e in entries
                    ],
                )
                await _digest(connection, node_prefix, entries)
            accepted = max(node.acknowledged, last) if after <= node.acknowledged else node.acknowledged
            await connection.execute(
                update(nodes).where(nodes.c.node_prefix == node_prefix).values(acknowledged=accepted)
            )
            pending = (
                await connection.execute(
                    select(decisions).where(
                        decisions.c.node_prefix == node_prefix,
                        decisions.c.settled == 0,
                        decisions.c.decision != "pending",
                    )
                )
            ).all()
        return JSONBody(
            {
                "accepted": accepted,
                "decisions": [{"prefix": d.prefix, "decision": d.decision, "reason": d.reason} for d in pending],
            }
        )

    async def _digest(connection, node_prefix: str, entries: list[dict[str, Any]]) -> None:
        """Decide prefix applications and keep the homing table from what the node reported."""
        for entry in entries:
            kind, prefix = entry["kind"], entry["subject"]
            key = _canonical(prefix)
            awaiting = isinstance(entry.get("payload"), dict) and entry["payload"].get("awaiting") == "upstream"
            if kind == "prefix.approved" and awaiting:
                # auto-approval decides at once; in manual mode the operator decides through /v1/applications
                await connection.execute(
                    _insert_ignoring_conflicts(engine, decisions).values(
                        prefix_key=key,
                        node_prefix=node_prefix,
                        prefix=prefix,
                        decision="approved" if auto_approve else "pending",
                        settled=0,
                    )
                )
            elif kind in ("prefix.enabled", "prefix.rejected", "prefix.deleted"):
                await connection.execute(update(decisions).where(decisions.c.prefix_key == key).values(settled=1))
                if kind == "prefix.enabled":
                    await connection.execute(
                        _insert_ignoring_conflicts(engine, homes).values(
                            prefix_key=key, prefix=prefix, node_prefix=node_prefix
                        )
                    )
                else:
                    await connection.execute(homes.delete().where(homes.c.prefix_key == key))

    @app.post("/v1/nodes/{node_prefix}/statistics", status_code=204)
    async def receive_statistics(node_prefix: str, request: Request) -> Response:
        async with engine.begin() as connection:
            _, data, refused = await _signed(connection, node_prefix, request)
            if refused is not None:
                return refused
            day = str(data.get("day", ""))
            registrations, resolutions = data.get("registrations", {}), data.get("resolutions", {})
            await connection.execute(
                statistics.delete().where(statistics.c.node_prefix == node_prefix, statistics.c.day == day)
            )
            rows = [
                {
                    "node_prefix": node_prefix,
                    "day": day,
                    "prefix": p,
                    "registrations": int(registrations.get(p, 0)),
                    "resolutions": int(resolutions.get(p, 0)),
                }
                for p in sorted(set(registrations) | set(resolutions))
            ]
            if rows:
                await connection.execute(statistics.insert(), rows)
            homed = data.get("enterpriseNodes")  # optional: nodes before enterprise nodes do not send it
            if isinstance(homed, dict):
                summary = {
                    "homed": _count(homed.get("homed")),
                    "healthy": _count(homed.get("healthy")),
                    "unhealthy": _count(homed.get("unhealthy")),
                    "nodes": [n for n in homed.get("nodes", []) if isinstance(n, dict)][:10_000],
                }
                await connection.execute(enterprise_nodes.delete().where(enterprise_nodes.c.node_prefix == node_prefix))
                await connection.execute(
                    enterprise_nodes.insert().values(
                        node_prefix=node_prefix, body=summary, received_at=datetime.now(UTC)
                    )
                )
        return Response(status_code=204)

    @app.post("/v1/nodes/{node_prefix}/heartbeat")
    async def receive_heartbeat(node_prefix: str, request: Request) -> Response:
        async with engine.begin() as connection:
            _, data, refused = await _signed(connection, node_prefix, request)
            if refused is not None:
                return refused
            await connection.execute(heartbeats.delete().where(heartbeats.c.node_prefix == node_prefix))
            await connection.execute(
                heartbeats.insert().values(node_prefix=node_prefix, body=data, received_at=datetime.now(UTC))
            )
            pending = (
                await connection.execute(
                    select(decisions).where(
                        decisions.c.node_prefix == node_prefix,
                        decisions.c.settled == 0,
                        decisions.c.decision != "pending",
                    )
                )
            ).all()
        return JSONBody(
            {"decisions": [{"prefix": d.prefix, "decision": d.decision, "reason": d.reason} for d in pending]}
        )

    @app.post("/v1/nodes/{node_prefix}/snapshot", status_code=201)
    async def import_snapshot(node_prefix: str, request: Request) -> Response:
        body = await request.body()
        async with engine.begin() as connection:
            node = await _node(connection, node_prefix)
            if node is None:
                return _problem(401, "sync.unknown_node", f"{node_prefix} is not registered")
            try:
                header, rows = read_snapshot(
                    body, Ed25519PublicKey.from_public_bytes(base64.b64decode(node.public_key))
                )
            except SnapshotInvalid as exc:
                return _problem(401, "sync.bad_snapshot", str(exc))
            if header.get("nodePrefix") != node_prefix:
                return _problem(400, "sync.bad_snapshot", "the snapshot belongs to another node")
            await connection.execute(records.delete().where(records.c.node_prefix == node_prefix))
            if rows:
                await connection.execute(
                    records.insert(),
                    [
                        {
                            "handle_key": _canonical(r["handle"]),
                            "node_prefix": node_prefix,
                            "handle": r["handle"],
                            "version": r["version"],
                            "record_values": r["values"],
                        }
                        for r in rows
                    ],
                )
        return JSONBody(
            {"nodePrefix": node_prefix, "records": len(rows), "journalSeq": header.get("journalSeq")}, status_code=201
        )

    @app.post("/v1/nodes/{node_prefix}/certificate", status_code=201)
    async def certify(node_prefix: str, request: Request) -> Response:
        """Certify a registered node's trust key (``{"trustKey": JWK}``, signed by the node's registered key) for its
        prefix: the HS_CERT it keeps at index 400 of ``0.NA/<node prefix>``, and the root certificate above it."""
        async with engine.connect() as connection:
            _, data, refused = await _signed(connection, node_prefix, request)
        if refused is not None:
            return refused
        try:
            certificate = root.certify_node(node_prefix, data.get("trustKey") if isinstance(data, dict) else None)
        except trust.TrustInvalid as exc:
            return _problem(400, "sync.bad_trust_key", str(exc))
        return JSONBody({"certificate": certificate, "rootCertificate": root.certificate}, status_code=201)

    @app.get(f"/api/handles/{trust.ROOT_HANDLE}")
    async def resolve_root() -> Response:
        """The root of trust, as a Handle REST answer."""
        return JSONBody({"responseCode": 1, "handle": trust.ROOT_HANDLE, "values": root.values()})

    @app.get("/api/handles/{handle:path}")
    async def resolve_imported(handle: str) -> Response:
        """Read-only resolution of imported snapshots (emergency takeover): public values, Handle.Net shape."""
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    select(records.c.record_values).where(records.c.handle_key == _canonical(handle))
                )
            ).first()
        if row is None:
            return JSONBody({"responseCode": 100, "handle": handle, "message": "handle not found"}, status_code=404)
        return JSONBody({"responseCode": 1, "handle": handle, "values": [render(v) for v in public_view(row[0])]})

    @app.get("/v1/applications")
    async def applications() -> Response:
        """Prefix applications waiting for the operator (manual approval mode)."""
        async with engine.connect() as connection:
            rows = (await connection.execute(select(decisions).where(decisions.c.decision == "pending"))).all()
        return JSONBody({"applications": [{"prefix": r.prefix, "nodePrefix": r.node_prefix} for r in rows]})

    @app.post("/v1/applications/{prefix}")
    async def decide(prefix: str, request: Request) -> Response:
        """The operator's decision: ``{"decision": "approved" | "rejected", "reason": ...}`` (loopback rehearsal
        tool: the reference top-level has no operator accounts)."""
        try:
            data = orjson.loads(await request.body())
            decision = data["decision"]
            assert decision in ("approved", "rejected")
        except (orjson.JSONDecodeError, KeyError, AssertionError, TypeError):
            return _problem(400, "sync.bad_request", "decision must be approved or rejected")
        async with engine.begin() as connection:
            result = await connection.execute(
                update(decisions)
                .where(decisions.c.prefix_key == _canonical(prefix), decisions.c.decision == "pending")
                .values(decision=decision, reason=data.get("reason"))
            )
        if result.rowcount == 0:
            return _problem(404, "sync.no_application", f"no application for {prefix} is waiting")
        return JSONBody({"prefix": prefix, "decision": decision})

    @app.get("/v1/homing/{prefix}")
    async def homing(prefix: str) -> Response:
        key = _canonical(prefix)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(homes.c.prefix_key, nodes.c.node_prefix, nodes.c.service_url).join(
                        nodes, nodes.c.node_prefix == homes.c.node_prefix
                    )
                )
            ).all()
            registered = (await connection.execute(select(nodes.c.node_prefix, nodes.c.service_url))).all()
        candidates = [(p, n, u) for p, n, u in rows] + [(_canonical(n), n, u) for n, u in registered]
        matches = [c for c in candidates if key == c[0] or key.startswith(c[0] + ".")]
        if not matches:
            return _problem(404, "sync.not_homed", f"no node serves {prefix}")
        _, node_prefix, url = max(matches, key=lambda c: len(c[0]))
        return JSONBody({"prefix": prefix, "nodePrefix": node_prefix, "serviceUrl": url, "ttl": homing_ttl})

    @app.get("/v1/nodes/{node_prefix}")
    async def node_state(node_prefix: str) -> Response:
        async with engine.connect() as connection:
            node = await _node(connection, node_prefix)
            if node is None:
                return _problem(404, "sync.unknown_node", f"{node_prefix} is not registered")
            kinds: dict[str, int] = dict(
                (
                    await connection.execute(
                        select(journal.c.kind, func.count())
                        .where(journal.c.node_prefix == node_prefix)
                        .group_by(journal.c.kind)
                    )
                ).all()
            )
            beat = (
                await connection.execute(select(heartbeats.c.body).where(heartbeats.c.node_prefix == node_prefix))
            ).scalar_one_or_none()
            stats = (await connection.execute(select(statistics).where(statistics.c.node_prefix == node_prefix))).all()
            homed = (
                await connection.execute(
                    select(enterprise_nodes.c.body).where(enterprise_nodes.c.node_prefix == node_prefix)
                )
            ).scalar_one_or_none()
        return JSONBody(
            {
                "nodePrefix": node_prefix,
                "keyId": node.key_id,
                "publicKey": node.public_key,
                "serviceUrl": node.service_url,
                "acknowledged": node.acknowledged,
                "entries": kinds,
                "heartbeat": beat,
                "statistics": [
                    {"day": r.day, "prefix": r.prefix, "registrations": r.registrations, "resolutions": r.resolutions}
                    for r in stats
                ],
                "enterpriseNodes": homed,
            }
        )

    return app
