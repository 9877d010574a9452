"""The two baselines of the resolve benchmark, served with the same server settings as the node:
a bare Starlette route returning a constant JSON body, and a bare route doing one asyncpg primary-key SELECT."""

from __future__ import annotations

import os
from contextlib import asynccontextmanager

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

CONSTANT = (
    b'{"responseCode":1,"handle":"88.118.1001/COIL-000000001","values":[{"index":1001,"type":"TEMPLATE",'
    b'"data":{"format":"string","value":"{\\"prefix\\":\\"88.118\\",\\"version\\":\\"steel-coil-1.0\\"}"},'
    b'"ttl":86400,"timestamp":"2026-11-27T00:00:00Z"},{"index":2000,"type":"coilNo","data":{"format":'
    b'"string","value":"C000000001"},"ttl":86400,"timestamp":"2026-11-27T00:00:00Z"}]}'
)


async def constant(request: Request) -> Response:
    return Response(CONSTANT, media_type="application/json")


async def select(request: Request) -> Response:
    key = request.path_params["handle"].lower()
    async with request.app.state.pool.acquire() as connection:
        row = await connection.fetchrow('SELECT "values" FROM handles WHERE handle_key = $1', key)
    if row is None:
        return Response(b'{"responseCode":100}', status_code=404, media_type="application/json")
    return Response(b'{"responseCode":1,"values":' + row[0].encode() + b"}", media_type="application/json")


@asynccontextmanager
async def lifespan(app: Starlette):
    app.state.pool = await asyncpg.create_pool(os.environ["BASELINE_DSN"], min_size=2, max_size=10)
    yield
    await app.state.pool.close()


app = Starlette(
    routes=[Route("/const/{handle:path}", constant), Route("/select/{handle:path}", select)], lifespan=lifespan
)
