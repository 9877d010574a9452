"""QR codes of identifiers, drawn as SVG on the server (segno: pure Python, no image library)."""

from __future__ import annotations

import io
import re

import segno

from foundation.errors import BadQrText

MAX_BYTES = 255  # the longest identifier any mode of the node accepts
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def qr_svg(text: str) -> bytes:
    """The identifier itself is encoded (not a URL of this node), so any resolution client can read it."""
    if not text or len(text.encode("utf-8")) > MAX_BYTES or _CONTROL.search(text):
        raise BadQrText(MAX_BYTES)
    buffer = io.BytesIO()
    segno.make_qr(text, error="m").save(buffer, kind="svg", scale=4, border=4, xmldecl=False, light="#fff")
    return buffer.getvalue()
