"""The reference top-level node receiving data escrow deposits (docs/escrow.md, "Transfer"); a stand-alone escrow
agent is this same program. A deposit is stored when its detached signature verifies with the key the node
registered, it is a well-formed RFC 8909 deposit of that node whose counts hold, and it follows what is held: an
incremental deposit names the last one held (``prevId``) and starts where it ended. The answer is a receipt."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, Request
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.responses import Response

from foundation.http.responses import JSONBody
from sync.errors import EscrowInvalid
from sync.escrow import signature
from sync.escrow.deposit import INCR, DepositInfo, summary, with_resend
from sync.escrow.signature import SIGNATURE_HEADER
from sync.toplevel.storage import escrow, nodes

MAX_DEPOSIT_BYTES = 512 * 1024 * 1024


def _problem(status: int, error: str, message: str) -> JSONBody:
    return JSONBody({"error": error, "message": message}, status_code=status)


def _receipt(node_prefix: str, info: DepositInfo, sha256: str, received_at: datetime, status: str) -> dict[str, Any]:
    return {
        "status": status,  # stored | resent
        "nodePrefix": node_prefix,
        "depositId": info.deposit_id,
        "type": info.kind,
        "resend": info.resend,
        "watermark": info.watermark.isoformat(),
        "journalTo": info.to_seq,
        "counts": info.counts,
        "sha256": sha256,
        "receivedAt": received_at.isoformat(),
    }


def _content_digest(data: bytes) -> str:
    """The digest of a deposit whatever its resend counter: a resend must carry the same content."""
    return hashlib.sha256(with_resend(data, 0)).hexdigest()


def escrow_routes(engine: AsyncEngine) -> APIRouter:
    router = APIRouter()

    @router.post("/v1/nodes/{node_prefix}/escrow", status_code=201)
    async def receive_deposit(node_prefix: str, request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_DEPOSIT_BYTES:
            return _problem(413, "escrow.too_large", "the deposit is larger than this node takes")
        try:
            sig = base64.b64decode(request.headers.get(SIGNATURE_HEADER, ""), validate=True)
        except ValueError:
            return _problem(400, "escrow.bad_request", f"{SIGNATURE_HEADER} is not base64")
        async with engine.begin() as connection:
            node = (await connection.execute(select(nodes).where(nodes.c.node_prefix == node_prefix))).first()
            if node is None:
                return _problem(401, "sync.unknown_node", f"{node_prefix} is not registered")
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(node.public_key))
            try:
                signature.check(hashlib.sha256(body).digest(), sig, key)
            except EscrowInvalid as exc:
                return _problem(401, "escrow.bad_signature", str(exc))
            try:
                info = summary(body)
            except EscrowInvalid as exc:
                return _problem(400, "escrow.bad_deposit", str(exc))
            if info.node_prefix != node_prefix:
                return _problem(400, "escrow.bad_deposit", f"the deposit is of {info.node_prefix}, not {node_prefix}")
            now = datetime.now(UTC)
            sha256 = hashlib.sha256(body).hexdigest()
            held = (
                await connection.execute(
                    select(escrow).where(escrow.c.node_prefix == node_prefix, escrow.c.deposit_id == info.deposit_id)
                )
            ).first()
            if held is not None:
                if _content_digest(held.deposit) != _content_digest(body):
                    return _problem(409, "escrow.conflict", f"deposit {info.deposit_id} is held with other content")
                if info.resend <= held.resend:
                    return _problem(
                        409, "escrow.replay", f"deposit {info.deposit_id} resend {info.resend} was received"
                    )
                await connection.execute(
                    update(escrow)
                    .where(escrow.c.node_prefix == node_prefix, escrow.c.deposit_id == info.deposit_id)
                    .values(resend=info.resend, deposit=body, signature=sig, sha256=sha256, received_at=now)
                )
                return JSONBody(_receipt(node_prefix, info, sha256, now, "resent"), status_code=200)
            last = (
                await connection.execute(
                    select(escrow.c.deposit_id, escrow.c.to_seq)
                    .where(escrow.c.node_prefix == node_prefix)
                    .order_by(escrow.c.to_seq.desc(), escrow.c.received_at.desc())
                    .limit(1)
                )
            ).first()
            if info.kind == INCR and (last is None or info.prev_id != last.deposit_id or info.from_seq != last.to_seq):
                held_text = "nothing" if last is None else f"{last.deposit_id} up to journal number {last.to_seq}"
                return _problem(
                    409,
                    "escrow.gap",
                    f"{info.deposit_id} follows {info.prev_id} from {info.from_seq}, but this node holds {held_text}",
                )
            if last is not None and info.to_seq < last.to_seq:
                return _problem(409, "escrow.replay", f"{info.deposit_id} is older than {last.deposit_id}, held")
            await connection.execute(
                escrow.insert().values(
                    node_prefix=node_prefix,
                    deposit_id=info.deposit_id,
                    kind=info.kind,
                    prev_id=info.prev_id,
                    from_seq=info.from_seq,
                    to_seq=info.to_seq,
                    watermark=info.watermark,
                    resend=info.resend,
                    sha256=sha256,
                    counts=info.counts,
                    deposit=body,
                    signature=sig,
                    received_at=now,
                )
            )
        return JSONBody(_receipt(node_prefix, info, sha256, now, "stored"), status_code=201)

    @router.get("/v1/nodes/{node_prefix}/escrow")
    async def list_deposits(node_prefix: str) -> Response:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(escrow).where(escrow.c.node_prefix == node_prefix).order_by(escrow.c.received_at)
                )
            ).all()
        return JSONBody(
            {
                "nodePrefix": node_prefix,
                "deposits": [
                    {
                        "depositId": r.deposit_id,
                        "type": r.kind,
                        "prevId": r.prev_id,
                        "resend": r.resend,
                        "journalFrom": r.from_seq,
                        "journalTo": r.to_seq,
                        "counts": r.counts,
                        "sha256": r.sha256,
                    }
                    for r in rows
                ],
            }
        )

    @router.get("/v1/nodes/{node_prefix}/escrow/{deposit_id}")
    async def fetch_deposit(node_prefix: str, deposit_id: str) -> Response:
        """A deposit as received, its detached signature in the header (what a restore needs from here)."""
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    select(escrow.c.deposit, escrow.c.signature).where(
                        escrow.c.node_prefix == node_prefix, escrow.c.deposit_id == deposit_id
                    )
                )
            ).first()
        if row is None:
            return _problem(404, "escrow.not_found", f"no deposit {deposit_id} of {node_prefix}")
        return Response(
            row.deposit,
            media_type="application/xml",
            headers={SIGNATURE_HEADER: base64.b64encode(row.signature).decode()},
        )

    return router
