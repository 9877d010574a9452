"""Business API: who may read an identifier's restricted values and template items (read grants)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from faces.actors import business_actor
from foundation.errors import InvalidRequest
from foundation.http.faces import parse_model, read_json, snms_ok
from registry.handles import read_grants as readers
from registry.kernel.identifiers import parse_identifier
from registry.kernel.values import MAX_INDEX

router = APIRouter(tags=["business: identifiers"])


class Readers(BaseModel):
    index: int = Field(default=readers.WHOLE_IDENTIFIER, ge=0, le=MAX_INDEX,
                       description="the value or template item; 0 (default) = all restricted values and the "
                                   "identifier's traceability")
    readers: list[str] = Field(max_length=readers.MAX_READERS,
                               description="enterprise:<id>, code:<credit code> or identity:<index:handle>")


def _identifier(request: Request):
    handle = request.query_params.get("handle", "")
    if not handle:
        raise InvalidRequest("handle is required", name="request.missing_parameter")
    return parse_identifier(request.app.state.settings, handle)


@router.get("/identityv2/data/readers", summary="Who may read the identifier's restricted values (its administrators)")
async def list_readers(request: Request) -> Response:
    ident = _identifier(request)
    async with request.app.state.db.read_session() as session:
        actor = await business_actor(request, session)
        await readers.require_reader_admin(session, actor, ident)
        granted = await readers.readers_of(session, ident.key)
    return snms_ok({"handle": ident.handle, "readers": [{"index": i, "readers": names}
                                                        for i, names in granted.items()]})


@router.put("/identityv2/data/readers", summary="Set who may read one restricted value (index) or all of them (0); "
                                                "values are restricted by permissions without public read, e.g. 1100")
async def set_readers(request: Request) -> Response:
    ident = _identifier(request)
    data = parse_model(Readers, await read_json(request))
    async with request.app.state.db.unit_of_work() as session:
        actor = await business_actor(request, session)
        names = await readers.set_readers(session, actor, ident, data.index, data.readers)
    return snms_ok({"handle": ident.handle, "index": data.index, "readers": names})
