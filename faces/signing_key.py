"""The route that publishes the public half of the node's Ed25519 signing key."""

from __future__ import annotations

import base64

from fastapi import APIRouter
from starlette.responses import Response

from faces.business.render import BUSINESS
from faces.dependencies import NodeSettings, NodeSigningKey
from foundation.crypto.keys import key_id, public_key_raw
from foundation.http.responses import JSONBody

router = APIRouter(tags=["resolution"], route_class=BUSINESS.route_class)


@router.get("/.well-known/secnode/signing-key", summary="The public key this node signs records with")
async def signing_key(settings: NodeSettings, key: NodeSigningKey) -> Response:
    public = key().public_key()
    return JSONBody(
        {
            "nodePrefix": settings.node_prefix,
            "keyId": key_id(public),
            "publicKey": base64.b64encode(public_key_raw(public)).decode("ascii"),
        }
    )
