"""EPC URNs ↔ GS1 keys, compared with the PyPI package epcpy (an independent implementation of GS1's EPC Tag Data
Standard) over a generated corpus, then Digital Link ↔ EPC URN through the key."""

import random

import pytest
from epcpy.epc_schemes.giai import GIAI
from epcpy.epc_schemes.grai import GRAI
from epcpy.epc_schemes.lgtin import LGTIN
from epcpy.epc_schemes.sgln import SGLN
from epcpy.epc_schemes.sgtin import SGTIN
from epcpy.epc_schemes.sscc import SSCC

from foundation.gs1.digital_link import digital_link_uri, parse_digital_link
from foundation.gs1.epc import epc_urn, key_from_epc_urn
from foundation.gs1.errors import BadEpcUri
from foundation.gs1.keys import make_key
from tests.foundation.gs1 import corpus

# Characters of set 82 that epcpy 0.1.8 handles: it splits URNs at ":", and mis-escapes "%" and "/" followed by
# hex-looking text, and refuses some of the others it should escape; test_escaped_characters holds those.
EPC_ALPHABET = "".join(c for c in corpus.CSET82 if c not in '"%&/<>?:')  # epcpy splits URNs at ":"
SCHEMES = {"sgtin": SGTIN, "sscc": SSCC, "sgln": SGLN, "grai": GRAI, "giai": GIAI, "lgtin": LGTIN}


def _urns(rng: random.Random, count: int):
    for _ in range(count):
        cp = corpus.company_prefix(rng)
        n = len(cp)
        scheme = rng.choice(list(SCHEMES))
        text = corpus.text82(rng, 1, 20, EPC_ALPHABET)
        if scheme == "sgtin":
            yield f"urn:epc:id:sgtin:{cp}.{corpus.digits(rng, 13 - n)}.{text}"
        elif scheme == "lgtin":
            yield f"urn:epc:class:lgtin:{cp}.{corpus.digits(rng, 13 - n)}.{text}"
        elif scheme == "sscc":
            yield f"urn:epc:id:sscc:{cp}.{corpus.digits(rng, 17 - n)}"
        elif scheme == "sgln":
            yield f"urn:epc:id:sgln:{cp}.{corpus.digits(rng, 12 - n)}.{text}"
        elif scheme == "grai":
            yield f"urn:epc:id:grai:{cp}.{corpus.digits(rng, 12 - n)}.{text[:16]}"
        else:
            yield f"urn:epc:id:giai:{cp}.{corpus.text82(rng, 1, 30 - n, EPC_ALPHABET)}"


def test_urns_read_as_epcpy_reads_them_and_write_back_unchanged():
    rng = random.Random(11)
    for urn in _urns(rng, 600):
        scheme = urn.split(":")[3]
        key = key_from_epc_urn(urn)
        expected = SCHEMES[scheme](urn).gs1_element_string()
        if scheme == "sgln" and expected.endswith("(254)0"):
            expected = expected[: -len("(254)0")]  # TDS: extension 0 is no extension; epcpy writes it out
        assert key.canonical == expected, urn
        company_prefix_length = len(urn.split(":")[4].split(".")[0])
        assert epc_urn(key, company_prefix_length) == urn


def test_keys_write_the_urns_epcpy_writes():
    rng = random.Random(13)
    for _ in range(300):
        cp = corpus.company_prefix(rng)
        gtin = corpus.with_check(str(rng.randint(0, 8)) + cp + corpus.digits(rng, 12 - len(cp)))
        serial = corpus.text82(rng, 1, 20, EPC_ALPHABET)
        key = make_key("01", gtin, [("21", serial)])
        expected = SGTIN.from_gs1_element_string(key.canonical, company_prefix_length=len(cp)).epc_uri
        assert epc_urn(key, len(cp)) == expected
        assert key_from_epc_urn(expected) == key


def test_escaped_characters():
    key = make_key("01", "80614141123458", [("21", 'a/b%c"d&e<f>g?')])
    urn = "urn:epc:id:sgtin:0614141.812345.a%2Fb%25c%22d%26e%3Cf%3Eg%3F"
    assert epc_urn(key, 7) == urn and key_from_epc_urn(urn) == key
    assert SGTIN.from_gs1_element_string("(01)80614141123458(21)67/89", company_prefix_length=7).epc_uri == (
        epc_urn(make_key("01", "80614141123458", [("21", "67/89")]), 7)
    )


def test_class_urns_and_the_gln_extension():
    assert key_from_epc_urn("urn:epc:idpat:sgtin:4012345.012345.*").canonical == "(01)04012345123456"
    assert epc_urn(make_key("01", "04012345123456"), 7) == "urn:epc:idpat:sgtin:4012345.012345.*"
    # TDS: the SGLN extension 0 stands for "no extension", so the GLN has no (254)
    assert key_from_epc_urn("urn:epc:id:sgln:0614141.12345.0").canonical == "(414)0614141123452"
    assert epc_urn(make_key("414", "0614141123452"), 7) == "urn:epc:id:sgln:0614141.12345.0"


def test_a_digital_link_and_its_urn_name_one_key():
    link = parse_digital_link("https://example.com/01/80614141123458/21/6789")
    assert epc_urn(link.key, 7) == "urn:epc:id:sgtin:0614141.812345.6789"
    assert digital_link_uri(key_from_epc_urn("urn:epc:id:sgtin:0614141.812345.6789")) == (
        "https://id.gs1.org/01/80614141123458/21/6789"
    )
    sscc = key_from_epc_urn("urn:epc:id:sscc:0614141.1234567890")
    assert digital_link_uri(sscc) == "https://id.gs1.org/00/106141412345678908"


@pytest.mark.parametrize(
    "urn,reason",
    [
        ("urn:epc:id:sgtin:0614141.812345", "3 parts"),
        ("urn:epc:id:sgtin:061.812345.1", "6 to 12 digits"),
        ("urn:epc:id:sgtin:0614141.81234.1", "6 digits"),
        ("urn:epc:id:sgtin:0614141.812345.", "empty value"),
        ("urn:epc:id:sgtin:0614141.812345.a%2", "%22 %25"),
        ("urn:epc:id:sgtin:0614141.812345." + "x" * 21, "too long"),
        ("urn:epc:id:sgtin:0614141.812345.a b", "set 82"),
        ("urn:epc:id:gdti:0614141.12345.1", "not a scheme this node maps"),
        ("urn:epc:idpat:sgtin:0614141.812345.1", "ends in .*"),
        ("urn:isbn:12345", "not an EPC URN"),
        ("urn:epc:id:grai:0614141.12345.", "has a serial"),
        ("urn:epc:id:sscc:0614141.1234567890" + "1" * 600, "longer than"),
    ],
)
def test_refusals_say_why(urn, reason):
    with pytest.raises(BadEpcUri) as caught:
        key_from_epc_urn(urn)
    assert reason in caught.value.message
