"""Trace edges into other nodes: the frontier's identifiers of other nodes are asked of their home nodes, one
signed request per node and level, on behalf of the asking enterprise (ADR 0005)."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from foundation.config import Settings
from foundation.crypto.keys import load_signing_key
from foundation.federation import PrefixLocator, node_request

NEIGHBOURS_PATH = "/federation/v1/trace/neighbours"
MAX_HANDLES = 1000  # per node request

Status = tuple[str, str]  # (found | unknown | deleted | unauthorised | foreign | unreachable, spelling)
Link = tuple[str, str, int | str, str]  # (key, neighbour key, event seq here or eventID elsewhere, kind)

log = logging.getLogger("secnode.federation")


class RemoteTrace:
    def __init__(self, settings: Settings, locator: PrefixLocator, http: httpx.AsyncClient):
        self.settings, self.locator, self.http = settings, locator, http
        self._key: Ed25519PrivateKey | None = None

    def _signing_key(self) -> Ed25519PrivateKey:
        if self._key is None:
            self._key = load_signing_key(self.settings.node_key_file)
        return self._key

    async def expand(
        self, keys: list[str], direction: str, on_behalf_of: str | None
    ) -> tuple[dict[str, Status], list[Link]]:
        """Statuses of ``keys`` at their home nodes, and the links of those found there."""
        statuses: dict[str, Status] = {}
        by_home: dict[str, list[str]] = defaultdict(list)
        for key in keys:
            home = await self.locator.locate(key.partition("/")[0])
            if home is None:
                statuses[key] = ("foreign", key)
            else:
                by_home[home.rstrip("/")].append(key)
        batches = [
            (home, group[i : i + MAX_HANDLES])
            for home, group in by_home.items()
            for i in range(0, len(group), MAX_HANDLES)
        ]
        answers = await asyncio.gather(*(self._ask(home, batch, direction, on_behalf_of) for home, batch in batches))
        links: list[Link] = []
        for batch_statuses, batch_links in answers:
            statuses.update(batch_statuses)
            links.extend(batch_links)
        return statuses, links

    async def _ask(
        self, home: str, keys: list[str], direction: str, on_behalf_of: str | None
    ) -> tuple[dict[str, Status], list[Link]]:
        unreachable: tuple[dict[str, Status], list[Link]] = ({k: ("unreachable", k) for k in keys}, [])
        try:
            body, headers = node_request(
                {"direction": direction, "handles": keys, "onBehalfOf": on_behalf_of},
                self.settings.node_prefix,
                self._signing_key(),
            )
            response = await self.http.post(home + NEIGHBOURS_PATH, content=body, headers=headers)
        except (OSError, ValueError, httpx.HTTPError) as exc:
            log.warning("trace: %s did not answer (%s)", home, exc)
            return unreachable
        if response.status_code != 200:
            log.warning("trace: %s refused (%s %s)", home, response.status_code, response.text[:200])
            return unreachable
        return _read_answer(response.content, set(keys)) or unreachable


def _read_answer(content: bytes, asked: set[str]) -> tuple[dict[str, Status], list[Link]] | None:
    """The statuses and links of the identifiers asked about; anything else in the answer is ignored."""
    try:
        answer = orjson.loads(content)
        statuses: dict[str, Status] = {
            s["handle"]: (str(s["status"]), str(s["id"])) for s in answer["statuses"] if s["handle"] in asked
        }
        links: list[Link] = [
            (link["handle"], str(link["neighbour"]), str(link["event"]), str(link["kind"]))
            for link in answer["links"]
            if link["handle"] in asked and statuses.get(link["handle"], ("",))[0] == "found"
        ]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return statuses, links


def neighbours_answer(statuses: dict[str, Status], links: list[Any], event_ids: dict[int, str]) -> dict[str, Any]:
    """The wire form of a neighbours answer (what ``_read_answer`` reads)."""
    return {
        "statuses": [{"handle": k, "status": s, "id": spelling} for k, (s, spelling) in statuses.items()],
        "links": [
            {
                "handle": key,
                "neighbour": neighbour,
                "kind": kind,
                "event": event_ids.get(event, "") if isinstance(event, int) else event,
            }
            for key, neighbour, event, kind in links
        ],
    }
