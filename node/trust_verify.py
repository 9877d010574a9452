"""``secnode verify HANDLE --chain``: check a record's HS_SIGNATURE as Handle.Net's trust classes do (ADR 0015): the
signature over the record's values, its issuer's HS_CERT, the node's HS_CERT, up to the top level's root of trust."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from foundation.crypto import handle_trust as trust
from foundation.crypto.pubkeys import PublicKey, load_public_key

Value = dict[str, Any]


def root_key_from(text: str) -> PublicKey:
    """A root public key given by the verifier: PEM, JWK, or the root's self-issued HS_CERT (its key)."""
    text = text.strip()
    if text.count(".") == 2 and not text.startswith(("{", "-----")):
        return trust.claims_key(trust.parse_jws(text).claims.get("publicKey"))
    try:
        return load_public_key(text)
    except ValueError as exc:
        raise trust.TrustInvalid(f"the root key given is not usable: {exc}") from None


async def _values(http: httpx.AsyncClient, url: str, handle: str, params: dict[str, str] | None = None) -> Any:
    response = await http.get(f"{url.rstrip('/')}/api/handles/{handle}", params=params)
    if response.status_code == 404:
        return None
    body = response.json()
    if response.status_code != 200 or body.get("responseCode") != 1:
        raise trust.TrustInvalid(f"{url} answered {response.status_code} for {handle}: {body.get('message')}")
    return body.get("values") or []


async def verify_chain(
    handle: str, url: str, *, toplevel: str | None, root: PublicKey | None
) -> tuple[str, list[trust.Verified]]:
    """Every HS_SIGNATURE of the record (the node's, asked with ``?signed=handle``, when the record holds none)
    verified. Returns where the signatures came from and what each verified. TrustInvalid says why not."""
    async with httpx.AsyncClient(timeout=10) as http:
        values = await _values(http, url, handle)
        if values is None:
            raise trust.TrustInvalid(f"{handle} is not found at {url}")
        source = "the record's own HS_SIGNATURE"
        if not any(v.get("type") == trust.SIGNATURE_TYPE for v in values):
            values, source = await _values(http, url, handle, {"signed": "handle"}), "the node's, signed on request"
        fetched: dict[str, list[Value]] = {}

        async def lookup(name: str) -> list[Value] | None:
            if trust.same_handle(name, trust.ROOT_HANDLE):
                if toplevel:
                    return await _values(http, toplevel, trust.ROOT_HANDLE)
                # without the top level, the root certificate the node keeps; its key is checked against --root
                return [v for found in fetched.values() for v in found if v.get("type") == trust.CERT_TYPE]
            if name not in fetched:
                fetched[name] = await _values(http, url, name) or []
            return fetched[name]

        if root is not None:
            roots = [root]
        elif toplevel:
            published = await _values(http, toplevel, trust.ROOT_HANDLE) or []
            keys = [v["data"]["value"] for v in published if v.get("type") == "HS_PUBKEY"]
            if not keys:
                raise trust.TrustInvalid(f"{toplevel} publishes no HS_PUBKEY at {trust.ROOT_HANDLE}")
            roots = [load_public_key(k) for k in keys]
        else:
            raise trust.TrustInvalid("give the root of trust: --root (a key or the root's HS_CERT) or --toplevel")
        signatures = [v for v in values if v.get("type") == trust.SIGNATURE_TYPE]
        results = []
        for signature in signatures:
            data = signature.get("data")
            text = data.get("value") if isinstance(data, dict) else data
            results.append(await trust.verify_record(handle, values, str(text), lookup, roots))
        return source, results


def run(handle: str, url: str, toplevel: str | None, root: str | None) -> tuple[str, list[trust.Verified]]:
    root_key = root_key_from(Path(root).read_text() if Path(root).is_file() else root) if root is not None else None
    return asyncio.run(verify_chain(handle, url, toplevel=toplevel, root=root_key))
