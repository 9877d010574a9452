"""A proxy face like hdl.handle.net: ``GET /{handle}`` redirects to the record's URL; ``?noredirect`` shows it. A single
path segment is no handle: when it packs a compressed GS1 Digital Link, the GS1 resolver answers it."""

from __future__ import annotations

import html

import orjson
from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from faces.dependencies import NodeDatabase, NodeResolver
from faces.gs1_resolver.routes import answer as gs1_answer
from faces.gs1_resolver.routes import compressed_link
from faces.handle_rest.answers import public_answer
from faces.handle_rest.render import HANDLE
from foundation.http.responses import JSONBody

router = APIRouter(tags=["proxy"], route_class=HANDLE.route_class)


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept.split(",")[0]


def _shown(value: object) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _page(handle: str, values: list[dict] | None) -> str:
    title = html.escape(handle)
    if values is None:
        body = "<p>This identifier is not registered on this node.</p>"
    else:
        rows = "".join(
            f"<tr><td>{v['index']}</td><td>{html.escape(v['type'])}</td>"
            f"<td>{html.escape(_shown(v['data']['value']))}</td>"
            f"<td>{html.escape(v.get('timestamp') or '')}</td></tr>"
            for v in values
        )
        body = (
            "<table><thead><tr><th>Index</th><th>Type</th><th>Data</th><th>Timestamp</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        "<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:4px 8px;"
        "text-align:left}table{border-collapse:collapse}</style></head>"
        f"<body><h1>{title}</h1>{body}</body></html>"
    )


@router.get(
    "/{handle:path}",
    summary="Proxy: redirect to the identifier's URL value",
    responses={
        302: {"description": "to the identifier's URL value"},
        307: {"description": "a compressed GS1 Digital Link: to its link (the GS1 resolver's answer)"},
    },
)
async def proxy(handle: str, request: Request, resolver: NodeResolver, db: NodeDatabase) -> Response:
    if "/" not in handle and (link := compressed_link(request, handle)) is not None:
        return await gs1_answer(request, link, db, resolver)
    status, body, _ = await public_answer(resolver, handle, None)
    record = orjson.loads(body)
    values = record.get("values") if status == 200 else None
    show = "noredirect" in request.query_params or not values
    url = next(
        (v["data"]["value"] for v in values or () if v["type"] == "URL" and isinstance(v["data"]["value"], str)), None
    )
    if not show and url is not None:
        return RedirectResponse(url, status_code=302)
    if _wants_html(request):
        return HTMLResponse(_page(handle, values), status_code=200 if values is not None else 404)
    return JSONBody(record, status_code=status)
