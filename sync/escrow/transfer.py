"""Sending deposits: ``POST /v1/nodes/{node}/escrow`` to the top-level node and to the escrow agent, in the order
they were made, each destination stopping at its first failure; a deposit that failed is sent again with its
``resend`` counter raised and a new signature (docs/escrow.md, "Transfer")."""

from __future__ import annotations

import asyncio
import base64
import logging
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from foundation.config import Settings
from foundation.db import Database
from foundation.metrics import ESCROW_PENDING, ESCROW_UPLOADS
from registry.journal.models import EscrowDeposit
from registry.kernel.clock import utcnow
from sync.errors import UpstreamError
from sync.escrow import signature
from sync.escrow.deposit import with_resend
from sync.escrow.depositor import destinations
from sync.escrow.signature import SIGNATURE_HEADER, sig_path_of
from sync.upstream import HttpUpstream

log = logging.getLogger("secnode.escrow")
PENDING, RECEIVED, GAP = "pending", "received", "gap"
MAX_RESEND = 65535  # RFC 8909: an unsignedShort


class Refused(UpstreamError):
    """The destination answered that the deposit does not follow what it holds (``escrow.gap``)."""


class EscrowDestination:
    """One destination: registers the node's key there (the reference top-level's ``/v1/nodes``), then sends."""

    def __init__(self, base_url: str, node_prefix: str, key: Ed25519PrivateKey, service_url: str):
        self.node_prefix, self.service_url = node_prefix, service_url
        self.upstream = HttpUpstream(base_url, node_prefix, key, timeout=60.0)
        self.registered = False

    async def send(self, data: bytes, sig: bytes) -> dict[str, Any]:
        if not self.registered:
            await self.upstream.register(self.service_url)
            self.registered = True
        headers = {"content-type": "application/xml", SIGNATURE_HEADER: base64.b64encode(sig).decode()}
        try:
            response = await self.upstream.client.post(
                f"/v1/nodes/{self.node_prefix}/escrow", content=data, headers=headers
            )
        except httpx.HTTPError as exc:
            raise UpstreamError(f"escrow destination unreachable: {type(exc).__name__}") from exc
        if response.status_code == 409 and "escrow.gap" in response.text:
            raise Refused(response.text[:300])
        if response.status_code >= 300:
            raise UpstreamError(f"escrow destination answered {response.status_code}: {response.text[:300]}")
        return response.json()

    async def aclose(self) -> None:
        await self.upstream.aclose()


def _resign(deposit: EscrowDeposit, key: Ed25519PrivateKey) -> tuple[bytes, bytes]:
    """The deposit's file with its current ``resend`` counter, and its signature; rewritten in place when the
    counter moved, so the files on disk are always what was sent last."""
    xml_path = Path(deposit.file_path)
    data = xml_path.read_bytes()
    sig_path = sig_path_of(xml_path)
    if f' resend="{deposit.resend}"'.encode() not in data[:2048]:
        data = with_resend(data, deposit.resend)
        sig = signature.sign(data, key)
        partial = xml_path.with_name(xml_path.name + ".partial")
        partial.write_bytes(data)
        partial.replace(xml_path)
        sig_path.write_bytes(sig)
        return data, sig
    return data, sig_path.read_bytes()


async def send_pending(
    db: Database, settings: Settings, key: Ed25519PrivateKey, clients: dict[str, EscrowDestination] | None = None
) -> dict[str, int]:
    """Send every deposit a destination has not received, oldest first; returns how many each received now."""
    own = clients is None
    clients = clients or {
        name: EscrowDestination(url, settings.node_prefix, key, settings.public_url)
        for name, url in destinations(settings).items()
    }
    sent = dict.fromkeys(clients, 0)
    try:
        for name, client in clients.items():
            sent[name] = await _send_to(db, name, client, key)
    finally:
        if own:
            for client in clients.values():
                await client.aclose()
    return sent


async def _owed(db: Database, name: str) -> list[EscrowDeposit]:
    async with db.unit_of_work() as session:
        rows = (await session.execute(select(EscrowDeposit).order_by(EscrowDeposit.created_at))).scalars().all()
        return [r for r in rows if r.destinations.get(name, {}).get("state") == PENDING]


async def _send_to(db: Database, name: str, client: EscrowDestination, key: Ed25519PrivateKey) -> int:
    owed = await _owed(db, name)
    ESCROW_PENDING.labels(name).set(len(owed))
    sent = 0
    for deposit in owed:
        data, sig = await asyncio.to_thread(_resign, deposit, key)
        try:
            receipt = await client.send(data, sig)
        except UpstreamError as exc:
            gap = isinstance(exc, Refused)
            await _record(db, deposit.deposit_id, name, error=str(exc), gap=gap)
            ESCROW_UPLOADS.labels(name, "gap" if gap else "failed").inc()
            log.warning("secnode.escrow.send_failed destination=%s deposit=%s error=%s", name, deposit.deposit_id, exc)
            return sent
        await _record(db, deposit.deposit_id, name, receipt=receipt)
        ESCROW_UPLOADS.labels(name, "received").inc()
        sent += 1
        ESCROW_PENDING.labels(name).set(len(owed) - sent)
    return sent


async def _record(
    db: Database,
    deposit_id: str,
    name: str,
    *,
    receipt: dict[str, Any] | None = None,
    error: str | None = None,
    gap: bool = False,
) -> None:
    async with db.unit_of_work() as session:
        deposit = (
            await session.execute(select(EscrowDeposit).where(EscrowDeposit.deposit_id == deposit_id).with_for_update())
        ).scalar_one()
        state = dict(deposit.destinations.get(name, {}))
        state["attempts"] = int(state.get("attempts", 0)) + 1
        state["lastAttemptAt"] = utcnow().isoformat()
        if receipt is not None:
            state.update(state=RECEIVED, receipt=receipt, lastError=None)
        else:
            # sent again later, with the counter raised (RFC 8909's resend); a gap is settled by the next full deposit
            state.update(state=GAP if gap else PENDING, lastError=error)
            if not gap:
                deposit.resend = min(deposit.resend + 1, MAX_RESEND)
        deposit.destinations = {**deposit.destinations, name: state}
