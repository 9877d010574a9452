"""The routes that publish the public half of the node's Ed25519 signing key, and its site information (the native
Handle protocol face's HS_SITE, in the siteinfo.json form other nodes refer clients with)."""

from __future__ import annotations

import base64

from fastapi import APIRouter
from starlette.responses import Response

from faces.business.render import BUSINESS
from faces.dependencies import NodeSettings, NodeSigningKey
from faces.handle_native.site import site_json
from foundation.crypto.keys import key_id, public_key_raw
from foundation.crypto.pubkeys import public_jwk
from foundation.errors import NoSigningKey
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


@router.get("/.well-known/secnode/siteinfo", summary="The node's site information (HS_SITE) as siteinfo.json")
async def site_info(settings: NodeSettings, key: NodeSigningKey) -> Response:
    try:
        public_key = public_jwk(key())
    except NoSigningKey:
        public_key = None
    return JSONBody(site_json(settings, public_key, settings.native_port))
