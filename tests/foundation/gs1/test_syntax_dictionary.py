"""The GS1 syntax dictionary as read, the linters against GS1's own unit-test vectors, and AI values and pairings."""

import json
from pathlib import Path

import pytest

from foundation.gs1.checkdigits import check_pair, has_valid_mod10, mod10
from foundation.gs1.dictionary import dictionary, lookup
from foundation.gs1.elements import check_combination, check_value
from foundation.gs1.errors import BadAICombination, BadAIValue, BadCheckDigit, UnknownApplicationIdentifier
from foundation.gs1.linters import LINTERS

VECTORS = json.loads((Path(__file__).parent / "data" / "linter-vectors.json").read_text())["vectors"]
IMPLEMENTED = [v for v in VECTORS if v["linter"] in LINTERS]


def test_the_dictionary_holds_every_gs1_key_and_its_qualifiers():
    table = dictionary()
    assert len(table) > 500
    primary = {ai for ai, entry in table.items() if entry.is_primary_key}
    assert {
        "00",
        "01",
        "253",
        "255",
        "401",
        "402",
        "414",
        "417",
        "8003",
        "8004",
        "8006",
        "8010",
        "8013",
        "8017",
    } <= primary
    assert lookup("01").dl_qualifiers == (("22", "10", "21"), ("235",))
    assert lookup("414").dl_qualifiers == (("254",), ("7040",))
    assert lookup("00").dl_qualifiers == ((),)
    assert lookup("3103").title == "NET WEIGHT (kg)" and lookup("3103").dl_attribute
    assert lookup("21").dl_attribute is False  # a serial only ever stands in the path
    assert lookup("99").title == "INTERNAL" and lookup("9999") is None


def test_the_linters_cover_gs1_unit_test_vectors():
    assert len(IMPLEMENTED) > 900, "the vectors are GS1's; most of them must be exercised"
    wrong = [v for v in IMPLEMENTED if (LINTERS[v["linter"]](v["data"]) is None) != v["valid"]]
    assert wrong == []


@pytest.mark.parametrize(
    "body,check",
    [("0952012345678", "8"), ("950110153000", "3"), ("6141411234567", "5"), ("0614141000005", "2"), ("", "0")],
)
def test_mod10_check_digits(body, check):
    assert mod10(body) == check
    assert has_valid_mod10(body + check) == bool(body)


def test_check_pair_of_a_gmn():
    # GS1 General Specifications §7.9.5 example: GMN 1987654Ad4X4bL5ttr2310c2K
    assert check_pair("1987654Ad4X4bL5ttr2310c") == "2K"
    check_value("8013", "1987654Ad4X4bL5ttr2310c2K")
    with pytest.raises(BadCheckDigit):
        check_value("8013", "1987654Ad4X4bL5ttr2310c2L")


@pytest.mark.parametrize(
    "ai,value",
    [
        ("01", "09520123456788"),
        ("00", "106141412345678908"),
        ("414", "0614141123452"),
        ("8003", "00614141123452400"),
        ("8004", "061414112345400"),
        ("10", "/-\"%&'()*+,.:;<=>?_"),
        ("7007", "260131"),
        ("7007", "260131260228"),
        ("8006", "950123456789030102"),
        ("3103", "000195"),
    ],
)
def test_valid_values(ai, value):
    check_value(ai, value)


@pytest.mark.parametrize(
    "ai,value,error,reason",
    [
        ("01", "09520123456789", BadCheckDigit, "wrong check digit: 9, expected 8"),
        ("01", "0952012345678", BadAIValue, "too short"),
        ("01", "095201234567880", BadAIValue, "too long"),
        ("01", "0952012345678X", BadAIValue, "digits only"),
        ("00", "106141412345678909", BadCheckDigit, "check digit"),
        ("8003", "10614141123452400", BadAIValue, "must be zero"),
        ("10", "", BadAIValue, "empty"),
        ("10", "x" * 21, BadAIValue, "too long"),
        ("10", "lot with space", BadAIValue, "character ' '"),
        ("10", "批号", BadAIValue, "outside GS1 character set 82"),
        ("7007", "261331", BadAIValue, "illegal month"),
        ("8006", "950123456789030302", BadAIValue, "piece number exceeds"),
    ],
)
def test_invalid_values_say_why(ai, value, error, reason):
    with pytest.raises(error) as caught:
        check_value(ai, value)
    assert reason in caught.value.message
    assert caught.value.ai == ai


@pytest.mark.parametrize("ai", ["9999", "0", "1", "", "x1", "٠١", "23", "4329"])
def test_unknown_application_identifiers(ai):
    with pytest.raises(UnknownApplicationIdentifier):
        check_value(ai, "1")


@pytest.mark.parametrize(
    "ais,reason",
    [
        (["10"], "needs (01) or (02) or (03) or (8006) or (8026)"),
        (["01", "01"], "given twice"),
        (["01", "37"], "may not stand with"),
        (["250", "01"], "needs (01)+(21)"),
        (["3103", "3102", "01"], "may not stand with"),
    ],
)
def test_pairing_rules(ais, reason):
    with pytest.raises(BadAICombination) as caught:
        check_combination(ais)
    assert reason in caught.value.message


def test_pairings_that_hold():
    check_combination(["01", "10", "21", "17", "3103"])
    check_combination(["250", "01", "21"])
    check_combination(["414", "254"])
