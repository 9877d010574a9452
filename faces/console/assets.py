"""The console's static files, read once at start: only the files of ``static/`` can be served, by exact name."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).parent / "static"
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


def _load() -> dict[str, Asset]:
    if not STATIC.is_dir():  # a package built without its data files: the node still serves, the page lacks its script
        logging.getLogger("secnode").warning("secnode.console.assets_missing path=%s", STATIC)
        return {}
    assets = {}
    for path in sorted(STATIC.iterdir()):
        if path.suffix in _TYPES:
            body = path.read_bytes()
            assets[path.name] = Asset(body, _TYPES[path.suffix], f'"{hashlib.sha256(body).hexdigest()[:20]}"')
    return assets


ASSETS = _load()
