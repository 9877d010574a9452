"""Compressed GS1 Digital Link URIs: what GS1's toolkit compresses, foundation.gs1 reads back to the same key,
attributes and parameters; malformed compressed segments are refused.

The toolkit computes in JavaScript numbers: it packs numeric values of more than 15 digits (SSCC, GSIN, GSRN, ITIP)
wrongly, and writes the value bits of an AI with a numeric component followed by an alphanumeric one twice (GRAI,
GDTI). The corpus keeps to the keys it packs right: GTIN with qualifiers and data attributes, GLN with extension,
GIAI."""

import random

import pytest

from foundation.gs1.digital_link import DigitalLink, parse_digital_link
from foundation.gs1.errors import GS1Invalid
from foundation.gs1.keys import make_key
from tests.foundation.gs1 import corpus

PACKED_RIGHT = ("gtin", "gtin", "gln", "giai")


def _links(count: int, seed: int):
    rng = random.Random(seed)
    for _ in range(count):
        key = corpus.key(rng, corpus.TOOLKIT_ALPHABET, PACKED_RIGHT)
        yield DigitalLink(key, "https://id.gs1.org", corpus.attributes(rng, key))


def test_what_the_toolkit_compresses_reads_back(toolkit):
    links = list(_links(300, seed=23))
    packed = toolkit(compress=[[link.uri, "https://id.gs1.org"] for link in links])["compress"]
    for link, answer in zip(links, packed, strict=True):
        assert "ok" in answer, (link.uri, answer)
        compressed = answer["ok"]
        assert "/01/" not in compressed and "/414/" not in compressed and "/8004/" not in compressed
        read = parse_digital_link(compressed)
        assert (read.key, dict(read.attributes)) == (link.key, dict(link.attributes)), (link.uri, compressed)


def test_a_parameter_that_is_no_ai_travels_packed_too(toolkit):
    uri = "https://id.gs1.org/01/09520123456788/21/12345?thngId=UMwxDXBdUbxgtyRaR2HBrc4r"
    packed = toolkit(compress=[[uri, "https://id.gs1.org", True]])["compress"][0]["ok"]
    assert "?" not in packed
    link = parse_digital_link(packed + "?linkType=gs1:pip")
    assert link.key == make_key("01", "09520123456788", [("21", "12345")])
    assert link.parameter("thngId") == "UMwxDXBdUbxgtyRaR2HBrc4r" and link.parameter("linkType") == "gs1:pip"


@pytest.mark.parametrize(
    "segment,reason",
    [
        ("ZZZZZZZZZZZZ", "no AI begins with 65"),
        ("AQnYUc1gDv0", "names no AI or sequence"),
        ("A" * 2000, "at most 1024 characters"),
        ("GhFRJydaKIlXgmJBIKMDkxAwAM!", "no GS1 primary key"),
        ("GhFRJydaKIlXgmJB", "the bits end inside a value"),
    ],
)
def test_malformed_compressed_links_are_refused(segment, reason):
    with pytest.raises(GS1Invalid) as caught:
        parse_digital_link(f"https://id.gs1.org/{segment}")
    assert reason in caught.value.message, caught.value.message
