"""Unit tests of the RFC 3652 test client's codec and exchanges, against in-test fakes (no server needed).

Expected bytes are written out field by field from the RFC 3652 figures (2.2.1 envelope, 2.2.2 header,
2.3.x bodies) and Handle.Net's Encoder, not produced by the code under test.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa

from tests.native_protocol import rfc_client as hc

EXPIRATION = bytes.fromhex("5f5e1000")  # 1600000000, a fixed ExpirationTime


def h(text: str) -> bytes:
    """Hex with spaces and comments (after #) allowed, one field a line."""
    return bytes.fromhex("".join(line.split("#")[0] for line in text.splitlines()).replace(" ", ""))


# ------------------------------------------------------------------------------------------------------
# Byte layouts worked out by hand
# ------------------------------------------------------------------------------------------------------


def test_resolution_request_for_88_118_test_with_type_url():
    msg = hc.message(
        hc.OC_RESOLUTION,
        hc.resolution_body("88.118/TEST", types=["URL"]),
        flags={"REC": True, "CA": True, "PO": True},
        expiration=0x5F5E1000,
    )
    packet = hc.frame(msg, request_id=0x01020304)
    assert packet == h(
        """
        02 0b                      # envelope: MajorVersion 2, MinorVersion 11
        02 0b                      # MessageFlag: no CP/EC/TC; Handle.Net suggested version 2.11
        00000000                   # SessionId
        01020304                   # RequestId
        00000000                   # SequenceNumber
        0000003a                   # MessageLength = 24 header + 30 body + 4 credential length
        00000001                   # header: OpCode OC_RESOLUTION
        00000000                   # ResponseCode 0 (a request)
        19000000                   # OpFlag: REC | CA | PO
        ffff                       # SiteInfoSerialNumber: none known (Handle.Net sends -1)
        00                         # RecursionCount
        00                         # reserved
        5f5e1000                   # ExpirationTime
        0000001e                   # BodyLength 30
        0000000b 38382e3131382f54455354   # body: Handle "88.118/TEST"
        00000000                   # IndexList: empty
        00000001 00000003 55524c   # TypeList: one type, "URL"
        00000000                   # CredentialLength 0
        """
    )


ONE_VALUE_RESPONSE = h(
    """
    00000001                   # OpCode OC_RESOLUTION
    00000001                   # ResponseCode RC_SUCCESS
    00000000                   # OpFlag
    0001 00 00                 # SiteInfoSerialNumber 1, RecursionCount 0, reserved
    5f5e1000                   # ExpirationTime
    00000043                   # BodyLength 67
    0000000b 38382e3131382f54455354     # Handle "88.118/TEST"
    00000001                   # one value
    00000001                   #   Index 1
    5f5e1000                   #   Timestamp
    00                         #   TTLType relative
    00015180                   #   TTL 86400
    0e                         #   Permission: admin read, admin write, public read
    00000003 55524c            #   Type "URL"
    00000013 68747470733a2f2f6578616d706c652e6f7267    # Data "https://example.org" (19 octets)
    00000000                   #   no references
    00000000                   # CredentialLength 0
    """
)


def test_response_with_one_string_value_decodes():
    env = hc.envelope(message_length=len(ONE_VALUE_RESPONSE), request_id=7)
    r = hc.decode_answer(env + ONE_VALUE_RESPONSE)
    assert (r.opcode, r.response_code, r.request_id, r.site_info_serial) == (1, 1, 7, 1)
    assert r.handle == "88.118/TEST"
    assert r.values == [
        hc.HandleValue(index=1, type="URL", data=b"https://example.org", ttl=86400, timestamp=0x5F5E1000)
    ]
    assert r.signature is None and r.request_digest is None
    assert len(r.body) == 0x43


def test_value_encoding_matches_the_hand_made_response():
    value = hc.HandleValue(index=1, type="URL", data=b"https://example.org", timestamp=0x5F5E1000)
    body = hc.utf8("88.118/TEST") + hc.encode_values([value])
    assert ONE_VALUE_RESPONSE[24 : 24 + 0x43] == body


def test_hs_admin_data():
    data = hc.encode_admin("0.NA/88.118", 200, "111111111111")
    assert data == h(
        """
        0fff                                     # AdminPermission: all twelve bits
        0000000b 302e4e412f38382e313138          # AdminRef handle "0.NA/88.118"
        000000c8                                 # AdminRef index 200
        """
    )
    # Handle.Net's string: list_handles first ... add_handle last; read_value is bit 0x0400
    d = hc.decode_admin(hc.encode_admin("0.NA/88.118", 300, "011111110011"))
    assert d["bits"] == 0x07F3
    assert d["permissions"] == "011111110011"
    assert d["flags"]["read_value"] and not d["flags"]["list_handles"]
    assert d["flags"]["add_handle"] and d["flags"]["delete_handle"]
    assert not d["flags"]["add_derived_prefix"] and not d["flags"]["delete_derived_prefix"]
    assert (d["handle"], d["index"], d["legacy_length"]) == ("0.NA/88.118", 300, False)
    assert hc.decode_admin(data + b"\x00\x00")["legacy_length"]  # Handle.Net <= 7.3 trailing octets
    with pytest.raises(hc.HandleProtocolError):
        hc.decode_admin(data + b"\x00")


def test_challenge_response_body_with_secret_key_sha1_form():
    nonce = bytes(range(16))
    request_digest = bytes(range(100, 120))
    mac = hashlib.sha1(b"secret" + nonce + request_digest + b"secret").digest()
    answer = hc.secret_key_answer(b"secret", nonce, request_digest, 2, 6)
    assert answer == b"\x02" + mac
    body = hc.challenge_answer_body("HS_SECKEY", "0.NA/88.118", 300, answer)
    assert body == (
        h(
            """
            00000009 48535f5345434b4559              # AuthenticationType "HS_SECKEY"
            0000000b 302e4e412f38382e313138          # KeyHandle "0.NA/88.118"
            0000012c                                 # KeyIndex 300
            00000015 02                              # ChallengeResponse: 21 octets, SHA-1 identifier
            """
        )
        + mac
    )


def test_secret_key_answer_pbkdf2_form_for_2_7_and_later():
    nonce, digest, salt = b"N" * 16, b"D" * 32, bytes(range(16))
    answer = hc.secret_key_answer(b"secret", nonce, digest, 2, 11, salt=salt)
    key = hashlib.pbkdf2_hmac("sha1", b"secret", salt, 10000, 20)
    mac = hmac.new(key, nonce + digest, "sha1").digest()
    assert (
        answer
        == h(
            """
        22                  # PBKDF2-HMAC-SHA1
        00000010 000102030405060708090a0b0c0d0e0f   # salt
        00002710            # iterations 10000
        000000a0            # key length 160 bits
        00000014            # MAC length
        """
        )
        + mac
    )
    # before 2.1: a bare MD5
    assert hc.secret_key_answer(b"k", nonce, digest, 2, 0) == hashlib.md5(b"k" + nonce + digest + b"k").digest()
    # non-ASCII octets go through Java's char -> UTF-8 step
    assert hc.pbkdf2_password(b"\xe9") == b"\xc3\xa9"


def test_hashed_secret_is_lower_hex_sha1():
    assert hc.hashed_secret(b"password") == b"5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8"
    auth = hc.SecretKeyAuth("0.NA/88.118", 300, b"password", hashed=True)
    assert auth.secret == b"5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8"


# ------------------------------------------------------------------------------------------------------
# Round trips and decoding
# ------------------------------------------------------------------------------------------------------


def test_value_round_trip_with_references_and_permissions():
    v = hc.HandleValue(
        index=7,
        type="HS_VLIST",
        data=hc.encode_vlist([("0.NA/88.118", 200), ("88.118/ADMIN", 300)]),
        ttl=-1,
        ttl_type=1,
        timestamp=123,
        admin_read=False,
        public_read=False,
        public_write=True,
        references=[("88.118/X", 1)],
    )
    assert hc.decode_value(hc.Reader(hc.encode_value(v))) == v
    assert hc.decode_vlist(v.data) == [("0.NA/88.118", 200), ("88.118/ADMIN", 300)]


def _site(public_key: bytes) -> dict:
    return {
        "version": 1,
        "protocol_version": (2, 10),
        "serial_number": 3,
        "primary": True,
        "multi_primary": False,
        "hash_option": hc.HASH_BY_ALL,
        "attributes": {"desc": "test site"},
        "servers": [
            {
                "id": 1,
                "address": "127.0.0.1",
                "public_key": public_key,
                "interfaces": [
                    {"type": 3, "protocol": "udp", "port": 2641},
                    {"type": 3, "protocol": "tcp", "port": 2641},
                    {"type": 3, "protocol": "http", "port": 8000},
                ],
            },
            {"id": 2, "address": "2001:db8::5", "public_key": b"", "interfaces": []},
        ],
    }


def test_site_round_trip_and_layout():
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    data = hc.encode_site(_site(hc.encode_public_key(key.public_key())))
    assert data[:12] == h("0001 02 0a 0003 80 02 00000000")  # version, protocol 2.10, serial, primary, hash, filter
    site = hc.decode_site(data)
    assert site["protocol_version"] == (2, 10) and site["serial_number"] == 3 and site["primary"]
    assert site["attributes"] == {"desc": "test site"}
    s1, s2 = site["servers"]
    assert s1["address"] == "127.0.0.1" and s1["address_bytes"] == bytes(12) + bytes([127, 0, 0, 1])
    assert s1["public_key"]["type"] == "RSA_PUB_KEY"
    assert [(i["protocol"], i["port"]) for i in s1["interfaces"]] == [("udp", 2641), ("tcp", 2641), ("http", 8000)]
    assert s2["address"] == "2001:db8::5" and s2["public_key"]["type"] is None
    with pytest.raises(hc.HandleProtocolError):
        hc.decode_site(data + b"\x00")


def test_public_key_encodings_round_trip():
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    enc = hc.encode_public_key(rsa_key.public_key())
    # "RSA_PUB_KEY", 2 reserved octets, exponent 65537 as java BigInteger (01 00 01), then the modulus with a
    # leading zero octet since its top bit is set
    assert enc[:24] == h("0000000b 5253415f5055425f4b4559 0000 00000003 010001")
    assert enc[24:29] == h("00000081 00")
    assert hc.decode_public_key(enc).public_numbers() == rsa_key.public_key().public_numbers()

    dsa_key = dsa.generate_private_key(key_size=1024)
    enc = hc.encode_public_key(dsa_key)
    assert enc.startswith(hc.utf8("DSA_PUB_KEY") + b"\x00\x00")
    assert hc.decode_public_key(enc).public_numbers() == dsa_key.public_key().public_numbers()

    with pytest.raises(ValueError):
        hc.encode_public_key(ed25519.Ed25519PrivateKey.generate().public_key())
    assert hc._java_bigint(127) == b"\x7f" and hc._java_bigint(128) == b"\x00\x80" and hc._java_bigint(0) == b"\x00"


def _answer(opcode: int, rc: int, body: bytes, *, flags: int = 0, request_id: int = 1, **env) -> bytes:
    msg = hc.message(opcode, body, response_code=rc, flags=flags, expiration=0)
    return hc.frame(msg, request_id=request_id, **env)


def test_error_referral_and_challenge_bodies():
    err = hc.decode_answer(_answer(1, hc.RC_HANDLE_NOT_FOUND, hc.utf8("no such handle")))
    assert err.response_code == 100 and err.message == "no such handle"

    digest = bytes(32)
    challenge = hc.decode_answer(
        _answer(101, hc.RC_AUTHENTICATION_NEEDED, b"\x03" + digest + hc.lbytes(b"n" * 16), flags=hc.OPFLAGS["RD"])
    )
    assert challenge.nonce == b"n" * 16 and challenge.request_digest == digest
    assert challenge.digest_algorithm == hc.HASH_CODE_SHA256

    old = hc.decode_answer(
        _answer(101, 402, hc.lbytes(b"n" * 16) + hc.lbytes(b"d" * 16), major=2, minor=0, suggest_major=0)
    )
    assert (
        old.nonce == b"n" * 16 and old.request_digest == b"d" * 16 and (old.suggest_major, old.suggest_minor) == (2, 0)
    )

    value = hc.text_value(1, "HS_SERV", "0.NA/88")
    referral = hc.decode_answer(_answer(1, hc.RC_SERVICE_REFERRAL, hc.utf8("0.NA/88") + hc.encode_values([value])))
    assert referral.handle == "0.NA/88" and referral.values == [value]

    lst = hc.decode_answer(_answer(105, 1, hc.utf8_list(["88.118/A", "88.118/B"]), flags=hc.OPFLAGS["CN"]))
    assert lst.handles == ["88.118/A", "88.118/B"] and lst.flags["CN"]


def test_malformed_messages_raise_protocol_errors():
    good = _answer(1, 1, hc.utf8("x") + hc.u32(0))
    with pytest.raises(hc.HandleProtocolError):
        hc.decode_envelope(good[:10])
    lying_body = hc.message(1, hc.utf8("x"), response_code=1, body_length=1000)
    with pytest.raises(hc.HandleProtocolError):
        hc.decode_message(lying_body)
    lying_string = hc.message(1, hc.u32(50) + b"abc" + hc.u32(0), response_code=1)
    with pytest.raises(hc.HandleProtocolError):
        hc.decode_message(lying_string)
    # builders let every field lie
    env = hc.envelope(message_length=5, major=9, minor=9, flag_octets=b"\xff\xff", sequence=3)
    assert env == h("09 09 ff ff 00000000 00000001 00000003 00000005")
    head = hc.header(1, body_length=99, reserved=7, recursion_count=200, site_info_serial=0, expiration=0)
    assert head[-10:] == h("c8 07 00000000 00000063")


def test_udp_packets_split_a_large_message():
    msg = bytes(1200)
    packets = hc.udp_packets(msg, request_id=9)
    assert [len(p) for p in packets] == [512, 512, 20 + 1200 - 2 * 492]
    for seq, p in enumerate(packets):
        env = hc.decode_envelope(p)
        assert (env.sequence, env.message_length, env.truncated, env.request_id) == (seq, 1200, True, 9)
    assert not hc.decode_envelope(hc.udp_packets(b"abc")[0]).truncated


def test_udp_reassembler_orders_packets_and_ignores_others():
    msg = _answer(1, 1, hc.utf8("88.118/T") + hc.encode_values([hc.HandleValue(1, "DATA", bytes(700))]))[20:]
    packets = hc.udp_packets(msg, request_id=5)
    r = hc.UdpReassembler(5)
    assert r.feed(hc.udp_packets(b"zz", request_id=6)[0]) is None
    assert r.feed(packets[1]) is None
    env, data = r.feed(packets[0])
    assert data == msg and env.message_length == len(msg)


def test_signed_prefix_and_verify_signature():
    for key in (
        rsa.generate_private_key(public_exponent=65537, key_size=1024),
        dsa.generate_private_key(key_size=1024),
        ec.generate_private_key(ec.SECP256R1()),
        ed25519.Ed25519PrivateKey.generate(),
    ):
        msg = hc.message(1, hc.utf8("88.118/T") + hc.u32(0), response_code=1, flags={"CT": True}, expiration=0)
        cred = hc.sign_message_credential(key, msg[:-4], request_id=42, session_counter=3)
        packet = hc.frame(msg[:-4] + hc.lbytes(cred), request_id=42)
        resp = hc.decode_answer(packet)
        assert hc.parse_credential(resp.signature)["type"] == "HS_SIGNED"
        assert hc.verify_signature(resp, key.public_key())
        resp.request_id = 43  # the RequestId is signed from 2.7 on
        assert not hc.verify_signature(resp, key.public_key())
    prefix = hc.signed_prefix(2, 11, 2, 11, 0, 42, 3)
    assert prefix == h("02 0b 02 0b 00000000 0000002a 00000003")
    assert hc.signed_prefix(2, 7, 2, 11, 1, 2, 3) == h("02 07 00000001 00000002 00000003")
    assert hc.signed_prefix(2, 5, 2, 11, 1, 2, 3) == b""


def test_public_key_answer_hash_per_version():
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    dsa_key = dsa.generate_private_key(key_size=1024)
    assert hc.public_key_signature_hash(rsa_key, 2, 11) == "SHA-256"
    assert hc.public_key_signature_hash(rsa_key, 2, 6) == "SHA1"
    assert hc.public_key_signature_hash(dsa_key, 2, 10) == "SHA1"
    assert hc.public_key_signature_hash(dsa_key, 2, 11) == "SHA-256"
    ans = hc.Reader(hc.public_key_answer(rsa_key, b"n", b"d", 2, 11))
    assert ans.utf8() == "SHA-256"
    rsa_key.public_key().verify(ans.lbytes(), b"nd", padding.PKCS1v15(), hashes.SHA256())


# ------------------------------------------------------------------------------------------------------
# Exchanges against in-test fakes
# ------------------------------------------------------------------------------------------------------


class FakeUdpServer(asyncio.DatagramProtocol):
    """Answers each complete request with what ``handler(request_response, envelope)`` returns: a list of
    packets to send back (or None)."""

    def __init__(self, handler: Callable[[hc.Response, list[bytes]], list[bytes] | None]):
        self.handler = handler
        self.pending: dict[int, hc.UdpReassembler] = {}
        self.received: list[list[bytes]] = []
        self.raw: dict[int, list[bytes]] = {}

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        env = hc.decode_envelope(data)
        self.raw.setdefault(env.request_id, []).append(data)
        r = self.pending.setdefault(env.request_id, hc.UdpReassembler(env.request_id))
        done = r.feed(data)
        if done is None:
            return
        env, msg = done
        self.received.append(self.raw.pop(env.request_id))
        for packet in self.handler(hc.decode_message(msg, env), self.received[-1]) or []:
            self.transport.sendto(packet, addr)


async def start_udp(handler):
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(lambda: FakeUdpServer(handler), local_addr=("127.0.0.1", 0))
    return transport, proto, transport.get_extra_info("sockname")[1]


async def test_two_packet_udp_answer_is_reassembled():
    big = hc.HandleValue(index=1, type="DATA", data=b"x" * 600)
    answer = hc.message(1, hc.utf8("88.118/BIG") + hc.encode_values([big]), response_code=1, expiration=0)

    def handler(req, packets):
        packets_out = hc.udp_packets(answer, request_id=req.request_id, mark_truncated=False)
        assert len(packets_out) == 2
        return list(reversed(packets_out))  # out of order on purpose

    transport, _, port = await start_udp(handler)
    try:
        resp = await hc.HandleClient("127.0.0.1", port, timeout=2).resolve("88.118/BIG")
    finally:
        transport.close()
    assert resp.ok and resp.handle == "88.118/BIG" and resp.values == [big]


async def test_large_request_is_split_for_udp():
    values = [hc.HandleValue(index=i, type="DATA", data=bytes(300)) for i in range(1, 5)]

    def handler(req, packets):
        assert len(packets) > 1 and all(len(p) <= 512 for p in packets)
        assert [hc.decode_envelope(p).sequence for p in packets] == list(range(len(packets)))
        assert all(hc.decode_envelope(p).truncated for p in packets)
        r = hc.Reader(req.body)
        assert r.utf8() == "88.118/NEW" and [hc.decode_value(r) for _ in range(r.u32())] == values
        return [_answer(req.opcode, hc.RC_SUCCESS, b"", request_id=req.request_id)]

    transport, proto, port = await start_udp(handler)
    try:
        resp = await hc.HandleClient("127.0.0.1", port, timeout=2).create_handle("88.118/NEW", values, auth=None)
    finally:
        transport.close()
    assert resp.ok and len(proto.received) == 1


def challenging_handler(verify: Callable[[hc.Response, bytes, bytes], bool]):
    """A fake that challenges every request and checks the answer with ``verify(answer, nonce, digest)``."""
    state: dict = {}

    def handler(req, packets):
        if req.opcode != hc.OC_CHALLENGE_RESPONSE:
            digest = hashlib.sha256(req.header_and_body).digest()
            state.update(nonce=b"\x07" * 16, digest=digest, original=req)
            body = b"\x03" + digest + hc.lbytes(state["nonce"])
            return [_answer(req.opcode, 402, body, flags=hc.OPFLAGS["RD"], request_id=req.request_id, session_id=77)]
        assert req.session_id == 77 and req.request_id != state["original"].request_id
        ok = verify(req, state["nonce"], state["digest"])
        rc = hc.RC_SUCCESS if ok else hc.RC_AUTHENTICATION_FAILED
        return [_answer(state["original"].opcode, rc, b"" if ok else hc.utf8("bad"), request_id=req.request_id)]

    return handler


async def test_secret_key_challenge_response_exchange():
    def verify(req, nonce, digest):
        r = hc.Reader(req.body)
        assert (r.utf8(), r.utf8(), r.u32()) == ("HS_SECKEY", "0.NA/88.118", 300)
        a = hc.Reader(r.lbytes())
        assert a.u8() == hc.HASH_CODE_PBKDF2_HMAC_SHA1
        salt, iterations, bits, mac = a.lbytes(), a.u32(), a.u32(), a.lbytes()
        key = hashlib.pbkdf2_hmac("sha1", b"s3cret", salt, iterations, bits // 8)
        return hmac.compare_digest(mac, hmac.new(key, nonce + digest, "sha1").digest())

    transport, _, port = await start_udp(challenging_handler(verify))
    try:
        client = hc.HandleClient("127.0.0.1", port, timeout=2)
        good = await client.delete_handle("88.118/T", auth=hc.SecretKeyAuth("0.NA/88.118", 300, b"s3cret"))
        bad = await client.delete_handle("88.118/T", auth=hc.SecretKeyAuth("0.NA/88.118", 300, b"wrong"))
        no_auth = await client.delete_handle("88.118/T", auth=None)
    finally:
        transport.close()
    assert good.ok and good.challenge is not None and good.challenge.nonce == b"\x07" * 16
    assert bad.response_code == hc.RC_AUTHENTICATION_FAILED and bad.message == "bad"
    assert no_auth.response_code == hc.RC_AUTHENTICATION_NEEDED


async def test_public_key_challenge_response_exchange():
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)

    def verify(req, nonce, digest):
        r = hc.Reader(req.body)
        assert (r.utf8(), r.utf8(), r.u32()) == ("HS_PUBKEY", "0.NA/88.118", 300)
        a = hc.Reader(r.lbytes())
        assert a.utf8() == "SHA-256"
        return hc.verify_bytes(key.public_key(), a.lbytes(), nonce + digest, "SHA-256")

    transport, _, port = await start_udp(challenging_handler(verify))
    try:
        resp = await hc.HandleClient("127.0.0.1", port, timeout=2).add_values(
            "88.118/T", [hc.text_value(2, "URL", "https://x")], auth=hc.PublicKeyAuth("0.NA/88.118", 300, key)
        )
    finally:
        transport.close()
    assert resp.ok and resp.opcode == hc.OC_ADD_VALUE


async def test_challenge_with_a_wrong_digest_is_refused():
    def handler(req, packets):
        body = b"\x03" + bytes(32) + hc.lbytes(b"n" * 16)
        return [_answer(req.opcode, 402, body, flags=hc.OPFLAGS["RD"], request_id=req.request_id)]

    transport, _, port = await start_udp(handler)
    try:
        with pytest.raises(hc.HandleProtocolError, match="not the digest"):
            await hc.HandleClient("127.0.0.1", port, timeout=2).delete_handle(
                "88.118/T", auth=hc.SecretKeyAuth("0.NA/88.118", 300, b"k")
            )
    finally:
        transport.close()


async def test_udp_timeout_and_raw_udp_helper():
    transport, _, port = await start_udp(lambda req, packets: None)
    try:
        with pytest.raises(hc.HandleTimeout):
            await hc.HandleClient("127.0.0.1", port, timeout=0.2).resolve("88.118/T")
        assert await hc.send_udp_raw("127.0.0.1", port, b"\x02\x0b" + bytes(18), 0.2) is None
    finally:
        transport.close()

    transport, _, port = await start_udp(
        lambda req, packets: [_answer(1, hc.RC_PROTOCOL_ERROR, hc.utf8("bad"), request_id=req.request_id)]
    )
    try:
        raw = await hc.send_udp_raw("127.0.0.1", port, hc.frame(hc.message(1, b""), request_id=3), 1)
    finally:
        transport.close()
    assert hc.decode_answer(raw).message == "bad"


async def test_tcp_multi_message_list_and_raw_tcp_helper():
    async def serve(reader, writer):
        env = hc.decode_envelope(await reader.readexactly(20))
        req = hc.decode_message(await reader.readexactly(env.message_length), env)
        assert req.opcode == hc.OC_LIST_HANDLE and hc.Reader(req.body).utf8() == "0.NA/88.118"
        for batch, more in ((["88.118/A", "88.118/B"], True), (["88.118/C"], False)):
            flags = hc.OPFLAGS["CN"] if more else 0
            writer.write(_answer(105, 1, hc.utf8_list(batch), flags=flags, request_id=env.request_id))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        resp = await hc.HandleClient("127.0.0.1", port, timeout=2).list_handles("0.NA/88.118", auth=None)
        raw = await hc.send_tcp_raw(
            "127.0.0.1", port, hc.frame(hc.message(105, hc.utf8("0.NA/88.118")), request_id=5), 1
        )
    finally:
        server.close()
        await server.wait_closed()
    assert resp.handles == ["88.118/A", "88.118/B", "88.118/C"] and len(resp.messages) == 2
    assert [m.handles for m in hc.split_tcp_stream(raw)] == [["88.118/A", "88.118/B"], ["88.118/C"]]


async def test_site_info_over_tcp():
    site = _site(b"")

    async def serve(reader, writer):
        env = hc.decode_envelope(await reader.readexactly(20))
        req = hc.decode_message(await reader.readexactly(env.message_length), env)
        assert req.opcode == hc.OC_GET_SITEINFO and hc.Reader(req.body).utf8() == "/"
        writer.write(_answer(2, 1, hc.encode_site(site), request_id=env.request_id))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        resp = await hc.HandleClient("127.0.0.1", port, transport="tcp", timeout=2).get_site_info()
    finally:
        server.close()
        await server.wait_closed()
    assert resp.site["servers"][0]["interfaces"][1] == {
        "type": 3,
        "type_name": "admin_and_query",
        "protocol": "tcp",
        "protocol_code": 1,
        "port": 2641,
    }


async def test_udp_multi_message_answer_and_request_digest():
    def handler(req, packets):
        digest = hashlib.sha256(req.header_and_body).digest()
        out = []
        for batch, more in ((["88.118/A"], True), (["88.118/B"], False)):
            flags = hc.OPFLAGS["RD"] | (hc.OPFLAGS["CN"] if more else 0)
            out.append(_answer(105, 1, b"\x03" + digest + hc.utf8_list(batch), flags=flags, request_id=req.request_id))
        return out

    transport, _, port = await start_udp(handler)
    try:
        client = hc.HandleClient("127.0.0.1", port, timeout=2)
        resp = await client.list_handles("0.NA/88.118", auth=None, transport="udp", RD=True)
    finally:
        transport.close()
    assert resp.handles == ["88.118/A", "88.118/B"] and resp.flags["CN"] and not resp.messages[-1].flags["CN"]
    assert resp.request_digest == hashlib.sha256(client.last_request[:-4]).digest()
    assert resp.digest_algorithm == hc.HASH_CODE_SHA256
