"""The node's Ed25519 signing key (``secnode init`` makes it) and the route that publishes its public half. The key
is read once per application and only when a request needs it: a node without a key serves all but signatures."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from faces.business.render import BUSINESS
from faces.dependencies import NodeSettings
from foundation.crypto.keys import key_id, load_signing_key, public_key_raw
from foundation.errors import Unavailable
from foundation.http.responses import JSONBody


def _signing_key(request: Request) -> Callable[[], Ed25519PrivateKey]:
    state = request.app.state

    def load() -> Ed25519PrivateKey:
        key: Ed25519PrivateKey | None = getattr(state, "signing_key", None)
        if key is None:
            try:
                key = state.signing_key = load_signing_key(state.settings.node_key_file)
            except OSError:
                raise Unavailable("this node has no signing key yet (secnode init makes it)",
                                  name="signature.no_key") from None
        return key

    return load


NodeSigningKey = Annotated[Callable[[], Ed25519PrivateKey], Depends(_signing_key)]

router = APIRouter(tags=["resolution"], route_class=BUSINESS.route_class)


@router.get("/.well-known/secnode/signing-key", summary="The public key this node signs records with")
async def signing_key(settings: NodeSettings, key: NodeSigningKey) -> Response:
    public = key().public_key()
    return JSONBody({"nodePrefix": settings.node_prefix, "keyId": key_id(public),
                     "publicKey": base64.b64encode(public_key_raw(public)).decode("ascii")})
