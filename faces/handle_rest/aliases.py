"""Alias look-up in the Handle face: ``GET /api/aliases/{scheme}/{key}`` answers the handle a key of another scheme
names (``/api/aliases/gs1/(01)09520123456788(21)12345``, ``/api/aliases/oid/1.2.156.1``). A key with characters a
path cannot carry (a Digital Link URI with a query) goes as ``GET /api/aliases?alias=<scheme:key>``. GS1 keys fall
back to less specific keys (serial → lot → GTIN); the answer says which key matched."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from faces.dependencies import NodeDatabase
from faces.handle_rest.render import HANDLE
from foundation.http.responses import JSONBody
from registry.kernel.aliases import Alias, parse_alias
from registry.kernel.errors import BadAlias
from resolver import aliases
from resolver.errors import AliasNotFound

router = APIRouter(prefix="/api/aliases", tags=["Handle REST: aliases"], route_class=HANDLE.route_class)


async def _answer(db: Any, alias: Alias) -> Response:
    if alias.gs1 is not None:
        found = await aliases.handle_for_gs1(db, alias.gs1)
        if found is None:
            raise AliasNotFound(alias.text)
        handle, matched = found
        body = {"responseCode": 1, "scheme": "gs1", "alias": alias.key, "matched": matched.canonical, "handle": handle}
        return JSONBody(body)
    handle_found = await aliases.handle_for(db, alias)
    if handle_found is None:
        raise AliasNotFound(alias.text)
    return JSONBody({"responseCode": 1, "scheme": alias.scheme, "alias": alias.key, "handle": handle_found})


@router.get("", summary="The handle an alias names (alias=scheme:key, or a Digital Link URI or EPC URN)")
async def by_query(db: NodeDatabase, alias: str = "") -> Response:
    if not alias:
        raise BadAlias("give the alias as ?alias=scheme:key")
    return await _answer(db, parse_alias(alias))


@router.get("/{scheme}/{key:path}", summary="The handle an alias names")
async def by_path(scheme: str, key: str, db: NodeDatabase) -> Response:
    return await _answer(db, parse_alias(f"{scheme}:{key}"))
