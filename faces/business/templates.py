"""Business API: metadata templates (SNMS v5 ``/snms/api/v5/template``). Writes answer ``data: true``, as the SNMS
documentation shows; ``GET`` gives the template."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from faces.business.render import BUSINESS, ok
from faces.dependencies import BusinessActor, JsonPayload, NodeSettings, ReadSession, UnitOfWork
from foundation.errors import MissingParameter
from foundation.http.requests import parse_model, read_json
from registry.templates import service
from registry.templates.schemas import TemplateIn, TemplateRef

router = APIRouter(prefix="/snms/api/v5/template", tags=["business: templates"], route_class=BUSINESS.route_class)


@router.post("", summary="Publish a template version")
async def create(body: JsonPayload, actor: BusinessActor, session: UnitOfWork) -> Response:
    await service.create(session, actor, parse_model(TemplateIn, body))
    return ok(True)


@router.put("", summary="Update a template: add items, disable or rename items (incremental)")
async def update(body: JsonPayload, actor: BusinessActor, session: UnitOfWork) -> Response:
    await service.update(session, actor, parse_model(TemplateIn, body))
    return ok(True)


@router.delete("", summary="Delete a template version that no identifier binds (body or query: prefix, version)")
async def delete(request: Request, actor: BusinessActor, session: UnitOfWork) -> Response:
    raw: Any = dict(request.query_params)
    if "prefix" not in raw or "version" not in raw:
        raw = await read_json(request)
    ref = parse_model(TemplateRef, raw)
    await service.delete(session, actor, ref.prefix, ref.version)
    return ok(True)


@router.get("", summary="One template by prefix and version (public)")
async def get_template(session: ReadSession, prefix: str = "", version: str = "") -> Response:
    if not prefix or not version:
        raise MissingParameter("prefix and version are required")
    return ok(await service.get(session, prefix, version))


@router.get("/list", summary="Templates usable under a prefix: its own and the node's (public)")
async def list_templates(settings: NodeSettings, session: ReadSession, prefix: str = "") -> Response:
    prefixes = [settings.node_prefix] + ([prefix] if prefix and prefix != settings.node_prefix else [])
    return ok(await service.list_for(session, prefixes))
