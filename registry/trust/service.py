"""The certificate issuance rules and the checks of written signatures (ADR 0015).

- The top level certifies the node's trust key for ``0.NA/<node prefix>`` (subject ``301:0.NA/<node prefix>``,
  the key published there as HS_PUBKEY); the node keeps that certificate at index 400 of its NA handle and the
  top level's self-issued root certificate, the root of trust it was certified under, at index 401.
- The node certifies an enterprise administrator's HS_PUBKEY (``<index>:0.NA/<enterprise prefix>``) for its own prefix
  only (``thisHandle`` and ``handlesUnderThisPrefix`` of ``0.NA/<prefix>``) at index 400 of ``0.NA/<prefix>``.
- An HS_SIGNATURE value written to a record must verify, now, against that chain: its issuer's certificate, the
  node's, the top level's root; every value anyone may read signed, each digest that of the value written.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from foundation.config import Settings
from foundation.crypto import handle_trust as trust
from foundation.crypto.pubkeys import PublicKey, load_public_key
from foundation.crypto.trust_keys import TrustKey
from registry.kernel import records
from registry.kernel.actor import Actor
from registry.kernel.clock import utcnow
from registry.kernel.errors import RoleForbidden
from registry.kernel.permissions import Perm, governing_admins, is_admin
from registry.kernel.syntax import canonical, is_under, na_handle, parse
from registry.kernel.values import Value
from registry.prefixes.service import write_system_record
from registry.trust.errors import NodeNotCertified, NoKeyToCertify, NotAPrefix, SignatureRefused

NODE_KEY_INDEX = 301  # the node's trust key, as HS_PUBKEY of its NA handle
ROOT_CERT_INDEX = 401  # the top level's self-issued root certificate the node was certified under


def node_identity(settings: Settings) -> str:
    return f"{NODE_KEY_INDEX}:{na_handle(settings.node_prefix)}"


def node_chain(settings: Settings) -> list[str]:
    """Where a verifier finds the node's certificate, then the root's."""
    return [na_handle(settings.node_prefix), trust.ROOT_HANDLE]


def _string_value(index: int, value_type: str, text: str, settings: Settings, stamp: str) -> Value:
    return {
        "index": index,
        "type": value_type,
        "data": {"format": "string", "value": text},
        "ttl": settings.default_ttl,
        "timestamp": stamp,
    }


def _certificate_text(values: list[Value] | None, index: int) -> str | None:
    for value in values or []:
        data = value.get("data")
        if value["index"] == index and value["type"] == trust.CERT_TYPE and isinstance(data, dict):
            return str(data.get("value"))
    return None


def root_keys(node_values: list[Value] | None) -> list[PublicKey]:
    """The root key the node trusts: that of the root certificate it keeps (none before it registered upward)."""
    text = _certificate_text(node_values, ROOT_CERT_INDEX)
    if text is None:
        return []
    try:
        return [trust.claims_key(trust.parse_jws(text).claims.get("publicKey"))]
    except trust.TrustInvalid:
        return []


def check_node_certificate(settings: Settings, key: TrustKey, certificate: str, root_certificate: str) -> None:
    """What the top level answered is a certificate of this node's key, issued by the self-issued root it sent."""
    cert, root = trust.parse_jws(certificate), trust.parse_jws(root_certificate)
    root_key = trust.claims_key(root.claims.get("publicKey"))
    if root.subject != root.issuer or not trust.same_handle(trust.handle_of(root.subject), trust.ROOT_HANDLE):
        raise trust.TrustInvalid("the root certificate is not 0.0/0.0's self-issued certificate")
    if not root.verifies(root_key) or not cert.verifies(root_key):
        raise trust.TrustInvalid("the certificates do not verify with the root's key")
    if cert.subject != node_identity(settings) or not trust.same_handle(cert.issuer, root.subject):
        raise trust.TrustInvalid(f"the certificate is about {cert.subject}, issued by {cert.issuer}")
    if trust.key_fingerprint(trust.claims_key(cert.claims.get("publicKey"))) != trust.key_fingerprint(
        trust.claims_key(trust.certificate_jwk(key))
    ):
        raise trust.TrustInvalid("the certificate binds another key than this node's trust key")


async def store_node_certificate(
    session: AsyncSession, settings: Settings, actor: Actor, key: TrustKey, certificate: str, root_certificate: str
) -> None:
    """Keep the node's certificate (400), its trust key (301) and the root certificate (401) in its NA handle."""
    check_node_certificate(settings, key, certificate, root_certificate)
    handle = na_handle(settings.node_prefix)
    record = await records.get(session, canonical(handle))
    kept = [v for v in (record.record_values if record else []) if v["index"] not in (301, 400, 401)]
    stamp = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    public_key: Value = {
        "index": NODE_KEY_INDEX,
        "type": "HS_PUBKEY",
        "data": {"format": "key", "value": key.public_jwk()},
        "ttl": settings.default_ttl,
        "timestamp": stamp,
    }
    added = [
        public_key,
        _string_value(trust.CERT_INDEX, trust.CERT_TYPE, certificate, settings, stamp),
        _string_value(ROOT_CERT_INDEX, trust.CERT_TYPE, root_certificate, settings, stamp),
    ]
    await write_system_record(session, actor, handle, sorted(kept + added, key=lambda v: v["index"]))


def _certifiable_key(handle: str, values: list[Value], index: int | None) -> tuple[int, dict[str, Any]]:
    for value in values:
        if value["type"] != "HS_PUBKEY" or (index is not None and value["index"] != index):
            continue
        try:
            key = load_public_key(value["data"]["value"])
        except (ValueError, KeyError, TypeError):
            continue
        if key.kind in ("RSA", "ECDSA-P256", "SM2", "DSA"):
            return value["index"], trust.public_key_jwk(key)
    raise NoKeyToCertify(handle, index)


async def certify_prefix(
    session: AsyncSession, settings: Settings, actor: Actor, prefix: str, key: TrustKey, index: int | None = None
) -> tuple[int, str]:
    """Issue an enterprise prefix's administrator an HS_CERT for its HS_PUBKEY (``index``, else the first usable one),
    scoped to its prefix, and keep it at index 400 of ``0.NA/<prefix>`` (the next free index when 400 holds another
    kind of value). Asked by the prefix's administrators or the node administrator."""
    handle = na_handle(prefix)
    key_of = canonical(prefix)
    if key_of == canonical(settings.node_prefix) or not is_under(key_of, canonical(settings.node_prefix)):
        raise NotAPrefix(prefix)
    record = (await records.get_many(session, [canonical(handle)], for_update=True)).get(canonical(handle))
    if record is None or record.deleted:
        raise NotAPrefix(prefix)

    async def load(record_key: str) -> list[Value] | None:
        found = await records.get(session, record_key)
        return None if found is None or found.deleted else found.record_values

    if not actor.is_node_admin:
        admins = await governing_admins(parse(handle, mode="rfc"), record.record_values, load)
        if not await is_admin(actor, admins, [Perm.ADD_VALUE], load):
            raise RoleForbidden(f"{actor.name} does not administer {handle}")
    if _certificate_text(await load(canonical(na_handle(settings.node_prefix))), trust.CERT_INDEX) is None:
        raise NodeNotCertified(settings.node_prefix)
    key_index, jwk = _certifiable_key(handle, record.record_values, index)
    certificate = trust.certificate(
        f"{key_index}:{handle}",
        jwk,
        trust.prefix_permissions(prefix, derived=False),
        node_identity(settings),
        key,
        lifetime=settings.certificate_lifetime_seconds,
        chain=node_chain(settings),
    )
    taken = {v["index"]: v["type"] for v in record.record_values}
    at = next(
        i for i in range(trust.CERT_INDEX, trust.CERT_INDEX + len(taken) + 1) if taken.get(i, "HS_CERT") == "HS_CERT"
    )
    stamp = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    values = [v for v in record.record_values if v["index"] != at]
    values.append(_string_value(at, trust.CERT_TYPE, certificate, settings, stamp))
    await write_system_record(session, actor, handle, sorted(values, key=lambda v: v["index"]))
    return at, certificate


async def node_certified(session: AsyncSession, settings: Settings) -> bool:
    record = await records.get(session, canonical(na_handle(settings.node_prefix)))
    return record is not None and _certificate_text(record.record_values, trust.CERT_INDEX) is not None


def sign_record(settings: Settings, key: TrustKey, handle: str, values: list[Value]) -> Value:
    """The node's HS_SIGNATURE over ``values`` of ``handle`` (index 400, else the next free one), issued by its
    certified trust key, for an answer: signed per request, never stored (as the node's own signatures, ADR 0008)."""
    jws = trust.record_signature(
        handle,
        values,
        node_identity(settings),
        key,
        lifetime=settings.signature_lifetime_seconds,
        chain=node_chain(settings),
    )
    used = {v["index"] for v in values}
    index = next(i for i in range(trust.CERT_INDEX, trust.CERT_INDEX + len(used) + 1) if i not in used)
    stamp = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    return {**trust.string_value(index, trust.SIGNATURE_TYPE, jws), "ttl": 0, "timestamp": stamp}


def _signature_text(value: Value) -> str:
    data = value.get("data")
    if isinstance(data, dict):
        return str(data.get("value", ""))
    return str(data)


async def check_written_signatures(
    handle: str, before: list[Value] | None, after: list[Value], load_values: trust.Lookup, settings: Settings
) -> None:
    """Every HS_SIGNATURE value this write adds or changes verifies against the chain to the node's root of trust;
    the first that does not refuses the write (``trust.signature_invalid``)."""
    previous = {v["index"]: _signature_text(v) for v in before or [] if v["type"] == trust.SIGNATURE_TYPE}
    written = [v for v in after if v["type"] == trust.SIGNATURE_TYPE and previous.get(v["index"]) != _signature_text(v)]
    if not written:
        return
    node_values = await load_values(canonical(na_handle(settings.node_prefix)))
    roots = root_keys(node_values)

    async def lookup(name: str) -> list[Value] | None:
        if trust.same_handle(name, trust.ROOT_HANDLE):
            return [v for v in node_values or [] if v["index"] == ROOT_CERT_INDEX]
        return await load_values(canonical(name))

    for value in written:
        if not roots:
            raise SignatureRefused(handle, value["index"], "this node holds no root of trust yet (it registers upward)")
        try:
            await trust.verify_record(handle, after, _signature_text(value), lookup, roots)
        except trust.TrustInvalid as exc:
            raise SignatureRefused(handle, value["index"], str(exc)) from None
