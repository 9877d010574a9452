"""The native face's operations (RFC 3652 section 3): each request becomes a response, through the same resolver,
record writer, listing and authentication the Handle REST face uses. Errors are the domain's, answered with the
Handle response codes of the one table both Handle faces share (``faces.handle_codes``).

Authentication is the RFC's challenge-response: an operation that needs an identity is answered with
RC_AUTHENTICATION_NEEDED, a nonce and the digest of the request, under a new session id; the client answers with
OC_CHALLENGE_RESPONSE carrying its identity and, over nonce ‖ digest, a signature made with the private key of one
of the identity's ``HS_PUBKEY`` values or a MAC keyed with its ``HS_SECKEY``; the server then performs the
challenged request as that identity.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from faces.handle_codes import HANDLE_CODES
from faces.handle_native import wire
from faces.handle_native.challenges import Challenge, Challenges
from faces.handle_native.errors import (
    AnswerRejected,
    ChallengeExpired,
    MessageMalformed,
    OperationNotSupported,
    VersionUnsupported,
)
from faces.handle_native.ready import ReadyAnswers
from faces.handle_native.referrals import Referrals
from faces.handle_native.site import site_octets
from faces.handle_native.values import ADMIN_READ, ADMIN_WRITE, PUBLIC_READ, read_values, value_octets
from faces.handle_native.wire import Reader, Request, Response, error_body
from foundation import handle_protocol as protocol
from foundation.config import Settings
from foundation.crypto.secret_seal import seal_for_key_file
from foundation.db import Database
from foundation.errors import DomainError
from foundation.handle_protocol import text, u32
from foundation.http.budgets import Budgets
from registry.audit.errors import AuditUnavailable
from registry.audit.middleware import GroupAppender
from registry.authentication import keyauth
from registry.authentication.service import actor_for_identity, check_secret_answer
from registry.handles import listing
from registry.handles.errors import ListForbidden, PrefixNotServed
from registry.handles.outcome import charge_registrations
from registry.handles.writer import RecordWriter
from registry.kernel.actor import Actor
from registry.kernel.errors import IdentifierNotFound
from registry.kernel.syntax import Identifier, canonical, na_handle
from registry.kernel.values import DEFAULT_PERMISSIONS, Value, parse_values, public_view
from registry.prefixes import repository as prefixes
from resolver.records import Query, load, visible_values
from resolver.service import Resolver

log = logging.getLogger("secnode.native")

WRITES = frozenset(
    {
        protocol.OC_CREATE_HANDLE,
        protocol.OC_DELETE_HANDLE,
        protocol.OC_ADD_VALUE,
        protocol.OC_REMOVE_VALUE,
        protocol.OC_MODIFY_VALUE,
    }
)
NEEDS_IDENTITY = WRITES | {protocol.OC_LIST_HANDLES, protocol.OC_LIST_NAS, protocol.OC_LIST_HOMED_NAS}
AUDITED = WRITES | {protocol.OC_CHALLENGE_RESPONSE}
OPERATIONS = {
    protocol.OC_CREATE_HANDLE: "create",
    protocol.OC_DELETE_HANDLE: "delete",
    protocol.OC_ADD_VALUE: "add values",
    protocol.OC_REMOVE_VALUE: "remove values",
    protocol.OC_MODIFY_VALUE: "modify values",
    protocol.OC_LIST_HANDLES: "list handles",
    protocol.OC_LIST_NAS: "list NAs",
    protocol.OC_LIST_HOMED_NAS: "list NAs",
    protocol.OC_RESOLUTION: "resolution",
    protocol.OC_CHALLENGE_RESPONSE: "challenge answer",
}
SITE_VALUE: Value = {"index": 1, "type": "HS_SITE"}  # what the node's generated site is, for the query's filters
HANDLES_PER_MESSAGE = 500  # a list-handles answer continues (CN) over messages of this many handles
MAX_LISTED = 1_000_000
ENCODED_CACHE = 50_000  # records whose wire values one worker keeps ready
SIGNATURE_HASHES = {
    b"SHA-256": "SHA256",
    b"SHA256": "SHA256",
    b"SHA-384": "SHA384",
    b"SHA-512": "SHA512",
    b"SM3": "SM3",
}

# errors with a response code of their own on this face; the rest follow the shared table
_OWN_CODES: dict[type[DomainError], int] = {
    MessageMalformed: protocol.RC_PROTOCOL_ERROR,
    VersionUnsupported: protocol.RC_PROTOCOL_ERROR,
    OperationNotSupported: protocol.RC_OPERATION_NOT_SUPPORTED,
    ChallengeExpired: protocol.RC_AUTHENTICATION_TIMEOUT,
    AnswerRejected: protocol.RC_AUTHENTICATION_FAILED,
}


def response_code(error: DomainError) -> int:
    return _OWN_CODES.get(type(error)) or HANDLE_CODES.get(error.kind, (protocol.RC_ERROR, 400))[0]


def request_digest(request: Request) -> tuple[int, bytes]:
    """The digest of header and body as received: SHA-256 when the answer is 2.7 or later, else SHA-1 (Handle.Net's
    ``AbstractResponse.takeDigestOfRequest``)."""
    if request.envelope.answer_version >= (2, 7):
        return protocol.HASH_SHA256, hashlib.sha256(request.signed_part).digest()
    return protocol.HASH_SHA1, hashlib.sha1(request.signed_part).digest()  # noqa: S324 - the protocol's, not ours


class EncodedValues:
    """Ready wire values of the records this worker resolved, keyed by their cached JSON (same JSON, same octets)."""

    def __init__(self, capacity: int = ENCODED_CACHE):
        self.capacity = capacity
        self._entries: OrderedDict[bytes, tuple[list[Value], list[bytes], bytes]] = OrderedDict()

    def get(self, body: bytes) -> tuple[list[Value], list[bytes], bytes]:
        entry = self._entries.get(body)
        if entry is None:
            values = orjson.loads(body)
            parts = [value_octets(v, site_octets) for v in values]
            entry = (values, parts, u32(len(parts)) + b"".join(parts))
            self._entries[body] = entry
            if len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return entry


class NativeService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        resolver: Resolver,
        challenges: Challenges,
        budgets: Budgets | None,
    ):
        self.settings = settings
        self.db = db
        self.resolver = resolver
        self.challenges = challenges
        self.budgets = budgets
        self.site = b""  # published once the listener knows its port
        self.signer: Callable[[bytes], bytes] | None = None  # certifies answers (CT) once the node's key is known
        self.node_na_key = canonical(na_handle(settings.node_prefix))
        self.encoded = EncodedValues()
        self.ready = ReadyAnswers(resolver)
        self.referrals = Referrals(resolver)
        self.audit = GroupAppender(db, settings.audit_hash)

    def publish_site(self, site: dict[str, Any], signing_key: Ed25519PrivateKey | None) -> None:
        self.site = site_octets(site)
        self.signer = signing_key.sign if signing_key is not None else None

    # ---- one request, one response -------------------------------------------------------------------------------

    async def answer(self, request: Request) -> Response:
        try:
            response = await self._dispatch(request)
        except DomainError as error:
            response = Response(request.opcode, response_code(error), error_body(error.message))
            if isinstance(error, AnswerRejected | ChallengeExpired):
                response.actor = "claimed:" + _claimed(request)
        except Exception:
            log.exception("secnode.native.failed opcode=%d", request.opcode)
            response = Response(request.opcode, protocol.RC_ERROR, error_body("internal error"))
        if request.opcode in AUDITED:
            return await self._audited(request, response)
        return response

    async def _audited(self, request: Request, response: Response) -> Response:
        """Writes, and the answers that perform them, are in the audit log before their answer leaves (ADR 0007);
        an entry that cannot be written turns the answer into an error, as on the HTTP faces."""
        entry = {
            "actor": response.actor,
            "action": f"native {OPERATIONS.get(response.opcode, str(response.opcode))}",
            "source": request.source or "unknown",
            "result": response.code,
        }
        try:
            await self.audit.append(entry)
        except Exception as exc:  # noqa: BLE001 - any failure to write the entry refuses the answer
            log.error("secnode.audit.append_failed error=%s entry=%s", type(exc).__name__, entry)
            return Response(response.opcode, protocol.RC_ERROR, error_body(AuditUnavailable().message))
        return response

    async def _dispatch(self, request: Request, actor: Actor | None = None) -> Response:
        envelope = request.envelope
        if envelope.major != protocol.MAJOR or envelope.answer_version < protocol.OLDEST:
            raise VersionUnsupported(envelope.major, envelope.minor)
        if envelope.encrypted or envelope.compressed:
            raise OperationNotSupported("an encrypted or compressed message")
        if request.header.response_code != 0:
            raise MessageMalformed("a request carries response code 0")
        opcode = request.opcode
        if opcode == protocol.OC_CHALLENGE_RESPONSE:
            return await self._answered(request)
        if opcode == protocol.OC_RESOLUTION:
            return await self._resolve(request, actor)
        if opcode == protocol.OC_GET_SITE_INFO:
            return Response(opcode, protocol.RC_SUCCESS, self.site)
        if opcode in NEEDS_IDENTITY:
            if actor is None:
                return await self._challenge(request)
            if opcode == protocol.OC_LIST_HANDLES:
                return await self._list_handles(request, actor)
            if opcode in (protocol.OC_LIST_NAS, protocol.OC_LIST_HOMED_NAS):
                return await self._list_nas(request, actor)
            return await self._write(request, actor)
        if opcode in (protocol.OC_SESSION_SETUP, protocol.OC_SESSION_TERMINATE, protocol.OC_SESSION_EXCHANGE_KEY):
            raise OperationNotSupported("sessions (each request is authenticated by its own challenge)")
        raise OperationNotSupported(f"opcode {opcode}")

    # ---- resolution ----------------------------------------------------------------------------------------------

    async def _resolve(self, request: Request, actor: Actor | None) -> Response:
        reader = Reader(request.body)
        handle = reader.text()
        indexes = reader.u32_list()
        types = reader.text_list()
        ident = self.resolver.parse(handle)
        if not self.resolver.serves(ident):
            return await self._refer(request, handle, ident)
        homed = await self.resolver.enterprise_node(ident)
        if homed is not None:
            return self._referral(request, handle, f"the enterprise node of {homed[0]}", homed[1])
        query = Query.from_params(types, [str(i) for i in indexes], public_only=True)
        if actor is None and request.flag(protocol.PO) and not request.flag(protocol.AT):  # AT: the store, not a cache
            return await self._resolve_public(request, handle, ident, query)
        async with self.db.read_session() as session:
            record = await load(session, ident)
            if actor is None:
                if any(_restricted(v) for v in record.record_values):
                    return await self._challenge(request)  # restricted values: who asks?
                values = public_view(record.record_values)
            else:
                values = await visible_values(session, actor, ident, record, public_only=False)
        selected = query.select(values)
        parts = [value_octets(v, site_octets) for v in selected]
        return self._values_answer(request, handle, ident, parts, query)

    async def _resolve_public(self, request: Request, handle: str, ident: Identifier, query: Query) -> Response:
        entry = await self.resolver.lookup(ident)
        if not entry.found:
            raise IdentifierNotFound(f"{handle} not found")
        values, parts, all_parts = self.encoded.get(entry.body)
        if not query.types and not query.indexes and ident.key != self.node_na_key:
            response = Response(protocol.OC_RESOLUTION, protocol.RC_SUCCESS, text(handle) + all_parts)
        else:
            if query.types or query.indexes:
                wanted = {id(v) for v in query.select(values)}
                parts = [p for v, p in zip(values, parts, strict=True) if id(v) in wanted]
            response = self._values_answer(request, handle, ident, parts, query)
        if not request.flag(protocol.RD | protocol.CT):  # the same octets for every such request while the entry holds
            response.ready = (ident.key, entry, canonical(ident.prefix))
        return response

    async def _refer(self, request: Request, handle: str, ident: Identifier) -> Response:
        """Another node's identifier: a service referral to that node's site, or RC 301 when the site is unknown."""
        home, site = await self.referrals.home(ident)
        if home is None:
            raise PrefixNotServed(f"no node is known to serve {handle}")
        if site is None:
            raise PrefixNotServed(f"{handle} is served by {home}")
        return self._referral(request, handle, home, site)

    def _referral(self, request: Request, handle: str, where: str, site: dict[str, Any]) -> Response:
        """RC_SERVICE_REFERRAL with the serving site as an HS_SITE value; RC 301 naming it when the client asked not
        to be referred (DNRF)."""
        if request.flag(protocol.DNRF):
            raise PrefixNotServed(f"{handle} is served by {where}")
        try:
            site_value = self._site_value(site_octets(site))
        except (KeyError, ValueError, TypeError):
            raise PrefixNotServed(f"{handle} is served by {where}, whose site information is unreadable") from None
        return Response(request.opcode, protocol.RC_SERVICE_REFERRAL, text(handle) + u32(1) + site_value)

    def _values_answer(
        self, request: Request, handle: str, ident: Identifier, parts: list[bytes], query: Query
    ) -> Response:
        if ident.key == self.node_na_key and query.select([SITE_VALUE]):
            parts = [*parts, self._site_value(self.site)]  # the node's own site, generated from its settings
        if not parts:
            return Response(request.opcode, protocol.RC_VALUES_NOT_FOUND, error_body("no value matches the query"))
        return Response(request.opcode, protocol.RC_SUCCESS, text(handle) + u32(len(parts)) + b"".join(parts))

    @staticmethod
    def _site_value(site: bytes) -> bytes:
        # index 1, no timestamp, TTL one day, admin and public read, admin write (RFC 3651 section 3.2.2)
        permissions = bytes((ADMIN_READ | ADMIN_WRITE | PUBLIC_READ,))
        return u32(1) + u32(0) + b"\0" + u32(86400) + permissions + text("HS_SITE") + protocol.octets(site) + u32(0)

    # ---- authentication ------------------------------------------------------------------------------------------

    async def _challenge(self, request: Request) -> Response:
        digest_type, digest = request_digest(request)
        nonce = secrets.token_bytes(16)
        session_id = self.challenges.new_session_id()
        major, minor = request.envelope.answer_version
        message = request.signed_part + protocol.octets(request.credential)
        challenge = Challenge(major, minor, request.envelope.request_id, nonce, bytes((digest_type,)) + digest, message)
        await self.challenges.open(session_id, challenge)
        return Response(
            request.opcode,
            protocol.RC_AUTHENTICATION_NEEDED,
            protocol.octets(nonce),
            session_id=session_id,
            digest=(digest_type, digest),
        )

    async def _answered(self, answer: Request) -> Response:
        reader = Reader(answer.body)
        auth_type, identity_handle, identity_index = reader.octets(), reader.text(), reader.u32()
        signed = reader.octets()
        challenge = await self.challenges.take(answer.envelope.session_id)
        if challenge is None:
            raise ChallengeExpired()
        major, minor = challenge.major, challenge.minor  # the challenged request's answer version
        session_id, length = answer.envelope.session_id, len(challenge.message)
        envelope = wire.Envelope(major, minor, 0, major, minor, session_id, challenge.request_id, 0, length)
        original = wire.read_message(envelope, challenge.message)
        original.source = answer.source
        data = challenge.nonce + challenge.digest[1:]
        try:
            identity = await self._identify(answer, auth_type, identity_handle, identity_index, data, signed)
            async with self.db.read_session() as session:
                actor = await actor_for_identity(session, identity, self.settings.node_prefix)
        except AnswerRejected:
            raise
        except DomainError as error:  # every failure to authenticate is RC_AUTHENTICATION_FAILED on this face
            raise AnswerRejected(error.message) from None
        response = await self._dispatch(original, actor)
        response.session_id = answer.envelope.session_id
        response.actor = actor.name
        return response

    async def _identify(
        self, answer: Request, auth_type: bytes, handle: str, index: int, data: bytes, signed: bytes
    ) -> str:
        """The identity whose key or secret made ``signed`` over ``data``."""
        if auth_type == b"HS_SECKEY":
            return await check_secret_answer(
                self.db,
                seal_for_key_file(self.settings.node_key_file),
                handle,
                index,
                data,
                signed,
                legacy=False,  # clients before 2.1 are refused at the door
                source=answer.source,
                max_failures=self.settings.login_max_failures,
                lockout_seconds=self.settings.login_lockout_seconds,
            )
        if auth_type != b"HS_PUBKEY":
            raise AnswerRejected(f"unknown authentication type {auth_type[:32].decode('ascii', 'replace')}")
        signature_reader = Reader(signed)
        hash_name, signature = signature_reader.octets(), signature_reader.octets()
        alg = SIGNATURE_HASHES.get(hash_name.upper())
        if alg is None:
            raise AnswerRejected(f"signatures with {hash_name.decode('ascii', 'replace')} are not accepted (SHA-256)")
        async with self.db.read_session() as session:
            return await keyauth.verify_signature(session, f"{index}:{handle}", data, signature, alg)

    # ---- listing -------------------------------------------------------------------------------------------------

    async def _list_handles(self, request: Request, actor: Actor) -> Response:
        na = Reader(request.body).text()
        if not na.upper().startswith("0.NA/"):
            raise MessageMalformed("list handles names a prefix handle, 0.NA/<prefix>")
        async with self.db.read_session() as session:
            _, handles = await listing.list_handles(session, actor, na[5:], offset=0, limit=MAX_LISTED)
        return _continued(request.opcode, handles)

    async def _list_nas(self, request: Request, actor: Actor) -> Response:
        if not actor.is_node_admin:
            raise ListForbidden(self.settings.node_prefix)
        async with self.db.read_session() as session:
            homed = await prefixes.list_all(session, state=1, limit=MAX_LISTED)
        return _continued(
            request.opcode, [na_handle(self.settings.node_prefix)] + [na_handle(p.prefix_key) for p in homed]
        )

    # ---- writes --------------------------------------------------------------------------------------------------

    async def _write(self, request: Request, actor: Actor) -> Response:
        opcode = request.opcode
        reader = Reader(request.body)
        handle = reader.text()
        ident = self.resolver.parse(handle)
        values: list[Value] = []
        indexes: set[int] = set()
        if opcode in (protocol.OC_CREATE_HANDLE, protocol.OC_ADD_VALUE, protocol.OC_MODIFY_VALUE):
            limits = {"max_ttl": self.settings.max_ttl, "default_ttl": self.settings.default_ttl}
            values = parse_values(read_values(reader), **limits)
        elif opcode == protocol.OC_REMOVE_VALUE:
            indexes = set(reader.u32_list())
        if opcode == protocol.OC_CREATE_HANDLE and request.flag(protocol.MINT):
            raise OperationNotSupported("minting a new suffix")
        async with self.db.unit_of_work() as session:
            writer = RecordWriter(session, self.settings, actor)
            if opcode == protocol.OC_CREATE_HANDLE:
                if request.flag(protocol.OVRW):
                    outcome = (await writer.replace([(ident, values)], create_missing=True))[0]
                else:
                    outcome = (await writer.create([(ident, values)], identical_ok=False))[0]
            elif opcode == protocol.OC_DELETE_HANDLE:
                outcome = (await writer.delete([ident]))[0]
            elif opcode == protocol.OC_REMOVE_VALUE:
                outcome = await writer.remove_values(ident, indexes)
            else:
                sent = {v["index"] for v in values}
                modify = opcode == protocol.OC_MODIFY_VALUE
                outcome = await writer.patch(ident, values, sent, overwrite=modify, existing=modify)
            if outcome.error is not None:
                raise outcome.error
            if self.budgets is not None:
                charge_registrations(self.budgets, [outcome])
        return Response(opcode, protocol.RC_SUCCESS, text(handle) if opcode == protocol.OC_CREATE_HANDLE else b"")


def _claimed(request: Request) -> str:
    """The identity a challenge answer claims, for the audit of a refusal."""
    try:
        reader = Reader(request.body)
        reader.octets()
        handle = reader.text()
        return f"{reader.u32()}:{handle}"
    except DomainError:
        return "unreadable"


def _restricted(value: Value) -> bool:
    """A value only identities may read (secrets are never shown at all)."""
    return value["type"] != "HS_SECKEY" and value.get("permissions", DEFAULT_PERMISSIONS)[2] != "1"


def _continued(opcode: int, handles: list[str]) -> Response:
    """Handles in messages of HANDLES_PER_MESSAGE; all but the last carry the CN (continued) flag."""
    chunks = [handles[i : i + HANDLES_PER_MESSAGE] for i in range(0, len(handles), HANDLES_PER_MESSAGE)] or [[]]
    bodies = [u32(len(c)) + b"".join(text(h) for h in c) for c in chunks]
    response = Response(opcode, protocol.RC_SUCCESS, bodies[0], flags=protocol.CN if len(bodies) > 1 else 0)
    response.parts = bodies[1:]
    return response
