"""Business API: who may read an identifier's restricted values and template items (read grants)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.responses import Response

from faces.business.render import BUSINESS, ok
from faces.dependencies import BusinessActor, JsonPayload, QueriedIdentifier, ReadSession, UnitOfWork
from foundation.http.requests import parse_model
from registry.handles import read_grants as readers
from registry.kernel.values import MAX_INDEX

router = APIRouter(tags=["business: identifiers"], route_class=BUSINESS.route_class)


class Readers(BaseModel):
    index: int = Field(
        default=readers.WHOLE_IDENTIFIER,
        ge=0,
        le=MAX_INDEX,
        description="the value or template item; 0 (default) = all restricted values and the identifier's traceability",
    )
    readers: list[str] = Field(
        max_length=readers.MAX_READERS, description="enterprise:<id>, code:<credit code> or identity:<index:handle>"
    )


@router.get("/identityv2/data/readers", summary="Who may read the identifier's restricted values (its administrators)")
async def list_readers(ident: QueriedIdentifier, actor: BusinessActor, session: ReadSession) -> Response:
    await readers.require_reader_admin(session, actor, ident)
    granted = await readers.readers_of(session, ident.key)
    return ok({"handle": ident.handle, "readers": [{"index": i, "readers": names} for i, names in granted.items()]})


@router.put(
    "/identityv2/data/readers",
    summary="Set who may read one restricted value (index) or all of them (0); "
    "values are restricted by permissions without public read, e.g. 1100",
)
async def set_readers(
    ident: QueriedIdentifier, body: JsonPayload, actor: BusinessActor, session: UnitOfWork
) -> Response:
    data = parse_model(Readers, body)
    names = await readers.set_readers(session, actor, ident, data.index, data.readers)
    return ok({"handle": ident.handle, "index": data.index, "readers": names})
