"""Business API: metadata templates (SNMS v5 ``/snms/api/v5/template``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from faces.actors import business_actor
from foundation.errors import DomainError, InvalidRequest
from foundation.http.faces import parse_model, read_json, snms_error, snms_ok
from registry.templates import service
from registry.templates.schemas import TemplateIn

router = APIRouter(prefix="/snms/api/v5/template", tags=["business: templates"])


async def _write(request: Request, create: bool) -> Response:
    try:
        data = parse_model(TemplateIn, await read_json(request))
        async with request.app.state.db.unit_of_work() as session:
            actor = await business_actor(request, session)
            out = await (service.create if create else service.update)(session, actor, data)
    except DomainError as exc:
        return snms_error(exc)
    return snms_ok(out, status_code=201 if create else 200)


@router.post("", summary="Publish a template version")
async def create(request: Request) -> Response:
    return await _write(request, True)


@router.put("", summary="Update a template: add items, disable or rename items (incremental)")
async def update(request: Request) -> Response:
    return await _write(request, False)


@router.get("", summary="One template by prefix and version (public)")
async def get_template(request: Request, prefix: str = "", version: str = "") -> Response:
    try:
        if not prefix or not version:
            raise InvalidRequest("prefix and version are required", name="request.missing_parameter")
        async with request.app.state.db.read_session() as session:
            out = await service.get(session, prefix, version)
    except DomainError as exc:
        return snms_error(exc)
    return snms_ok(out)


@router.get("/list", summary="Templates usable under a prefix: its own and the node's (public)")
async def list_templates(request: Request, prefix: str = "") -> Response:
    settings = request.app.state.settings
    try:
        async with request.app.state.db.read_session() as session:
            prefixes = [settings.node_prefix] + ([prefix] if prefix and prefix != settings.node_prefix else [])
            out = await service.list_for(session, prefixes)
    except DomainError as exc:
        return snms_error(exc)
    return snms_ok(out)
