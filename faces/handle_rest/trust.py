"""Handle trust on the Handle REST face (ADR 0015): the node certifies an enterprise prefix administrator's key."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from faces.dependencies import HandleWriter, NodeSettings, NodeTrustKey, UnitOfWork
from faces.handle_rest.render import HANDLE
from foundation.errors import BadIndex
from foundation.http.responses import JSONBody
from foundation.text import is_decimal
from registry.kernel.syntax import check_prefix, na_handle
from registry.trust.service import certify_prefix

router = APIRouter(tags=["Handle REST"], route_class=HANDLE.route_class)


@router.post(
    "/api/trust/certificates/{prefix}",
    summary="Certify a prefix administrator's HS_PUBKEY (HS_CERT at index 400 of 0.NA/<prefix>)",
    status_code=201,
)
async def certify(
    prefix: str,
    request: Request,
    settings: NodeSettings,
    actor: HandleWriter,
    session: UnitOfWork,
    trust_key: NodeTrustKey,
) -> Response:
    """The node issues the HS_PUBKEY of ``0.NA/<prefix>`` (``?index=``, else the first usable one) an HS_CERT scoped
    to the prefix, chained to the node's certificate from the top level. Asked by the prefix's administrators or
    the node administrator; a new key is certified by asking again."""
    raw_index = request.query_params.get("index")
    if raw_index is not None and not is_decimal(raw_index):
        raise BadIndex(f"index must be a number, not {raw_index!r}")
    index, certificate = await certify_prefix(
        session, settings, actor, check_prefix(prefix), trust_key(), int(raw_index) if raw_index else None
    )
    return JSONBody(
        {"responseCode": 1, "handle": na_handle(prefix), "index": index, "certificate": certificate}, status_code=201
    )
