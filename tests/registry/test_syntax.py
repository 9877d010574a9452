import pytest

from foundation.errors import InvalidHandle
from registry.kernel.syntax import canonical, parse


def test_strict_identifier_is_parsed_and_keyed_case_insensitively():
    ident = parse("88.118.1042/COIL-2026-000001")
    assert (ident.prefix, ident.suffix) == ("88.118.1042", "COIL-2026-000001")
    assert ident.key == "88.118.1042/coil-2026-000001"
    assert parse("88.118.1042/coil-2026-000001").key == ident.key
    assert ident.handle == "88.118.1042/COIL-2026-000001"


@pytest.mark.parametrize(
    "handle,rule",
    [
        ("", "handle.empty"),
        ("88.118.1042", "handle.missing_slash"),
        ("88.118.1042/a/b", "handle.extra_slash"),
        ("88..118/x", "handle.prefix_segment_empty"),
        (".88/x", "handle.prefix_segment_empty"),
        ("88.118./x", "handle.prefix_segment_empty"),
        ("88.1_18/x", "handle.prefix_characters"),
        ("88.118/", "handle.suffix_empty"),
        ("88.118/a b", "handle.suffix_characters"),
        ("88.118/钢卷", "handle.suffix_characters"),
        ("88.118/a\x00b", "handle.control_characters"),
        ("88.118/a\nb", "handle.control_characters"),
        ("88.118/" + "x" * 122, "handle.too_long"),
    ],
)
def test_strict_mode_refuses_each_broken_rule_by_name(handle, rule):
    with pytest.raises(InvalidHandle) as caught:
        parse(handle)
    assert caught.value.name == rule


def test_128_characters_is_the_strict_limit():
    assert parse("88.118/" + "x" * 121).handle
    with pytest.raises(InvalidHandle):
        parse("88.118/" + "x" * 122)


def test_rfc_mode_allows_printable_utf8_suffix_but_never_control_characters():
    assert parse("88.118/钢卷 001/a", mode="rfc").suffix == "钢卷 001/a"
    with pytest.raises(InvalidHandle):
        parse("88.118/a\x07", mode="rfc")
    with pytest.raises(InvalidHandle):
        parse("88.118/" + "钢" * 100, mode="rfc")  # 300 bytes > 255


def test_canonical_lowercases_ascii_only():
    assert canonical("AbC/ÄÖ") == "abc/ÄÖ"
