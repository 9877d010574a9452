"""The console page over the application (no browser): it owns ``/`` without shadowing the proxy face, speaks the
visitor's language, escapes what it is given, forbids inline code, and serves only its own files."""

import re
from html.parser import HTMLParser

import pytest

from faces.console.assets import ASSETS
from faces.console.endpoints import CSP
from faces.console.messages import negotiate
from faces.console.page import STATIC
from tests.factories import onboard

ZH_TITLE, EN_TITLE = "标识解析二级节点控制台", "Identifier resolution console"


async def test_root_is_the_console_and_identifiers_still_go_through_the_proxy(client):
    page = await client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CSP
    assert page.headers["x-content-type-options"] == "nosniff" and page.headers["x-frame-options"] == "DENY"
    assert 'id="lookup"' in page.text

    tenant = await onboard(client, "proxyface")
    handle = f"{tenant.prefix}/DOC-1"
    put = await client.put(
        f"/api/handles/{handle}",
        headers=tenant.handle_admin,
        json=[{"index": 1, "type": "URL", "data": "https://example.com/doc/1"}],
    )
    assert put.status_code == 201, put.text
    redirect = await client.get(f"/{handle}")
    assert redirect.status_code == 302 and redirect.headers["location"] == "https://example.com/doc/1"
    shown = await client.get(f"/{handle}?noredirect", headers={"accept": "text/html"})
    assert shown.status_code == 200 and "https://example.com/doc/1" in shown.text and 'id="lookup"' not in shown.text
    assert (await client.get(f"/{tenant.prefix}/none")).status_code == 404


@pytest.mark.parametrize(
    "accept,lang",
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("zh-TW,zh;q=0.9", "zh-CN"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("en;q=0.5,zh;q=0.8", "zh-CN"),
        ("zh;q=0,en", "en"),
        ("fr-FR,de", "en"),
        ("", "en"),
    ],
)
async def test_the_browser_language_decides_until_the_visitor_switches(client, accept, lang):
    page = await client.get("/", headers={"accept-language": accept})
    assert f'<html lang="{lang}">' in page.text
    assert (ZH_TITLE if lang == "zh-CN" else EN_TITLE) in page.text


async def test_the_language_switch_is_remembered(client):
    chinese = {"accept-language": "zh-CN,zh"}
    switched = await client.get("/?lang=en&handle=88.118.1/X&view=trace", headers=chinese)
    assert '<html lang="en">' in switched.text and "secnode_console_lang=en" in switched.headers["set-cookie"]
    # the links of the switch keep the identifier and the view being looked at
    assert 'href="/?lang=zh-CN&amp;handle=88.118.1%2FX&amp;view=trace"' in switched.text
    assert client.cookies.get("secnode_console_lang") == "en"
    later = await client.get("/", headers=chinese)
    assert '<html lang="en">' in later.text and "set-cookie" not in later.headers
    client.cookies.clear()
    assert '<html lang="zh-CN">' in (await client.get("/?lang=xx", headers=chinese)).text


def test_negotiation_prefers_an_explicit_choice():
    assert negotiate("en", "zh-CN", "zh-CN") == "en"
    assert negotiate(None, "zh-CN", "en") == "zh-CN"
    assert negotiate("klingon", None, "zh;q=bad,zh-HK") == "zh-CN"


async def test_everything_given_is_escaped_and_no_code_is_inline(client):
    attack = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    page = (await client.get("/", params={"handle": attack, "view": attack})).text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, flags=re.S)
    assert [attrs.strip() for attrs, _ in scripts] == [
        'type="module" src="/-/console/static/console.js"',
        'type="application/json" id="console-config"',
    ]
    assert "</" not in scripts[1][1]  # the configuration cannot close its block
    assert not [name for name in _attribute_names(page) if name == "style" or name.startswith("on")]


def _attribute_names(page: str) -> set[str]:
    names: set[str] = set()

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            names.update(name for name, _ in attrs)

    Collector().feed(page)
    return names


async def test_static_files_are_served_by_exact_name_only(client):
    script = await client.get(f"{STATIC}/console.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert script.headers["content-security-policy"] == CSP and script.headers["x-content-type-options"] == "nosniff"
    cached = await client.get(f"{STATIC}/console.js", headers={"if-none-match": script.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""
    assert (await client.get(f"{STATIC}/console.css")).headers["content-type"].startswith("text/css")
    for missing in ("nothing.js", "__init__.py", "page.py"):
        assert (await client.get(f"{STATIC}/{missing}")).status_code == 404, missing
    for outside in ("..%2Fpage.py", "%2E%2E%2Fmessages.py"):  # not a file name: the proxy face refuses it
        assert (await client.get(f"{STATIC}/{outside}")).status_code == 400, outside


def test_scripts_import_only_served_files_and_never_parse_markup():
    for name, asset in ASSETS.items():
        if not name.endswith(".js"):
            continue
        text = asset.body.decode()
        for imported in re.findall(r'from "\./([^"]+)"', text):
            assert imported in ASSETS, f"{name} imports {imported}, which is not served"
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in text, f"{name} uses {sink}"


async def test_qr_codes_are_svg_drawn_by_the_node(client):
    qr = await client.get("/-/console/qr.svg", params={"handle": "88.118.1042/COIL-2026-000001"})
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml"
    assert qr.text.startswith("<svg") and "<path" in qr.text and "<script" not in qr.text
    assert qr.headers["content-security-policy"] == CSP
    for bad in ("", "x" * 256, "88.118/a\x00b"):
        assert (await client.get("/-/console/qr.svg", params={"handle": bad})).status_code == 400
