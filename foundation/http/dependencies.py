"""Request plumbing every face shares, as FastAPI dependencies: the node's settings, its database and budgets, the
unit of work and the read session, the JSON body. With ``faces.dependencies`` the only code that reads the
application's state (which the assembly fills).

``UnitOfWork`` is a write session that commits when the endpoint returns (before the answer is sent) and rolls
back when it raises; ``ReadSession`` may read a replica."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from sqlalchemy.ext.asyncio import AsyncSession

from foundation.db import Database
from foundation.errors import BadPage
from foundation.http.budgets import Budgets
from foundation.http.node_settings import NodeSettings
from foundation.http.requests import page_window, read_json

__all__ = [
    "JsonPayload",
    "NodeDatabase",
    "NodeRedis",
    "NodeSettings",
    "PageWindow",
    "ReadSession",
    "RequestBudgets",
    "UnitOfWork",
]


def _database(request: Request) -> Database:
    return request.app.state.db


def _budgets(request: Request) -> Budgets:
    return request.app.state.budgets


NodeDatabase = Annotated[Database, Depends(_database)]
RequestBudgets = Annotated[Budgets, Depends(_budgets)]


async def _unit_of_work(db: NodeDatabase) -> AsyncIterator[AsyncSession]:
    async with db.unit_of_work() as session:
        yield session


async def _read_session(db: NodeDatabase) -> AsyncIterator[AsyncSession]:
    async with db.read_session() as session:
        yield session


# scope="function": the session ends when the endpoint returns, so a failed commit is answered as an error
UnitOfWork = Annotated[AsyncSession, Depends(_unit_of_work, scope="function")]
ReadSession = Annotated[AsyncSession, Depends(_read_session, scope="function")]


async def _json_body(request: Request) -> Any:
    return await read_json(request)


JsonPayload = Annotated[Any, Depends(_json_body)]
"""The request body as JSON (``request.empty_body`` / ``request.malformed_json`` otherwise)."""


def _redis(request: Request) -> Redis | RedisCluster | None:
    return request.app.state.redis


NodeRedis = Annotated[Redis | RedisCluster | None, Depends(_redis)]
"""The node's Redis, or None for the embedded node (in-process cache only)."""


def _page_window(
    page: Annotated[str, Query(description="page number, from 0")] = "0",
    pageSize: Annotated[str, Query(description="rows per page, 1..1000")] = "100",  # noqa: N803
) -> tuple[int, int]:
    # parsed here rather than typed: a malformed page is refused before the caller is authenticated
    try:
        return page_window(int(page), int(pageSize))
    except ValueError:
        raise BadPage("page and pageSize must be integers") from None


PageWindow = Annotated[tuple[int, int], Depends(_page_window)]
"""(limit, offset) of the listing page the ``page`` and ``pageSize`` query parameters ask for."""
