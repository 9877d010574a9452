"""Links a GS1-conformant resolver answers with: a link type of the GS1 Web Vocabulary (``gs1:pip``) or any absolute
URI of another vocabulary, a target, and what tells links of one type apart (language, media type, context).

A link is kept as a record value of type ``GS1_LINK`` whose string data is a JSON object (ADR 0016)::

    {"linkType": "gs1:pip", "href": "https://example.com/p/1", "title": "产品信息", "hreflang": ["zh"],
     "type": "text/html", "context": "cn", "default": true}

``linkType`` and ``href`` are required; ``default`` marks the link a plain scan is sent to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson

from foundation.gs1.errors import BadLink

LINK_TYPE = "GS1_LINK"
GS1_VOCABULARY = "https://gs1.org/voc/"
MAX_LINK_CHARS = 4096
# The link types of the GS1 Web Vocabulary (https://gs1.org/voc/, class gs1:LinkType)
GS1_LINK_TYPES = frozenset(
    [
        "activityIdeas",
        "allergenInfo",
        "appDownload",
        "brandHomepageClinical",
        "brandHomepagePatient",
        "careersInfo",
        "certificationInfo",
        "consumerHandlingStorageInfo",
        "defaultLink",
        "defaultLinkMulti",
        "epcis",
        "epil",
        "eventsInfo",
        "faqs",
        "handledBy",
        "hasRetailers",
        "homepage",
        "ingredientsInfo",
        "instructions",
        "jws",
        "leaveReview",
        "locationInfo",
        "logisticsInfo",
        "loyaltyProgram",
        "masterData",
        "menuInfo",
        "nutritionalInfo",
        "openingHoursInfo",
        "paymentLink",
        "pip",
        "productSustainabilityInfo",
        "promotion",
        "purchaseSuppliesOrAccessories",
        "quickStartGuide",
        "recallStatus",
        "recipeInfo",
        "registerProduct",
        "registryEntry",
        "relatedVideo",
        "review",
        "safetyInfo",
        "scheduleTime",
        "serviceInfo",
        "smartLabel",
        "smpc",
        "socialMedia",
        "statisticInfo",
        "support",
        "sustainabilityInfo",
        "traceability",
        "tutorial",
        "userAgreement",
        "verificationService",
        "whatsInTheBox",
    ]
)
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_MEDIA_TYPE = re.compile(r"^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$", re.IGNORECASE)


@dataclass(frozen=True)
class Link:
    link_type: str  # expanded: https://gs1.org/voc/pip, or another vocabulary's absolute URI
    href: str
    title: str | None = None
    hreflang: tuple[str, ...] = ()
    media_type: str | None = None
    context: str | None = None
    default: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def curie(self) -> str:
        """``gs1:pip`` for the GS1 vocabulary, the URI itself otherwise."""
        if self.link_type.startswith(GS1_VOCABULARY):
            return "gs1:" + self.link_type[len(GS1_VOCABULARY) :]
        return self.link_type

    def target(self) -> dict[str, Any]:
        """The link as an RFC 9264 target object."""
        out: dict[str, Any] = {"href": self.href}
        if self.title:
            out["title"] = self.title
        if self.hreflang:
            out["hreflang"] = list(self.hreflang)
        if self.media_type:
            out["type"] = self.media_type
        if self.context:
            out["context"] = self.context
        return out


def expand_link_type(text: str) -> str:
    """``gs1:pip`` (or ``pip``, or its full URI) to ``https://gs1.org/voc/pip``; another absolute URI as it is.
    BadLink for a gs1 term the vocabulary does not have."""
    term = text.removeprefix("gs1:").removeprefix(GS1_VOCABULARY)
    if term in GS1_LINK_TYPES:
        return GS1_VOCABULARY + term
    if ":" in text and not text.startswith("gs1:") and _absolute(text):
        return text
    raise BadLink(f"link type {text[:80]!r} is neither in the GS1 Web Vocabulary nor an absolute URI")


def _absolute(uri: str) -> bool:
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    return bool(parts.scheme) and bool(parts.netloc or parts.path) and uri.isprintable() and " " not in uri


def _text(raw: dict[str, Any], name: str, limit: int = 300) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise BadLink(f"{name} is a string of 1 to {limit} characters")
    return value


def parse_link(text: Any) -> Link:
    """A GS1_LINK value's JSON text as a Link; BadLink says what is wrong."""
    if not isinstance(text, str) or len(text) > MAX_LINK_CHARS:
        raise BadLink(f"a GS1_LINK value is a JSON object of at most {MAX_LINK_CHARS} characters")
    try:
        raw = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise BadLink("a GS1_LINK value is a JSON object (it is not JSON)") from None
    if not isinstance(raw, dict):
        raise BadLink("a GS1_LINK value is a JSON object")
    link_type, href = _text(raw, "linkType", 500), _text(raw, "href", 2000)
    if link_type is None or href is None:
        raise BadLink("a GS1_LINK value needs linkType and href")
    parts = urlsplit(href)
    if parts.scheme not in ("http", "https") or not parts.netloc or not href.isprintable() or " " in href:
        raise BadLink(f"href {href[:80]!r} is not an absolute http(s) URI")
    languages = raw.get("hreflang", [])
    if isinstance(languages, str):
        languages = [languages]
    if not isinstance(languages, list) or not all(isinstance(x, str) and _LANGUAGE.match(x) for x in languages):
        raise BadLink("hreflang is a language tag or a list of them (BCP 47)")
    media_type = _text(raw, "type", 100)
    if media_type is not None and not _MEDIA_TYPE.match(media_type):
        raise BadLink(f"type {media_type!r} is not a media type")
    default = raw.get("default", False)
    if not isinstance(default, bool):
        raise BadLink("default is true or false")
    known = {"linkType", "href", "title", "hreflang", "type", "context", "default"}
    return Link(
        link_type=expand_link_type(link_type),
        href=href,
        title=_text(raw, "title"),
        hreflang=tuple(languages),
        media_type=media_type,
        context=_text(raw, "context", 100),
        default=default,
        extra={k: v for k, v in raw.items() if k not in known},
    )
