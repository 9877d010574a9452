"""The upstream adapter boundary: what the reporter needs from a top-level node, and its HTTP implementation
(docs/sync-protocol.md)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from foundation.crypto.keys import public_key_raw
from foundation.crypto.signing import sign
from sync.errors import UpstreamError


@dataclass
class Acknowledgement:
    accepted: int  # the highest journal number the top-level holds durably, with nothing missing before it
    decisions: list[dict[str, Any]] = field(default_factory=list)  # prefix approvals and rejections


class Upstream(Protocol):
    async def register(self, service_url: str) -> int:
        """Register (or re-register) the node; returns the journal number the top-level acknowledged last."""
        ...

    async def send_journal(self, after: int, entries: list[dict[str, Any]]) -> Acknowledgement: ...

    async def send_statistics(
        self,
        day: str,
        registrations: dict[str, int],
        resolutions: dict[str, int],
        enterprise_nodes: dict[str, Any] | None = None,
    ) -> None: ...

    async def send_heartbeat(self, beat: dict[str, Any]) -> list[dict[str, Any]]: ...

    async def send_snapshot(self, snapshot: bytes) -> dict[str, Any]: ...

    async def certify(self, trust_key: dict[str, Any]) -> dict[str, Any]:
        """Have the top level certify the node's trust key (a JWK): ``{"certificate", "rootCertificate"}``."""
        ...


class HttpUpstream:
    def __init__(
        self,
        base_url: str,
        node_prefix: str,
        key: Ed25519PrivateKey,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ):
        self.node_prefix = node_prefix
        self.key = key
        self.client = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = orjson.dumps(payload)
        headers = {"content-type": "application/json", **sign(body, self.key)}
        try:
            response = await self.client.post(path, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise UpstreamError(f"top-level node unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 300:
            raise UpstreamError(f"top-level node answered {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else {}

    async def register(self, service_url: str) -> int:
        answer = await self._post(
            "/v1/nodes",
            {
                "nodePrefix": self.node_prefix,
                "serviceUrl": service_url,
                "publicKey": base64.b64encode(public_key_raw(self.key.public_key())).decode(),
            },
        )
        return int(answer.get("acknowledged", 0))

    async def send_journal(self, after: int, entries: list[dict[str, Any]]) -> Acknowledgement:
        answer = await self._post(
            f"/v1/nodes/{self.node_prefix}/journal",
            {
                "nodePrefix": self.node_prefix,
                "after": after,
                "last": entries[-1]["seq"] if entries else after,
                "entries": entries,
            },
        )
        return Acknowledgement(int(answer["accepted"]), answer.get("decisions", []))

    async def send_statistics(
        self,
        day: str,
        registrations: dict[str, int],
        resolutions: dict[str, int],
        enterprise_nodes: dict[str, Any] | None = None,
    ) -> None:
        payload: dict[str, Any] = {"day": day, "registrations": registrations, "resolutions": resolutions}
        if enterprise_nodes is not None:
            payload["enterpriseNodes"] = enterprise_nodes
        await self._post(f"/v1/nodes/{self.node_prefix}/statistics", payload)

    async def send_heartbeat(self, beat: dict[str, Any]) -> list[dict[str, Any]]:
        return (await self._post(f"/v1/nodes/{self.node_prefix}/heartbeat", beat)).get("decisions", [])

    async def certify(self, trust_key: dict[str, Any]) -> dict[str, Any]:
        return await self._post(f"/v1/nodes/{self.node_prefix}/certificate", {"trustKey": trust_key})

    async def send_snapshot(self, snapshot: bytes) -> dict[str, Any]:
        """A snapshot carries its own signature (sync.snapshot), so it is sent as it is."""
        try:
            response = await self.client.post(
                f"/v1/nodes/{self.node_prefix}/snapshot",
                content=snapshot,
                headers={"content-type": "application/x-ndjson"},
                timeout=300,
            )
        except httpx.HTTPError as exc:
            raise UpstreamError(f"top-level node unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 300:
            raise UpstreamError(f"top-level node answered {response.status_code}: {response.text[:300]}")
        return response.json()

    async def aclose(self) -> None:
        await self.client.aclose()
