"""The console's routes: the page at ``/``, its static files and QR images under ``/-/console/``.

``-`` is no identifier prefix in any mode, so these paths can never shadow an identifier on the proxy face
(``GET /{handle}``), whose catch-all route is registered after this router.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.types import Scope

from faces.console.assets import ASSETS
from faces.console.messages import COOKIE, LANGUAGES, negotiate
from faces.console.page import STATIC, render_page
from faces.console.qr import qr_svg
from foundation.errors import AssetNotFound, DomainError
from foundation.http.face import Face
from foundation.http.node_settings import NodeSettings

# Scripts, styles, images and API calls from this node only; no inline script or style, no framing, no plugins.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def render(error: DomainError, scope: Scope) -> Response:
    """The console's errors are plain text for a person, under the same headers as its pages."""
    return PlainTextResponse(error.message, status_code=error.status, headers=SECURITY_HEADERS)


CONSOLE = Face("console", render, paths=("/-/console/",))
router = APIRouter(include_in_schema=False, route_class=CONSOLE.route_class)


@router.get("/")
async def console(request: Request, settings: NodeSettings) -> Response:
    asked = request.query_params.get("lang")
    lang = negotiate(asked, request.cookies.get(COOKIE), request.headers.get("accept-language", ""))
    page = render_page(
        lang,
        settings.node_prefix,
        request.query_params.get("handle", "").strip(),
        request.query_params.get("view", "record"),
    )
    response = HTMLResponse(
        page, headers={**SECURITY_HEADERS, "Cache-Control": "no-store", "Vary": "Accept-Language, Cookie"}
    )
    if asked in LANGUAGES:  # the switch is remembered for the next visit
        response.set_cookie(COOKIE, asked, max_age=365 * 86400, path="/", samesite="lax", httponly=True)
    return response


@router.get(STATIC + "/{name}")
async def asset(name: str, request: Request) -> Response:
    found = ASSETS.get(name)
    if found is None:
        raise AssetNotFound()
    headers = {**SECURITY_HEADERS, "ETag": found.etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == found.etag:
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=found.media_type, headers=headers)


@router.get("/-/console/qr.svg")
async def qr(request: Request) -> Response:
    body = qr_svg(request.query_params.get("handle", ""))
    return Response(
        body, media_type="image/svg+xml", headers={**SECURITY_HEADERS, "Cache-Control": "public, max-age=86400"}
    )
