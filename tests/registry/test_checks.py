import pytest

from registry.enterprises.credit_code import is_valid
from registry.templates.vin import check_digit
from registry.templates.vin import is_valid as vin_valid


@pytest.mark.parametrize("code", ["91330100716105852F", "914403001922038216", "91310000717866186P"])
def test_real_credit_codes_pass(code):
    assert is_valid(code)


@pytest.mark.parametrize("code", ["91330100716105852E", "9133010071610585", "91330100716105852I", "91330100716105852f"])
def test_broken_credit_codes_fail(code):
    assert not is_valid(code)


def test_vin_check_digit():
    assert vin_valid("1M8GDM9AXKP042788")  # the textbook example, check digit X
    assert not vin_valid("1M8GDM9A1KP042788")
    assert check_digit("LSVAU2180N2183294"[:8] + "0" + "LSVAU2180N2183294"[9:]) is not None
    assert not vin_valid("IM8GDM9AXKP042788")  # I is not allowed
