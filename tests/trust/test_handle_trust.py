"""Handle's trust (foundation.crypto.handle_trust): chains issued here verified by Handle.Net's own ChainBuilder,
ChainVerifier and HandleVerifier, Handle.Net's HandleSigner's signatures verified here, and each way a chain breaks
refused with its reason, by both; SM2 chains checked by sm-crypto (npm), an SM2 implementation other than the
node's."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

import pytest

from foundation.crypto import handle_trust as trust
from foundation.crypto.trust_keys import TrustKey, new_trust_key
from tests.trust.handle_net import Oracle, available
from tests.trust.sm_crypto import SmCrypto
from tests.trust.sm_crypto import available as sm_crypto_available

HANDLE = "88.118.7/COIL-1"
ENTERPRISE, NODE = "300:0.NA/88.118.7", "301:0.NA/88.118"
CHAIN = ["0.NA/88.118.7", "0.NA/88.118", trust.ROOT_HANDLE]


@pytest.fixture(scope="module")
def oracle(tmp_path_factory) -> Oracle:
    reason = available()
    if reason:
        pytest.skip(reason)
    return Oracle(tmp_path_factory.mktemp("handle-net"))


def values() -> list[dict]:
    return [
        trust.string_value(1, "URL", "https://steel.example/coil/1"),
        trust.string_value(2, "EMAIL", "qa@steel.example"),
        {
            "index": 100,
            "type": "HS_ADMIN",
            "data": {
                "format": "admin",
                "value": {"handle": "0.NA/88.118.7", "index": 300, "permissions": "111111111111"},
            },
            "ttl": 86400,
        },
        {
            "index": 5,
            "type": "NOTE",
            "data": {"format": "string", "value": "internal"},
            "ttl": 60,
            "permissions": "1100",
        },
    ]


class World:
    """A root, a node certified by it and an enterprise certified by the node, and the records holding them."""

    def __init__(self, alg: str, *, enterprise_perms: list | None = None, enterprise_expiry: float | None = None):
        self.root, self.node, self.enterprise = new_trust_key(alg), new_trust_key(alg), new_trust_key(alg)
        root_id = f"300:{trust.ROOT_HANDLE}"
        self.root_cert = trust.certificate(
            root_id,
            trust.certificate_jwk(self.root),
            [{"handle": trust.ROOT_HANDLE, "perm": trust.EVERYTHING}],
            root_id,
            self.root,
            lifetime=3600,
        )
        self.node_cert = trust.certificate(
            NODE,
            trust.certificate_jwk(self.node),
            trust.prefix_permissions("88.118", derived=True),
            root_id,
            self.root,
            lifetime=3600,
            chain=[trust.ROOT_HANDLE],
        )
        issued = enterprise_expiry - 3600 if enterprise_expiry is not None else None
        self.enterprise_cert = trust.certificate(
            ENTERPRISE,
            trust.certificate_jwk(self.enterprise),
            enterprise_perms or trust.prefix_permissions("88.118.7", derived=False),
            NODE,
            self.node,
            lifetime=3600,
            chain=CHAIN[1:],
            now=issued,
        )
        self.records = {
            trust.ROOT_HANDLE: [trust.string_value(400, "HS_CERT", self.root_cert)],
            "0.NA/88.118": [trust.string_value(400, "HS_CERT", self.node_cert)],
            "0.NA/88.118.7": [trust.string_value(400, "HS_CERT", self.enterprise_cert)],
        }

    def signed(self, record: list[dict], key: TrustKey | None = None, handle: str = HANDLE) -> list[dict]:
        jws = trust.record_signature(handle, record, ENTERPRISE, key or self.enterprise, lifetime=3600, chain=CHAIN)
        return [*record, trust.string_value(400, "HS_SIGNATURE", jws)]

    async def lookup(self, handle: str) -> list[dict] | None:
        return self.records.get(handle)

    async def verify(self, record: list[dict], handle: str = HANDLE) -> trust.Verified:
        root_key = trust.claims_key(trust.certificate_jwk(self.root))
        return await trust.verify_record(handle, record, record[-1]["data"]["value"], self.lookup, [root_key])

    def java(self, oracle: Oracle, record: list[dict], handle: str = HANDLE) -> dict:
        return oracle.verify(handle, record, self.records, [self.root.key.public_key()])


@pytest.mark.parametrize("alg", ["RS256", "ES256", "SM2256"])
async def test_a_whole_chain_verifies(alg):
    world = World(alg)
    verified = await world.verify(world.signed(values()))
    assert verified.signer == ENTERPRISE
    assert verified.chain == [ENTERPRISE, NODE, f"300:{trust.ROOT_HANDLE}"]
    assert verified.indexes == [1, 2, 5, 100]


async def test_handle_net_verifies_the_chain_issued_here(oracle):
    world = World("RS256")
    record = world.signed(values())
    report = world.java(oracle, record)
    assert report["error"] is None, report
    assert sorted(report["signedValues"]) == [1, 2, 5, 100] and report["unsignedValues"] == []
    links = report["chains"][0]["links"]
    assert [link["iss"] for link in links] == [ENTERPRISE, NODE, "300:0.0/0.0", "300:0.0/0.0"]
    assert all(link["signatureVerifies"] and link["authorized"] and link["dateInRange"] for link in links)


async def test_a_signature_by_handle_nets_signer_verifies_here(oracle):
    world = World("RS256")
    record = values()
    jws = oracle.sign(HANDLE, record, ENTERPRISE, world.enterprise, CHAIN, 3600)
    signed = [*record, trust.string_value(400, "HS_SIGNATURE", jws)]
    assert trust.parse_jws(jws).alg == "RS256"
    assert (await world.verify(signed)).indexes == [1, 2, 5, 100]


def _tampered(record: list[dict]) -> list[dict]:
    changed = copy.deepcopy(record)
    changed[0]["data"]["value"] = "https://evil.example/coil/1"
    return changed


def _permissions_changed(record: list[dict]) -> list[dict]:
    changed = copy.deepcopy(record)
    changed[1]["permissions"] = "1111"  # anyone may now write it: a different value
    return changed


@pytest.mark.parametrize(
    ("change", "reason", "java_error"),
    [
        (_tampered, "index 1 is not the one signed", "bad digests"),
        (_permissions_changed, "index 2 is not the one signed", "bad digests"),
        (lambda r: [r[0], r[-1]], "index 2 is missing", "missing values"),
        (
            lambda r: [*r[:-1], trust.string_value(9, "URL", "https://added.example"), r[-1]],
            "not signed: indexes [9]",
            "unsigned values",
        ),
    ],
)
async def test_values_that_are_not_the_signed_ones_fail(oracle, change: Callable, reason: str, java_error: str):
    world = World("RS256")
    record = change(world.signed(values()))
    with pytest.raises(trust.TrustInvalid, match=reason.replace("[", r"\[").replace("]", r"\]")):
        await world.verify(record)
    assert world.java(oracle, record)["error"] == java_error


async def test_an_expired_certificate_fails(oracle):
    world = World("RS256", enterprise_expiry=time.time() - 10)
    record = world.signed(values())
    with pytest.raises(trust.TrustInvalid, match=f"the certificate of {ENTERPRISE} expired"):
        await world.verify(record)
    assert world.java(oracle, record)["error"] == "chain not trusted"


async def test_a_certificate_for_another_prefix_fails(oracle):
    world = World("RS256", enterprise_perms=trust.prefix_permissions("88.118.8", derived=False))
    record = world.signed(values())
    with pytest.raises(trust.TrustInvalid, match=f"{ENTERPRISE}'s permissions do not reach {HANDLE}"):
        await world.verify(record)
    report = world.java(oracle, record)
    assert report["chains"][0]["canTrustAndAuthorized"] is False and report["signedValues"] == []
    assert report["chains"][0]["links"][0]["authorized"] is False


async def test_a_broken_chain_fails(oracle):
    world = World("RS256")
    record = world.signed(values())
    del world.records["0.NA/88.118"]  # the node's certificate is not there
    with pytest.raises(trust.TrustInvalid, match=f"no certificate of {NODE} at 0.NA/88.118: the chain is broken"):
        await world.verify(record)
    assert world.java(oracle, record)["error"] == "unable to build chain"


async def test_a_chain_to_another_root_fails(oracle):
    world, other = World("RS256"), World("RS256")
    world.records[trust.ROOT_HANDLE] = other.records[trust.ROOT_HANDLE]  # a root certificate by another key
    record = world.signed(values())
    with pytest.raises(trust.TrustInvalid, match="does not verify with the key of its issuer"):
        await world.verify(record)
    assert world.java(oracle, record)["error"] == "chain not trusted"


async def test_a_signature_by_a_key_the_certificate_does_not_bind_fails(oracle):
    world = World("RS256")
    record = world.signed(values(), key=new_trust_key("RS256"))
    with pytest.raises(trust.TrustInvalid, match="the signature does not verify"):
        await world.verify(record)
    assert world.java(oracle, record)["error"] == "signature does not verify"


async def test_a_signature_about_another_handle_fails(oracle):
    world = World("RS256")
    record = world.signed(values(), handle="88.118.7/COIL-2")
    with pytest.raises(trust.TrustInvalid, match="about 88.118.7/COIL-2, not 88.118.7/COIL-1"):
        await world.verify(record)
    assert world.java(oracle, record)["error"] == "incorrect handle"


def test_sm2_signatures_are_der_as_idis_writes_them_and_verify_raw_too():
    key = new_trust_key("SM2256")
    jws = trust.parse_jws(trust.sign_claims({"sub": "x"}, key))
    assert jws.alg == "SM2256" and jws.signature[0] == 0x30  # a DER SEQUENCE of r and s
    public = trust.claims_key(trust.certificate_jwk(key))
    assert jws.verifies(public)
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    r, s = decode_dss_signature(jws.signature)
    raw = trust.Jws(jws.alg, jws.claims, jws.signing_input, r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    assert raw.verifies(public)
    jwk = trust.certificate_jwk(key)
    assert jwk["kty"] == "SM2" and trust.key_fingerprint(trust.claims_key({"kty": "SM2", "d": jwk["d"]})) == (
        trust.key_fingerprint(public)
    )


@pytest.fixture(scope="module")
def sm_crypto(tmp_path_factory) -> SmCrypto:
    reason = sm_crypto_available()
    if reason:
        pytest.skip(reason)
    return SmCrypto(tmp_path_factory.mktemp("sm-crypto"))


async def test_an_sm2_chain_verifies_with_another_sm2_implementation(sm_crypto):
    world = World("SM2256")
    record = world.signed(values())
    issued = [
        (world.root_cert, world.root),
        (world.node_cert, world.root),
        (world.enterprise_cert, world.node),
        (record[-1]["data"]["value"], world.enterprise),
    ]
    for text, issuer in issued:
        jws = trust.parse_jws(text)
        assert sm_crypto.verify(jws.signing_input, jws.signature, issuer.public_jwk())
        assert not sm_crypto.verify(jws.signing_input + b"x", jws.signature, issuer.public_jwk())


async def test_an_sm2_signature_made_by_another_sm2_implementation_verifies_here(sm_crypto):
    world = World("SM2256")
    unsigned = trust.parse_jws(world.signed(values())[-1]["data"]["value"])
    signature = sm_crypto.sign(unsigned.signing_input, world.enterprise.key)
    jws = f"{unsigned.signing_input.decode('ascii')}.{trust.b64url(signature)}"
    record = [*values(), trust.string_value(400, "HS_SIGNATURE", jws)]
    assert (await world.verify(record)).signer == ENTERPRISE
