"""GS1 Digital Link URIs: parsing and writing, compared with GS1's own toolkit over a generated corpus, and the
refusals (bad check digits, unknown AIs, qualifiers out of order, percent-encoding tricks, oversized input)."""

import random

import pytest

from foundation.gs1.digital_link import DigitalLink, digital_link_uri, parse_digital_link, parse_key_path
from foundation.gs1.errors import (
    BadAICombination,
    BadAIValue,
    BadCheckDigit,
    BadDigitalLink,
    GS1Invalid,
    UnknownApplicationIdentifier,
)
from foundation.gs1.keys import make_key
from tests.foundation.gs1 import corpus

STEMS = ["https://id.gs1.org", "https://example.com/some/prefix", "http://resolver.example.com:8080"]


def _corpus(size: int, seed: int, alphabet=corpus.TOOLKIT_ALPHABET, kinds=corpus.TOOLKIT_KINDS):
    rng = random.Random(seed)
    for _ in range(size):
        key = corpus.key(rng, alphabet, kinds)
        yield DigitalLink(key, rng.choice(STEMS), corpus.attributes(rng, key))


def test_every_kind_of_key_and_character_reads_back_as_written():
    for link in _corpus(1000, seed=7, alphabet=corpus.CSET82, kinds=corpus.KINDS):
        assert parse_digital_link(link.uri) == link


def test_the_standards_examples():
    link = parse_digital_link("https://id.gs1.org/01/09520123456788/10/ABC%2F1/21/12345?17=201225&linkType=gs1:pip")
    assert link.key == make_key("01", "09520123456788", [("10", "ABC/1"), ("21", "12345")])
    assert link.attributes == (("17", "201225"),)
    assert link.parameter("linkType") == "gs1:pip"
    assert link.canonical_uri == "https://id.gs1.org/01/09520123456788/10/ABC%2F1/21/12345"
    assert parse_digital_link("https://example.com/01/9520123456788").key.value == "09520123456788"  # GTIN-13
    assert parse_digital_link("https://example.com/00/106141412345678908").key.ai == "00"
    gln = parse_digital_link("https://example.com/414/0614141123452/254/400")
    assert gln.key.qualifiers == (("254", "400"),)
    assert parse_digital_link("https://example.com/shop/a/b/01/09520123456788/").stem == "https://example.com/shop/a/b"


def test_parsing_agrees_with_gs1s_toolkit_over_a_corpus(toolkit):
    links = list(_corpus(400, seed=17))
    uris = [link.uri for link in links]
    answers = toolkit(extract=uris)["extract"]
    for link, uri, answer in zip(links, uris, answers, strict=True):
        assert "ok" in answer, (uri, answer)
        assert answer["ok"]["GS1"] == dict(link.key.elements + link.attributes), uri
        assert parse_digital_link(uri) == link


def test_uris_the_toolkit_builds_parse_to_the_same_key(toolkit):
    links = list(_corpus(300, seed=29))
    built = toolkit(build=[[dict(link.key.elements + link.attributes), link.stem] for link in links])["build"]
    for link, answer in zip(links, built, strict=True):
        assert "ok" in answer, answer
        parsed = parse_digital_link(answer["ok"])
        assert (parsed.key, dict(parsed.attributes)) == (link.key, dict(link.attributes)), answer["ok"]


def test_the_digital_link_grammar_accepts_what_is_written(toolkit):
    """digital-link.js checks a URI against GS1's ABNF grammar of Digital Link 1.1. That grammar spells each
    percent-encoded symbol as the text ``%x25`` (so it refuses ``%25``): the values here keep to characters that
    need no encoding."""
    plain = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-._"
    links = [link for link in _corpus(300, seed=41, alphabet=plain) if link.key.ai in ("01", "00", "414")]
    uris = [link.uri for link in links]
    answers = toolkit(grammar=uris)["grammar"]
    refused = [uri for uri, answer in zip(uris, answers, strict=True) if answer != {"ok": True}]
    assert refused == []


def test_a_wrong_check_digit_is_refused_by_both(toolkit):
    rng = random.Random(3)
    uris = []
    for _ in range(100):
        gtin = corpus.gtin(rng)
        wrong = gtin[:-1] + str((int(gtin[-1]) + rng.randint(1, 9)) % 10)
        uris.append(f"https://example.com/01/{wrong}/21/{rng.randint(1, 99999)}")
    answers = toolkit(extract=uris)["extract"]
    assert all("error" in answer for answer in answers)
    for uri in uris:
        with pytest.raises(BadCheckDigit):
            parse_digital_link(uri)


def test_qualifiers_out_of_order_are_refused_by_both(toolkit):
    uri = "https://example.com/01/09520123456788/21/12345/10/ABC"
    assert "error" in toolkit(extract=[uri])["extract"][0]
    with pytest.raises(BadAICombination) as caught:
        parse_digital_link(uri)
    assert "22/10/21" in caught.value.message


@pytest.mark.parametrize(
    "uri,error,reason",
    [
        ("https://example.com/01/09520123456789", BadCheckDigit, "check digit"),
        ("https://example.com/01/09520123456", BadAIValue, "too short"),
        ("https://example.com/01/09520123456788/99/x", BadAICombination, "not 99"),
        ("https://example.com/01/09520123456788/9999/x", UnknownApplicationIdentifier, "(9999)"),
        ("https://example.com/10/ABC", BadDigitalLink, "no GS1 primary key"),
        ("https://example.com/gtin/09520123456788", BadDigitalLink, "no GS1 primary key"),
        ("https://example.com/", BadDigitalLink, "no GS1 primary key"),
        ("https://example.com/01/09520123456788/10/A%2", BadDigitalLink, "malformed percent-encoding"),
        ("https://example.com/01/09520123456788/10/%FF", BadDigitalLink, "not UTF-8"),
        ("https://example.com/01/09520123456788/10/%E6%89%B9", BadAIValue, "set 82"),
        ("https://example.com/%30%31/09520123456788", BadDigitalLink, "no GS1 primary key"),
        ("https://example.com/01/09520123456788/10/a b", BadDigitalLink, "printable ASCII"),
        ("https://example.com/01/09520123456788/10/" + "x" * 21, BadAIValue, "too long"),
        ("https://example.com/01/09520123456788?10=ABC", BadDigitalLink, "belongs in the path"),
        ("https://example.com/01/09520123456788?21=1", BadDigitalLink, "belongs in the path"),
        ("https://example.com/01/09520123456788?8011=1", BadDigitalLink, "not a GS1 Digital Link data attribute"),
        ("https://example.com/01/09520123456788?17=201325", BadAIValue, "illegal month"),
        ("https://example.com/01/09520123456788?3103=000001&3102=000002", BadAICombination, "may not stand with"),
        ("https://example.com/00/106141412345678908?17=201225", BadAICombination, "needs"),
        ("https://example.com/01/09520123456788/235/x/21/1", BadAICombination, "in that order"),
        ("ftp://example.com/01/09520123456788", BadDigitalLink, "http or https"),
        ("https:///01/09520123456788", BadDigitalLink, "host"),
        ("https://example.com/01/09520123456788?x=" + "y" * 10_000, BadDigitalLink, "longer than"),
    ],
)
def test_refusals_say_why(uri, error, reason):
    with pytest.raises(error) as caught:
        parse_digital_link(uri)
    assert reason in caught.value.message
    assert isinstance(caught.value, GS1Invalid) and caught.value.status == 400


def test_writing_encodes_every_reserved_character_and_reads_back():
    key = make_key("01", "09520123456788", [("10", "/-\"%&'()*+,.:;<=>?_"), ("21", "a/b")])
    uri = digital_link_uri(key, "https://example.com")
    assert (
        uri == "https://example.com/01/09520123456788/10/%2F-%22%25%26%27%28%29%2A%2B%2C.%3A%3B%3C%3D%3E%3F_/21/a%2Fb"
    )
    assert parse_digital_link(uri).key == key


def test_the_key_path_alone_for_a_resolver():
    key, prefix = parse_key_path("/01/09520123456788/10/ABC/21/1")
    assert prefix == "" and key.canonical == "(01)09520123456788(10)ABC(21)1"
    assert [k.canonical for k in key.less_specific()] == [
        "(01)09520123456788(10)ABC(21)1",
        "(01)09520123456788(10)ABC",
        "(01)09520123456788",
    ]
