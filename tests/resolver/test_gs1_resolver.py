"""The GS1-Conformant resolver face: 307 to the default link, linkType, Accept-Language, fallback from serial to
GTIN, the RFC 9264 linkset (body and Link header), /.well-known/gs1resolver, refusals as problem details, and a
changed link or alias seen at once by another process."""

import json
import time

import httpx
import jsonschema

from tests.conftest import ADMIN_PASSWORD, REDIS_URL, embedded_node
from tests.factories import admin_headers, onboard
from tests.servers import running_node

GTIN = "06901234000016"
COMPRESSED_S1 = "DAyNozPBIMSWo"
GCP_ROUTE = "/snms/api/v5/gs1/company-prefixes"
VOC = "https://gs1.org/voc/"

# RFC 9264 §4.2: a JSON object with "linkset", an array of context objects; each has an "anchor" and, per relation
# type, an array of target objects that each have an "href"; target attributes are strings or arrays of strings.
LINKSET_SCHEMA = {
    "type": "object",
    "required": ["linkset"],
    "additionalProperties": False,
    "properties": {
        "linkset": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["anchor"],
                "properties": {"anchor": {"type": "string", "format": "uri"}},
                "additionalProperties": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["href"],
                        "properties": {
                            "href": {"type": "string"},
                            "hreflang": {"type": "array", "items": {"type": "string"}},
                        },
                        "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "array"}]},
                    },
                },
            },
        }
    },
}


def value(index: int, type_: str, text: str) -> dict:
    return {"index": index, "type": type_, "data": {"format": "string", "value": text}}


def link(index: int, **fields) -> dict:
    return value(index, "GS1_LINK", json.dumps(fields, ensure_ascii=False))


async def _mapped(client, name: str = "dlsteel"):
    tenant = await onboard(client, name)
    assert (await client.post(GCP_ROUTE, json={"companyPrefix": "6901234"}, headers=tenant.headers)).status_code == 201
    admin = await admin_headers(client)
    await client.post(f"{GCP_ROUTE}/6901234/audit", json={"approve": True}, headers=admin)
    coil = [
        value(10, "ALIAS", f"gs1:(01){GTIN}(21)S1"),
        link(20, linkType="gs1:pip", href="https://example.com/zh/coil", hreflang=["zh"], title="钢卷信息"),
        link(21, linkType="gs1:pip", href="https://example.com/en/coil", hreflang=["en"], title="Coil"),
        link(22, linkType="gs1:certificationInfo", href="https://example.com/cert?id=7"),
        link(23, linkType="gs1:defaultLink", href="https://example.com/landing", default=True),
    ]
    product = [value(10, "ALIAS", f"gs1:(01){GTIN}"), value(1, "URL", "https://example.com/product")]
    for suffix, values in (("COIL-1", coil), ("PRODUCT", product)):
        made = await client.put(f"/api/handles/{tenant.prefix}/{suffix}", json=values, headers=tenant.handle_admin)
        assert made.status_code == 201, made.text
    return tenant


async def test_a_scan_is_sent_to_the_default_link_and_link_types_choose(client):
    tenant = await _mapped(client)
    scan = await client.get(f"/01/{GTIN}/21/S1")
    assert scan.status_code == 307 and scan.headers["location"] == "https://example.com/landing"
    assert "Accept-Language" in scan.headers["vary"]

    pip = await client.get(f"/01/{GTIN}/21/S1?linkType=gs1:pip&x=1", headers={"Accept-Language": "en;q=0.8, zh"})
    assert pip.headers["location"] == "https://example.com/zh/coil?x=1"
    english = await client.get(f"/01/{GTIN}/21/S1?linkType=gs1:pip", headers={"Accept-Language": "en-GB"})
    assert english.headers["location"] == "https://example.com/en/coil"
    cert = await client.get(f"/01/{GTIN}/21/S1?linkType=gs1:certificationInfo&17=261231")
    assert cert.headers["location"] == "https://example.com/cert?id=7&17=261231"  # the query string goes on

    own = await client.get(f"/01/{GTIN}/21/S1?linkType=secnode:trace")
    assert own.headers["location"].endswith(f"/?handle={tenant.prefix}/COIL-1&view=trace")
    epcis = await client.get(f"/01/{GTIN}/21/S1?linkType=gs1:epcis")
    assert f"/epcis/events?MATCH_anyEPC={tenant.prefix}/COIL-1" in epcis.headers["location"]
    missing_type = await client.get(f"/01/{GTIN}/21/S1?linkType=gs1:recipeInfo")
    assert missing_type.headers["location"] == "https://example.com/landing"

    # a serial nobody mapped falls back to the GTIN's record, whose default is its URL value
    fallback = await client.get(f"/01/{GTIN}/21/OTHER")
    assert fallback.status_code == 307 and fallback.headers["location"] == "https://example.com/product"
    gtin13 = await client.get(f"/01/{GTIN[1:]}")
    assert gtin13.headers["location"] == "https://example.com/product"
    assert (await client.head(f"/01/{GTIN}/21/S1")).status_code == 307

    # the compressed form of /01/{GTIN}/21/S1, as GS1's toolkit packs it (GS1 Digital Link 1.2 §9)
    packed = await client.get(f"/{COMPRESSED_S1}?linkType=gs1:pip", headers={"Accept-Language": "en"})
    assert packed.status_code == 307 and packed.headers["location"] == "https://example.com/en/coil"
    assert (await client.get("/88.118")).json()["responseCode"] == 102  # a single segment is still the proxy's


async def test_the_linkset(client):
    tenant = await _mapped(client, "dllinkset")
    for request in (
        client.get(f"/01/{GTIN}/21/S1?linkType=linkset"),
        client.get(f"/01/{GTIN}/21/S1", headers={"Accept": "application/linkset+json"}),
    ):
        answer = await request
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/linkset+json")
        body = answer.json()
        jsonschema.validate(body, LINKSET_SCHEMA, format_checker=jsonschema.FormatChecker())
        context = body["linkset"][0]
        assert context["anchor"] == f"http://testserver/01/{GTIN}/21/S1"
        assert context[VOC + "defaultLink"][0]["href"] == "https://example.com/landing"
        assert [t["hreflang"] for t in context[VOC + "pip"]] == [["zh"], ["en"]]
        assert context[VOC + "pip"][0]["title"] == "钢卷信息"
        assert context["urn:secnode:linktype:record"][0]["href"].endswith(f"/?handle={tenant.prefix}/COIL-1")

    header = (await client.get(f"/01/{GTIN}/21/S1")).headers["link"]
    assert (
        f'<http://testserver/01/{GTIN}/21/S1?linkType=linkset>; rel="linkset"; type="application/linkset+json"'
        in header
    )
    assert f'<https://example.com/en/coil>; rel="{VOC}pip"; hreflang="en"' in header
    assert "title*=UTF-8''%E9%92%A2%E5%8D%B7%E4%BF%A1%E6%81%AF" in header


async def test_the_resolver_describes_itself(client):
    described = (await client.get("/.well-known/gs1resolver")).json()
    assert {"01", "00", "414", "8003", "8004"} <= set(described["supportedPrimaryKeys"])
    assert "gs1:pip" in described["linkTypes"] and described["resolverRoot"] == "http://testserver"


async def test_bad_keys_are_clear_problems(client):
    await _mapped(client, "dlbad")
    cases = [
        (f"/01/{GTIN[:-1]}7", 400, "gs1.check_digit"),
        (f"/01/{GTIN}/21/S1/10/L1", 400, "gs1.combination"),
        (f"/01/{GTIN}/99/x", 400, "gs1.combination"),
        (f"/01/{GTIN}?10=L1", 400, "gs1.digital_link"),
        (f"/01/{GTIN}/21/%ZZ", 400, "gs1.digital_link"),
        (f"/01/{GTIN}/21/%E6%89%B9", 400, "gs1.bad_value"),
        (f"/01/{GTIN}?q=" + "x" * 10_000, 400, "gs1.digital_link"),
        ("/01/06901234000023", 404, "alias.not_found"),
        ("/00/106141412345678908", 404, "alias.not_found"),
    ]
    for path, status, error in cases:
        answer = await client.get(path)
        assert answer.status_code == status, (path, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["error"] == error and answer.json()["status"] == status, (path, answer.text)


async def test_another_process_sees_a_changed_link_and_alias_at_once(fresh_node, database_url, tmp_path):
    env = {
        "SECNODE_DATABASE_URL": database_url,
        "SECNODE_REDIS_URL": REDIS_URL,
        "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    with running_node(env, tmp_path) as writer_url, running_node(env, tmp_path) as reader_url:
        async with (
            httpx.AsyncClient(base_url=writer_url, timeout=30) as writer,
            httpx.AsyncClient(base_url=reader_url, timeout=30) as reader,
        ):
            tenant = await _mapped(writer, "dltwo")
            handle = f"/api/handles/{tenant.prefix}/COIL-1"
            time.sleep(2.5)  # both workers hold leases
            assert (await reader.get(f"/01/{GTIN}/21/S1")).headers["location"] == "https://example.com/landing"
            for n in range(10):
                target = f"https://example.com/landing/{n}"
                changed = [
                    value(10, "ALIAS", f"gs1:(01){GTIN}(21)S1"),
                    link(23, linkType="gs1:defaultLink", href=target, default=True),
                ]
                assert (await writer.put(handle, json=changed, headers=tenant.handle_admin)).status_code == 200
                assert (await reader.get(f"/01/{GTIN}/21/S1")).headers["location"] == target
            # the alias moves off the coil: the serial falls back to the product at once
            unmapped = [link(23, linkType="gs1:defaultLink", href="https://example.com/x", default=True)]
            assert (await writer.put(handle, json=unmapped, headers=tenant.handle_admin)).status_code == 200
            assert (await reader.get(f"/01/{GTIN}/21/S1")).headers["location"] == "https://example.com/product"


async def test_the_embedded_sqlite_node_maps_and_resolves_too(tmp_path):
    async with embedded_node(tmp_path) as (http, _):
        tenant = await _mapped(http, "dllite")
        scan = await http.get(f"/01/{GTIN}/21/S1")
        assert scan.status_code == 307 and scan.headers["location"] == "https://example.com/landing"
        again = await http.get(f"/01/{GTIN}/21/S1?linkType=gs1:pip", headers={"Accept-Language": "en"})
        assert again.headers["location"] == "https://example.com/en/coil"  # a remembered scan
        assert (await http.get(f"/01/{GTIN}/21/S2")).headers["location"] == "https://example.com/product"
        taken = await http.put(
            f"/api/handles/{tenant.prefix}/OTHER",
            json=[value(10, "ALIAS", f"https://id.gs1.org/01/{GTIN}/21/S1")],
            headers=tenant.handle_admin,
        )
        assert taken.status_code == 409 and taken.json()["error"] == "value.alias_taken"
        moved = [link(23, linkType="gs1:defaultLink", href="https://example.com/moved", default=True)]
        handle = f"/api/handles/{tenant.prefix}/COIL-1"
        assert (await http.put(handle, json=moved, headers=tenant.handle_admin)).status_code == 200
        assert (await http.get(f"/01/{GTIN}/21/S1")).headers["location"] == "https://example.com/product"
        lookup = await http.get("/api/aliases", params={"alias": f"gs1:(01){GTIN}"})
        assert lookup.json()["handle"] == f"{tenant.prefix}/PRODUCT"
