"""Business API: enterprise prefixes homed at enterprise nodes (node administrator)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from faces.business.render import BUSINESS, ok
from faces.dependencies import BusinessActor, JsonPayload, NodeResolver, UnitOfWork
from registry.enterprise_nodes import service
from registry.enterprise_nodes.errors import EnterpriseNodeForbidden
from resolver.service import Resolver

# before the prefixes' router: /prefixes/homed is not a prefix
router = APIRouter(
    prefix="/snms/api/v5/prefixes", tags=["business: enterprise nodes"], route_class=BUSINESS.route_class
)


@router.get("/homed", summary="Prefixes homed at enterprise nodes, with their sites and health (node administrator)")
async def list_homed(actor: BusinessActor, session: UnitOfWork) -> Response:
    if not actor.is_node_admin:
        raise EnterpriseNodeForbidden()
    return ok(await service.list_homed(session))


@router.put(
    "/{prefix}/home",
    summary="Home an enabled prefix at an enterprise node: its siteinfo.json, or address and port (node administrator)",
)
async def home(
    prefix: str, body: JsonPayload, actor: BusinessActor, session: UnitOfWork, resolver: NodeResolver
) -> Response:
    if not actor.is_node_admin:
        raise EnterpriseNodeForbidden()
    homed = await service.home(session, actor, prefix, service.site_from_request(body))
    _refer_at_once(resolver)
    return ok(homed)


@router.delete("/{prefix}/home", summary="Serve the prefix here again (node administrator)")
async def unhome(prefix: str, actor: BusinessActor, session: UnitOfWork, resolver: NodeResolver) -> Response:
    await service.unhome(session, actor, prefix)
    _refer_at_once(resolver)
    return ok({"prefix": prefix, "homed": False})


def _refer_at_once(resolver: Resolver) -> None:
    """This worker reads the homed prefixes again on its next resolution; the others within seconds."""
    if resolver.homed is not None:
        resolver.homed.forget()
