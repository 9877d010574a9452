"""``secnode verify HANDLE``: fetch a signed answer from a node and check it against that node's public key."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from foundation.cli import console
from foundation.crypto.keys import key_id
from foundation.crypto.record_signatures import SIGNATURE_TYPE, SignatureInvalid, verify_answer


def _issuer(answer: dict) -> str:
    """The signing node named in the answer's JWS (unverified: only used to look its key up)."""
    for value in answer.get("values") or []:
        if value.get("type") == SIGNATURE_TYPE:
            payload = value["data"]["value"].split(".")[1]
            return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["iss"]
    raise SignatureInvalid("the answer carries no HS_SIGNATURE value")


def _key(raw: str) -> Ed25519PublicKey:
    text = Path(raw).read_text().strip() if Path(raw).is_file() else raw.strip()
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text))


def _verify_chain(handle: str, url: str, toplevel: str | None, root: str | None) -> None:
    from foundation.crypto.handle_trust import TrustInvalid
    from node.trust_verify import run

    try:
        source, results = run(handle, url, toplevel, root)
    except (TrustInvalid, httpx.HTTPError, OSError, ValueError) as exc:
        console.print(f"[red]{handle}: NOT VERIFIED: {exc}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None
    for verified in results:
        console.print(
            f"[green]{handle}: verified[/green] — {source}, signed by {verified.signer}; chain "
            f"{' <- '.join(verified.chain)}; values {', '.join(map(str, verified.indexes))}",
            soft_wrap=True,
        )


def verify(
    handle: str = typer.Argument(..., help="the identifier, e.g. 88.118.1042/COIL-2026-000001"),
    url: str = typer.Option(..., "--url", help="the node to fetch the answer from"),
    public_key: str | None = typer.Option(
        None, "--public-key", help="the signing node's Ed25519 public key (base64), or a file"
    ),
    toplevel: str | None = typer.Option(
        None, "--toplevel", help="take the signing node's key (with --chain: the root of trust) from the top level"
    ),
    chain: bool = typer.Option(
        False, "--chain", help="Handle's trust: HS_SIGNATURE, then each HS_CERT up to the top level's root (0.0/0.0)"
    ),
    root: str | None = typer.Option(
        None, "--root", help="with --chain: the root's public key (PEM or JWK) or its HS_CERT, or a file holding one"
    ),
) -> None:
    """Check a record's HS_SIGNATURE: exit 0 when every value verifies, 1 when one does not."""
    if chain:
        _verify_chain(handle, url, toplevel, root)
        return
    with httpx.Client(timeout=10) as http:
        response = http.get(f"{url.rstrip('/')}/api/handles/{handle}", params={"signed": "true"})
        answer = response.json()
        if response.status_code != 200 or answer.get("responseCode") != 1:
            console.print(f"[red]{handle}: the node answered {response.status_code} {answer.get('message')}[/red]")
            raise typer.Exit(1)
        try:
            issuer = _issuer(answer)
            if public_key:
                key, source = _key(public_key), "the key given"
            elif toplevel:
                registered = http.get(f"{toplevel.rstrip('/')}/v1/nodes/{issuer}")
                registered.raise_for_status()
                key, source = _key(registered.json()["publicKey"]), f"the key {toplevel} holds for node {issuer}"
            else:
                own = http.get(f"{url.rstrip('/')}/.well-known/secnode/signing-key").json()
                key, source = (
                    _key(own["publicKey"]),
                    "the node's own word (pass --toplevel or --public-key to check against a key you trust)",
                )
            verified = verify_answer(answer, key, expected_handle=handle, require_complete=True)
        except SignatureInvalid as exc:
            console.print(f"[red]{handle}: NOT VERIFIED: {exc}[/red]")
            raise typer.Exit(1) from None
    console.print(
        f"[green]{handle}: verified[/green] — signed by node {verified.issuer} (key {key_id(key)}, "
        f"from {source}); values {', '.join(map(str, verified.indexes))}"
    )
