"""EPC pure-identity URNs and EPC class URNs (GS1 EPC Tag Data Standard 2.x, §6–§7) to and from GS1 keys.

| URN | GS1 key |
|---|---|
| ``urn:epc:id:sgtin:CP.IR.SERIAL`` | ``(01)`` GTIN + ``(21)`` serial |
| ``urn:epc:id:sscc:CP.SR`` | ``(00)`` SSCC |
| ``urn:epc:id:sgln:CP.LR.EXT`` | ``(414)`` GLN, + ``(254)`` extension unless it is ``0`` |
| ``urn:epc:id:grai:CP.AT.SERIAL`` | ``(8003)`` GRAI with its serial |
| ``urn:epc:id:giai:CP.IAR`` | ``(8004)`` GIAI |
| ``urn:epc:class:lgtin:CP.IR.LOT`` | ``(01)`` GTIN + ``(10)`` lot |
| ``urn:epc:idpat:sgtin:CP.IR.*`` | ``(01)`` GTIN (the class of all its instances) |

A URN splits the key at the GS1 Company Prefix (CP), so turning a key into a URN needs the prefix's length (6 to 12
digits), which a key alone does not tell; a URN carries it. Serials, lots and GIAI references escape ``"%&/<>?`` as
``%22 %25 %26 %2F %3C %3E %3F`` (TDS §5, the characters of set 82 an URN may not carry as they are).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from foundation.gs1.checkdigits import mod10
from foundation.gs1.errors import BadEpcUri, GS1Invalid
from foundation.gs1.keys import GS1Key, make_key

_ESCAPED = {'"': "%22", "%": "%25", "&": "%26", "/": "%2F", "<": "%3C", ">": "%3E", "?": "%3F"}
_UNESCAPED = {code: char for char, code in _ESCAPED.items()}
_ESCAPE_SEQUENCE = re.compile(r"%(?:22|25|26|2F|3C|3E|3F)", re.IGNORECASE)
_URN = re.compile(r"^urn:epc:(id|class|idpat):([a-z]+):(.+)$", re.IGNORECASE)
_DIGITS = re.compile(r"^[0-9]+$")
MAX_URN_LENGTH = 512


def escape(text: str) -> str:
    return "".join(_ESCAPED.get(c, c) for c in text)


def unescape(text: str) -> str:
    if "%" in _ESCAPE_SEQUENCE.sub("", text):
        raise BadEpcUri("a % in an EPC URN component must start one of %22 %25 %26 %2F %3C %3E %3F")
    return _ESCAPE_SEQUENCE.sub(lambda m: _UNESCAPED[m.group(0).upper()], text)


def _digits(text: str, what: str, length: int | None = None) -> str:
    if length == 0 and text == "":
        return text  # a 12-digit company prefix leaves no room for a GLN's location reference or a GRAI's type
    if not _DIGITS.match(text) or (length is not None and len(text) != length):
        raise BadEpcUri(f"{what} must be {length or 'some'} digits" if length else f"{what} must be digits")
    return text


def _company_prefix(text: str) -> str:
    if not _DIGITS.match(text) or not 6 <= len(text) <= 12:
        raise BadEpcUri("the GS1 Company Prefix of an EPC URN is 6 to 12 digits")
    return text


def _gtin(company_prefix: str, item_reference: str) -> str:
    cp = _company_prefix(company_prefix)
    ir = _digits(item_reference, "the indicator and item reference", 13 - len(cp))
    body = ir[0] + cp + ir[1:]
    return body + mod10(body)


def _sgtin(body: str) -> GS1Key:
    cp, ir, serial = _expect(body, 3, "sgtin")
    return make_key("01", _gtin(cp, ir), [("21", unescape(serial))])


def _lgtin(body: str) -> GS1Key:
    cp, ir, lot = _expect(body, 3, "lgtin")
    return make_key("01", _gtin(cp, ir), [("10", unescape(lot))])


def _sgtin_class(body: str) -> GS1Key:
    cp, ir, star = _expect(body, 3, "sgtin")
    if star != "*":
        raise BadEpcUri("an sgtin id pattern of a class ends in .*")
    return make_key("01", _gtin(cp, ir))


def _sscc(body: str) -> GS1Key:
    cp, serial_reference = _expect(body, 2, "sscc")
    _company_prefix(cp)
    sr = _digits(serial_reference, "the extension and serial reference", 17 - len(cp))
    body = sr[0] + cp + sr[1:]
    return make_key("00", body + mod10(body))


def _sgln(body: str) -> GS1Key:
    cp, location_reference, extension = _expect(body, 3, "sgln")
    _company_prefix(cp)
    body = cp + _digits(location_reference, "the location reference", 12 - len(cp))
    extension = unescape(extension)
    return make_key("414", body + mod10(body), [("254", extension)] if extension != "0" else [])


def _grai(body: str) -> GS1Key:
    cp, asset_type, serial = _expect(body, 3, "grai")
    _company_prefix(cp)
    body = cp + _digits(asset_type, "the asset type", 12 - len(cp))
    if not serial:
        raise BadEpcUri("a GRAI EPC URN has a serial")
    return make_key("8003", "0" + body + mod10(body) + unescape(serial))


def _giai(body: str) -> GS1Key:
    cp, reference = _expect(body, 2, "giai")
    return make_key("8004", _company_prefix(cp) + unescape(reference))


def _expect(body: str, count: int, scheme: str) -> list[str]:
    """The parts of an URN's body: the last may hold dots of its own (a serial, a lot, an asset reference)."""
    parts = body.split(".", count - 1)
    if len(parts) != count:
        raise BadEpcUri(f"an {scheme} EPC URN has {count} parts separated by dots")
    return parts


_READERS: dict[tuple[str, str], Callable[[str], GS1Key]] = {
    ("id", "sgtin"): _sgtin,
    ("id", "sscc"): _sscc,
    ("id", "sgln"): _sgln,
    ("id", "grai"): _grai,
    ("id", "giai"): _giai,
    ("class", "lgtin"): _lgtin,
    ("idpat", "sgtin"): _sgtin_class,
}


def key_from_epc_urn(urn: str) -> GS1Key:
    """The GS1 key an EPC URN names (check digit computed, every value validated); BadEpcUri otherwise."""
    if len(urn) > MAX_URN_LENGTH:
        raise BadEpcUri(f"longer than {MAX_URN_LENGTH} characters")
    match = _URN.match(urn)
    if match is None:
        raise BadEpcUri("not an EPC URN (urn:epc:id:…, urn:epc:class:…, urn:epc:idpat:…)")
    kind, scheme, body = match.group(1).lower(), match.group(2).lower(), match.group(3)
    reader = _READERS.get((kind, scheme))
    if reader is None:
        raise BadEpcUri(f"urn:epc:{kind}:{scheme} is not a scheme this node maps to GS1 keys")
    try:
        return reader(body)
    except BadEpcUri:
        raise
    except GS1Invalid as error:
        raise BadEpcUri(f"{urn[:80]}: {error.message}", ai=error.ai) from None


def _split(value: str, start: int, company_prefix_length: int) -> tuple[str, str]:
    if not 6 <= company_prefix_length <= 12:
        raise BadEpcUri("a GS1 Company Prefix is 6 to 12 digits long")
    return value[start : start + company_prefix_length], value[start + company_prefix_length :]


def epc_urn(key: GS1Key, company_prefix_length: int) -> str:
    """The EPC URN of a key, split after a GS1 Company Prefix of ``company_prefix_length`` digits. GTIN with serial
    → sgtin, GTIN with lot → lgtin class, bare GTIN → sgtin id pattern, SSCC, GLN (with extension), GRAI with a
    serial, GIAI. BadEpcUri for keys EPC has no URN for here."""
    ai, value, qualifiers = key.ai, key.value, dict(key.qualifiers)
    if ai == "01" and set(qualifiers) <= {"21", "10", "22"} and "22" not in qualifiers:
        cp, rest = _split(value, 1, company_prefix_length)
        ir = value[0] + rest[:-1]
        if "21" in qualifiers:
            return f"urn:epc:id:sgtin:{cp}.{ir}.{escape(qualifiers['21'])}"
        if "10" in qualifiers:
            return f"urn:epc:class:lgtin:{cp}.{ir}.{escape(qualifiers['10'])}"
        return f"urn:epc:idpat:sgtin:{cp}.{ir}.*"
    if ai == "00":
        cp, rest = _split(value, 1, company_prefix_length)
        return f"urn:epc:id:sscc:{cp}.{value[0]}{rest[:-1]}"
    if ai == "414":
        cp, rest = _split(value, 0, company_prefix_length)
        return f"urn:epc:id:sgln:{cp}.{rest[:-1]}.{escape(qualifiers.get('254', '0'))}"
    if ai == "8003" and len(value) > 14:
        cp, rest = _split(value[:14], 1, company_prefix_length)
        return f"urn:epc:id:grai:{cp}.{rest[:-1]}.{escape(value[14:])}"
    if ai == "8004":
        cp, rest = _split(value, 0, company_prefix_length)
        if not cp.isdigit():
            raise BadEpcUri("the GIAI does not begin with a GS1 Company Prefix of that length")
        return f"urn:epc:id:giai:{cp}.{escape(rest)}"
    raise BadEpcUri(f"no EPC URN for the key {key.canonical[:80]}")
