"""Handle value parsing: the plain fast path and the general path agree; bad values are named."""

import pytest

from foundation.errors import InvalidValue
from registry.kernel import values as handle_values
from registry.kernel.values import parse_value, parse_values, same_values

LIMITS = {"max_ttl": 172800, "default_ttl": 86400}


@pytest.mark.parametrize(
    "raw",
    [
        {"index": 1, "type": "URL", "data": "https://example.com"},
        {"index": 2000, "type": "grade", "data": {"format": "string", "value": "Q235B"}, "auth": ""},
        {"index": 7, "type": "NOTE", "data": "", "ttl": 0},
        {"index": 4294967295, "type": "X" * 64, "data": "v", "ttl": 172800},
    ],
)
def test_plain_values_take_the_fast_path_with_the_general_result(raw, monkeypatch):
    fast = parse_value(raw, **LIMITS)
    monkeypatch.setattr(handle_values, "_plain_string_value", lambda *a: None)
    general = parse_value(raw, **LIMITS)
    assert fast == general


@pytest.mark.parametrize(
    "raw,name",
    [
        ({"index": True, "type": "URL", "data": "x"}, "value.index_invalid"),
        ({"index": 0, "type": "URL", "data": "x"}, "value.index_invalid"),
        ({"index": 4294967296, "type": "URL", "data": "x"}, "value.index_invalid"),
        ({"index": 1, "type": "", "data": "x"}, "value.type_invalid"),
        ({"index": 1, "type": "A\x01", "data": "x"}, "value.type_invalid"),
        ({"index": 1, "type": "X" * 65, "data": "x"}, "value.type_invalid"),
        ({"index": 1, "type": "URL", "data": "a\x00b"}, "value.data_invalid"),
        ({"index": 1, "type": "URL", "data": {"format": "string"}}, "value.data_invalid"),
        ({"index": 1, "type": "URL", "data": {"format": "json", "value": "x"}}, "value.format_unknown"),
        ({"index": 1, "type": "URL", "data": "x", "ttl": True}, "value.ttl_invalid"),
        ({"index": 1, "type": "URL", "data": "x", "ttl": 172801}, "value.ttl_invalid"),
        ({"index": 1, "type": "URL", "data": "x", "permissions": "11"}, "value.permissions_invalid"),
        ({"index": 100, "type": "HS_ADMIN", "data": "x"}, "value.admin_invalid"),
        (
            {
                "index": 100,
                "type": "HS_ADMIN",
                "data": {"format": "admin", "value": {"handle": "88.118/a", "index": 300, "permissions": "12"}},
            },
            "value.admin_invalid",
        ),
        ({"index": 1, "type": "B", "data": {"format": "base64", "value": "@@@"}}, "value.data_invalid"),
        ({"index": 300, "type": "HS_SECKEY", "data": ""}, "value.data_invalid"),
    ],
)
def test_bad_values_are_refused_by_name(raw, name):
    with pytest.raises(InvalidValue) as caught:
        parse_value(raw, **LIMITS)
    assert caught.value.name == name


def test_body_shapes_and_duplicate_indexes():
    one = {"index": 1, "type": "URL", "data": "x"}
    assert parse_values({"values": [one]}, **LIMITS) == parse_values([one], **LIMITS) == parse_values(one, **LIMITS)
    with pytest.raises(InvalidValue) as caught:
        parse_values([one, one], **LIMITS)
    assert caught.value.name == "value.index_duplicate"


def test_same_values_ignores_key_order_and_timestamps():
    stored = [
        {
            "index": 1,
            "type": "URL",
            "ttl": 86400,
            "timestamp": "2026-01-01T00:00:00Z",
            "data": {"value": "x", "format": "string"},
        }
    ]
    assert same_values(stored, parse_values([{"index": 1, "type": "URL", "data": "x"}], **LIMITS))
    assert not same_values(stored, parse_values([{"index": 1, "type": "URL", "data": "y"}], **LIMITS))
