"""Handle's own trust: ``HS_CERT`` and ``HS_SIGNATURE`` values, JWS compact serialisations whose payload is Handle.Net's
``HandleClaimsSet`` (``net.handle.hdllib.trust``), issued and verified as Handle.Net 9 and IDIS's SDK do.

- A claims set has ``iss`` and ``sub`` (value references ``index:handle``, or handles), ``iat``, ``nbf``, ``exp``
  (seconds), and either ``publicKey`` and ``perms`` (a certificate: the issuer vouches that the subject's key may act
  with these permissions) or ``digests`` (a signature over a record's values). ``chain`` names where the issuer's own
  certificate is found, the issuer's first.
- A value's digest is over Handle's binary encoding of the value without its index and timestamp (Handle.Net's
  ``HandleValueDigester``: ``Encoder.encodeHandleValue`` from offset 8), base64 with padding.
- The chain goes from a signature to the certificate of its issuer (the newest ``HS_CERT`` about the issuer in the
  handle the chain names, else in the issuer's handle), and on up to a certificate its subject issued itself, which
  must be about ``0.0/0.0`` with a key the verifier trusts as a root (``ChainBuilder``, ``ChainVerifier``).
- Every issuer's permissions must reach the signed handle (``HandleVerifier.verifyPermissionsAreAuthorizedOverHandle``).

Algorithms: ``RS256`` and ``DS256`` (Handle.Net), ``ES256`` (RFC 7518), ``SM2256`` (SM2 with SM3, IDIS's SDK).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import dsa

from foundation.crypto.pubkeys import PublicKey, b64decode_any, b64url, load_public_key
from foundation.crypto.trust_keys import TrustKey
from foundation.handle_values import value_octets

CERT_TYPE, SIGNATURE_TYPE = "HS_CERT", "HS_SIGNATURE"
CERT_INDEX = 400  # where IDIS and Handle.Net keep a prefix's certificate
ROOT_HANDLE = "0.0/0.0"
EVERYTHING, THIS_HANDLE, DERIVED_PREFIXES, HANDLES_UNDER_THIS_PREFIX = (
    "everything",
    "thisHandle",
    "derivedPrefixes",
    "handlesUnderThisPrefix",
)
MAX_CHAIN = 50  # Handle.Net's ChainBuilder.MAX_CHAIN_LENGTH
_VALUE_DIGEST_OFFSET = 8  # index and timestamp are not digested
_DIGESTS = {"SHA-256": "sha256", "SHA256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512", "SHA-1": "sha1"}

Value = dict[str, Any]
Lookup = Callable[[str], Awaitable[list[Value] | None]]  # a handle's values (as rendered), None when it has none


class TrustInvalid(Exception):
    """A signature or its chain does not hold; the message says which link and why."""


# ---- JWS -----------------------------------------------------------------------------------------------------------


def _json(claims: dict[str, Any]) -> bytes:
    return json.dumps({k: v for k, v in claims.items() if v is not None}, separators=(",", ":")).encode("utf-8")


def sign_claims(claims: dict[str, Any], key: TrustKey) -> str:
    """The compact JWS of ``claims`` by ``key`` (header ``{"alg": ...}`` as Handle.Net writes it)."""
    signing_input = f"{b64url(_json({'alg': key.alg}))}.{b64url(_json(claims))}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode('ascii')))}"


@dataclass(frozen=True)
class Jws:
    alg: str
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes

    def verifies(self, key: PublicKey) -> bool:
        expected = {"RS": "RSA", "ES": "ECDSA-P256", "DS": "DSA", "SM": "SM2"}.get(self.alg[:2])
        if expected != key.kind:
            return False
        if self.alg == "SM2256":
            return key.verify(self.signature, self.signing_input, "SM3")
        bits = self.alg[2:]
        if bits not in ("256", "384", "512"):
            return False
        return key.verify(self.signature, self.signing_input, f"SHA{bits}")

    @property
    def issuer(self) -> str:
        return str(self.claims.get("iss") or "")

    @property
    def subject(self) -> str:
        return str(self.claims.get("sub") or "")


def parse_jws(text: str) -> Jws:
    """A JWS in compact or JSON serialisation (Handle.Net reads both). TrustInvalid when it is neither."""
    try:
        text = text.strip()
        if text.startswith("{"):
            document = json.loads(text)
            header_b64, payload_b64 = document["signatures"][0]["protected"], document["payload"]
            signature_b64 = document["signatures"][0]["signature"]
        else:
            header_b64, payload_b64, signature_b64 = text.split(".")
        header = json.loads(b64decode_any(header_b64))
        claims = json.loads(b64decode_any(payload_b64))
        if not isinstance(claims, dict) or not isinstance(header.get("alg"), str):
            raise ValueError("not a claims set")
        return Jws(header["alg"], claims, f"{header_b64}.{payload_b64}".encode("ascii"), b64decode_any(signature_b64))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, UnicodeError, RecursionError):
        raise TrustInvalid("not a JWS (compact or JSON serialisation) with a JSON claims set") from None


# ---- keys in claims ------------------------------------------------------------------------------------------------


def claims_key(jwk: Any) -> PublicKey:
    """The ``publicKey`` of a certificate: a JWK as Handle.Net writes it (RSA, DSA), EC P-256, or SM2 as IDIS's SDKs
    write it (``{"kty": "SM2", "x", "y"}``, or the key's SubjectPublicKeyInfo in ``d``)."""
    if not isinstance(jwk, dict):
        raise TrustInvalid("the certificate carries no public key")
    try:
        if jwk.get("kty") == "DSA":
            y, p, q, g = (int.from_bytes(b64decode_any(jwk[k]), "big") for k in ("y", "p", "q", "g"))
            return PublicKey("DSA", dsa.DSAPublicNumbers(y, dsa.DSAParameterNumbers(p, q, g)).public_key())
        if jwk.get("kty") == "SM2":
            if "x" in jwk and "y" in jwk:
                return load_public_key({"kty": "EC", "crv": "SM2", "x": jwk["x"], "y": jwk["y"]})
            point = b64decode_any(jwk["d"])[-64:]  # SubjectPublicKeyInfo ends with the uncompressed point's x‖y
            return load_public_key({"kty": "EC", "crv": "SM2", "x": b64url(point[:32]), "y": b64url(point[32:])})
        return load_public_key(jwk)
    except (ValueError, KeyError, TypeError) as exc:
        raise TrustInvalid(f"the certificate's public key is not usable: {exc}") from None


def certificate_jwk(key: TrustKey) -> dict[str, str]:
    """The ``publicKey`` a certificate carries for ``key``. SM2: ``kty`` SM2 with ``x`` and ``y``, and the
    SubjectPublicKeyInfo in ``d`` as the teleinfo idpointer SDK reads it."""
    jwk = key.public_jwk()
    return public_key_jwk(load_public_key(jwk)) if key.alg == "SM2256" else jwk


def public_key_jwk(key: PublicKey) -> dict[str, Any]:
    """The JWK a certificate carries for a public key: RSA and DSA as Handle.Net writes them, EC P-256, and SM2 as
    ``certificate_jwk`` writes it."""
    if key.kind == "SM2":
        from foundation.handle_values import SM2_SPKI_PREFIX

        point = bytes.fromhex(key.key)
        return {"kty": "SM2", "x": b64url(point[:32]), "y": b64url(point[32:]), "d": b64url(SM2_SPKI_PREFIX + point)}
    numbers = key.key.public_numbers()
    if key.kind == "RSA":
        return {"kty": "RSA", "n": b64url(_octets(numbers.n)), "e": b64url(_octets(numbers.e))}
    if key.kind == "ECDSA-P256":
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big")),
        }
    if key.kind == "DSA":
        parameters = numbers.parameter_numbers
        return {
            "kty": "DSA",
            **{
                name: b64url(_octets(n))
                for name, n in (("y", numbers.y), ("p", parameters.p), ("q", parameters.q), ("g", parameters.g))
            },
        }
    raise TrustInvalid(f"{key.kind} keys have no place in Handle certificates")


def _octets(number: int) -> bytes:
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def key_fingerprint(key: PublicKey) -> tuple[Any, ...]:
    """What makes two public keys the same key (the root check compares keys, as ChainVerifier does)."""
    if key.kind == "SM2":
        return ("SM2", key.key)
    numbers = key.key.public_numbers()
    if key.kind == "RSA":
        return ("RSA", numbers.n, numbers.e)
    if key.kind == "DSA":
        return ("DSA", numbers.y, numbers.parameter_numbers.p)
    if key.kind == "ECDSA-P256":
        return ("EC", numbers.x, numbers.y)
    return (key.kind, repr(numbers))


# ---- handles and permissions (Handle.Net's Util) -------------------------------------------------------------------


def _upper_prefix(handle: str) -> str:
    prefix, slash, suffix = handle.partition("/")
    return prefix.upper() + slash + suffix


def same_handle(a: str, b: str) -> bool:
    """Handle.Net's ``equalsPrefixCI``: the prefix part compares case-insensitively, the suffix exactly."""
    return _upper_prefix(a) == _upper_prefix(b)


def handle_of(reference: str) -> str:
    """The handle of a value reference ``index:handle`` (or of a handle)."""
    head, colon, tail = reference.partition(":")
    return tail if colon and head.isdigit() else reference


def index_of(reference: str) -> int:
    head, colon, _ = reference.partition(":")
    return int(head) if colon and head.isdigit() else 0


def _zero_na(handle: str) -> str:
    return "0.NA/" + _upper_prefix(handle).partition("/")[0]


def _under_prefix(handle: str, prefix_handle: str) -> bool:
    prefix = prefix_handle.upper()
    return prefix.startswith("0.NA/") and _upper_prefix(handle).startswith(prefix[len("0.NA/") :] + "/")


def _derived(handle: str, ancestor: str) -> bool:
    handle, ancestor = handle.upper(), ancestor.upper()
    return handle.startswith("0.NA/") and handle.startswith(ancestor + ".")


def authorized(handle: str, perms: Any) -> bool:
    """Whether permissions ``[{handle, perm}]`` reach ``handle`` (HandleVerifier's rules, case for case)."""
    if not isinstance(perms, list):
        return False
    for permission in perms:
        if not isinstance(permission, dict):
            continue
        perm, over = permission.get("perm"), str(permission.get("handle") or "")
        if perm == EVERYTHING:
            return True
        if perm == THIS_HANDLE and (same_handle(handle, over) or _under_prefix(handle, over)):
            return True
        if perm == DERIVED_PREFIXES and (_derived(handle, over) or _derived(_zero_na(handle), over)):
            return True
        if perm == HANDLES_UNDER_THIS_PREFIX and _under_prefix(handle, over):
            return True
    return False


def prefix_permissions(prefix: str, *, derived: bool) -> list[dict[str, str]]:
    """What the node grants a prefix's administrator: its NA handle, the handles under it, and (for the node itself)
    the prefixes derived from it."""
    na = f"0.NA/{prefix}"
    perms = [{"handle": na, "perm": THIS_HANDLE}, {"handle": na, "perm": HANDLES_UNDER_THIS_PREFIX}]
    if derived:
        perms.append({"handle": na, "perm": DERIVED_PREFIXES})
    return perms


# ---- digests -------------------------------------------------------------------------------------------------------


def value_digest(value: Value, alg: str = "SHA-256") -> str:
    if alg not in _DIGESTS:
        raise TrustInvalid(f"unsupported digest algorithm {alg}")
    octets = value_octets(value)[_VALUE_DIGEST_OFFSET:]
    return base64.b64encode(hashlib.new(_DIGESTS[alg], octets).digest()).decode("ascii")


def digests(values: Iterable[Value], alg: str = "SHA-256") -> dict[str, Any]:
    return {"alg": alg, "digests": [{"index": v["index"], "digest": value_digest(v, alg)} for v in values]}


def needs_signature(value: Value) -> bool:
    """Handle.Net's rule: every value anyone may read, but the signatures themselves."""
    return value["type"] != SIGNATURE_TYPE and str(value.get("permissions", "1110"))[2:3] == "1"


# ---- issuing -------------------------------------------------------------------------------------------------------


def _window(lifetime: int, now: float | None) -> tuple[int, int, int]:
    issued = int(now if now is not None else time.time())
    return issued, issued - 60, issued + lifetime  # a minute's grace for clocks a little behind


def certificate(
    subject: str,
    subject_key: dict[str, Any],
    perms: list[dict[str, str]],
    issuer: str,
    key: TrustKey,
    *,
    lifetime: int,
    chain: list[str] | None = None,
    now: float | None = None,
) -> str:
    """An ``HS_CERT``: ``issuer`` (holding ``key``) vouches that ``subject``'s key may act with ``perms``."""
    iat, nbf, exp = _window(lifetime, now)
    claims = {
        "iss": issuer,
        "sub": subject,
        "exp": exp,
        "nbf": nbf,
        "iat": iat,
        "perms": perms,
        "chain": chain or None,
        "publicKey": subject_key,
    }
    return sign_claims(claims, key)


def record_signature(
    handle: str,
    values: Iterable[Value],
    issuer: str,
    key: TrustKey,
    *,
    lifetime: int,
    chain: list[str] | None = None,
    now: float | None = None,
) -> str:
    """An ``HS_SIGNATURE``: ``issuer`` signs the digests of ``values`` of ``handle``."""
    iat, nbf, exp = _window(lifetime, now)
    claims = {
        "iss": issuer,
        "sub": handle,
        "exp": exp,
        "nbf": nbf,
        "iat": iat,
        "digests": digests(v for v in values if v["type"] != SIGNATURE_TYPE),
        "chain": chain or None,
    }
    return sign_claims(claims, key)


def string_value(index: int, value_type: str, text: str) -> Value:
    return {"index": index, "type": value_type, "data": {"format": "string", "value": text}, "ttl": 86400}


# ---- verifying -----------------------------------------------------------------------------------------------------


def _data_text(value: Value) -> str | None:
    data = value.get("data")
    if isinstance(data, dict) and data.get("format", "string") == "string" and isinstance(data.get("value"), str):
        return data["value"]
    return data if isinstance(data, str) else None


@dataclass(frozen=True)
class Link:
    """One signature of a chain, with the key and permissions of the one who issued it."""

    jws: Jws
    issuer_key: PublicKey
    issuer_perms: Any
    found_in: str  # the handle its issuer's certificate came from ("" for the self-issued root)


def _newest_certificate_about(subject: str, values: list[Value]) -> Jws | None:
    newest: Jws | None = None
    for value in values:
        text = _data_text(value) if value.get("type") == CERT_TYPE else None
        if text is None:
            continue
        try:
            cert = parse_jws(text)
        except TrustInvalid:
            continue
        if cert.subject == subject and (
            newest is None or (cert.claims.get("iat") or 0) > (newest.claims.get("iat") or 0)
        ):
            newest = cert
    return newest


async def build_chain(signature: Jws, lookup: Lookup) -> list[Link]:
    """From ``signature`` up to a self-issued certificate, as Handle.Net's ChainBuilder walks it."""
    links: list[Link] = []
    seen: set[str] = set()
    chain: list[str] = []
    child = signature
    while True:
        if child.subject and child.subject == child.issuer:  # self-issued: the top of the chain
            links.append(Link(child, claims_key(child.claims.get("publicKey")), child.claims.get("perms"), ""))
            return links
        if len(links) >= MAX_CHAIN:
            raise TrustInvalid("the chain is too long")
        if not chain:
            named = child.claims.get("chain")
            chain = [str(c) for c in named] if isinstance(named, list) and named else [handle_of(child.issuer)]
        link, chain = chain[0], chain[1:]
        if link in seen:
            raise TrustInvalid(f"the chain goes round: {link} twice")
        seen.add(link)
        values = await lookup(handle_of(link))
        parent: Jws | None = None
        if values is not None and index_of(link) > 0:
            text = next((_data_text(v) for v in values if v.get("index") == index_of(link)), None)
            parent = parse_jws(text) if text else None
        elif values is not None:
            parent = _newest_certificate_about(child.issuer, values)
        if parent is None:
            raise TrustInvalid(f"no certificate of {child.issuer} at {link}: the chain is broken")
        if not same_handle(parent.subject, child.issuer):
            raise TrustInvalid(f"the certificate at {link} is about {parent.subject}, not {child.issuer}")
        links.append(Link(child, claims_key(parent.claims.get("publicKey")), parent.claims.get("perms"), link))
        child = parent


@dataclass
class Verified:
    handle: str
    signer: str
    chain: list[str] = field(default_factory=list)  # the issuers, the signer's first, the root last
    indexes: list[int] = field(default_factory=list)  # the values the signature covers


def _in_force(jws: Jws, now: float, what: str) -> None:
    exp, nbf = jws.claims.get("exp"), jws.claims.get("nbf")
    if isinstance(exp, (int, float)) and now > exp:
        raise TrustInvalid(f"{what} expired at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(exp))}")
    if isinstance(nbf, (int, float)) and now < nbf:
        raise TrustInvalid(f"{what} is not valid before {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(nbf))}")


def verify_chain(handle: str, links: list[Link], roots: Iterable[PublicKey], now: float | None = None) -> list[str]:
    """Every link verifies with its issuer's key, is in force, and its issuer may act over ``handle``; the top is
    ``0.0/0.0``'s self-issued certificate with a trusted root key. Returns the issuers, the signer's first."""
    moment = now if now is not None else time.time()
    trusted = {key_fingerprint(k) for k in roots}
    for position, link in enumerate(links):
        what = "the signature" if position == 0 else f"the certificate of {link.jws.subject}"
        if not link.jws.verifies(link.issuer_key):
            raise TrustInvalid(f"{what} does not verify with the key of its issuer {link.jws.issuer}")
        _in_force(link.jws, moment, what)
        if not authorized(handle, link.issuer_perms):
            raise TrustInvalid(f"{link.jws.issuer}'s permissions do not reach {handle} ({what})")
    top = links[-1]
    if not same_handle(handle_of(top.jws.subject), ROOT_HANDLE):
        raise TrustInvalid(f"the chain ends at {top.jws.subject}, not at the root {ROOT_HANDLE}")
    if key_fingerprint(top.issuer_key) not in trusted:
        raise TrustInvalid(f"the root certificate's key is not a trusted root key of {ROOT_HANDLE}")
    issuers = [link.jws.issuer for link in links]
    return issuers[:-1] if len(issuers) > 1 and issuers[-1] == issuers[-2] else issuers  # the root signs itself


def verify_values(handle: str, values: list[Value], signature: Jws) -> list[int]:
    """The signature is about ``handle`` and its digests are exactly those of the values anyone may read."""
    if not same_handle(signature.subject, handle):
        raise TrustInvalid(f"the signature is about {signature.subject}, not {handle}")
    claimed = signature.claims.get("digests")
    if not isinstance(claimed, dict) or not isinstance(claimed.get("digests"), list):
        raise TrustInvalid("the signature carries no digests")
    alg = str(claimed.get("alg") or "")
    try:
        signed = {int(d["index"]): str(d["digest"]) for d in claimed["digests"]}
    except (KeyError, TypeError, ValueError):
        raise TrustInvalid("the signature's digests are malformed") from None
    present = {v["index"]: v for v in values if v["type"] != SIGNATURE_TYPE}
    for index, digest in sorted(signed.items()):
        if index not in present:
            raise TrustInvalid(f"the signed value at index {index} is missing from the record")
        if value_digest(present[index], alg) != digest:
            raise TrustInvalid(f"the value at index {index} is not the one signed (its digest differs)")
    unsigned = sorted(i for i, v in present.items() if needs_signature(v) and i not in signed)
    if unsigned:
        raise TrustInvalid(f"values anyone may read are not signed: indexes {unsigned}")
    return sorted(signed)


async def verify_record(
    handle: str,
    values: list[Value],
    signature_text: str,
    lookup: Lookup,
    roots: Iterable[PublicKey],
    now: float | None = None,
) -> Verified:
    """The whole check of one ``HS_SIGNATURE`` of a record: values, then the chain to a trusted root."""
    signature = parse_jws(signature_text)
    indexes = verify_values(handle, values, signature)
    links = await build_chain(signature, lookup)
    issuers = verify_chain(handle, links, roots, now)
    return Verified(handle, signature.issuer, issuers, indexes)
