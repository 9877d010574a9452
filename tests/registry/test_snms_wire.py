"""The SNMS v5 wire format, replayed from the public developer documentation's examples (snms_v5/examples.json:
its source and licence are named there and in snms_v5/README.md). The documentation's prefixes stand for the test
enterprise's; everything else is sent as published and the answers are held to the documented fields and codes."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, update

from faces.handle_rest.hot_path import ResolverFastPath
from node.app import create_app
from registry.accounts.models import Account
from registry.accounts.service import CHINA_STANDARD_TIME, day_digest, digest_days, snms_digest
from registry.kernel.clock import utcnow
from registry.kernel.models import HandleRecord
from tests.conftest import ADMIN_PASSWORD, make_settings
from tests.factories import admin_headers, login, onboard

EXAMPLES: dict[str, Any] = json.loads((Path(__file__).parent / "snms_v5" / "examples.json").read_text("utf-8"))
ENVELOPE = {"message", "status", "data"}


def example(name: str, prefix: str) -> Any:
    """A documented example with the test enterprise's prefix in place of the documentation's."""
    return json.loads(json.dumps(EXAMPLES[name]).replace("PREFIX", prefix))


def v1_password(password: str, day: date) -> str:
    """What an SNMS client sends to /identity/token/v1, computed as the documentation describes it."""
    inner = hashlib.sha256(password.encode()).hexdigest()
    return hashlib.sha256((inner + day.strftime("%Y-%m-%d")).encode()).hexdigest()


def today_in_china() -> date:
    return utcnow().astimezone(CHINA_STANDARD_TIME).date()


def assert_documented_error(response: httpx.Response, status: int) -> None:
    body = response.json()
    assert ENVELOPE <= set(body) and body["status"] == status and body["data"] is None, response.text
    assert isinstance(body["message"], str) and body["message"]


def test_digest_is_the_documented_one():
    documented = EXAMPLES["login_v1"]
    day = date.fromisoformat(documented["day"])
    assert v1_password(documented["password"], day) == documented["request"]["password"]
    assert day_digest(snms_digest(documented["password"]), day) == documented["request"]["password"]


async def test_token_v1_gives_a_token_for_todays_digest(client):
    documented = EXAMPLES["login_success"]
    request = {"username": "admin", "password": v1_password(ADMIN_PASSWORD, today_in_china())}
    response = await client.post("/identity/token/v1", json=request)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(documented) <= set(body) and body["status"] == documented["status"] == 1
    assert body["message"] == documented["message"]
    token = body["data"]["token"]
    me = await client.get("/snms/api/v5/enterprises", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["status"] == 1, me.text

    # the documented example's own digest is for another day and another password
    stale = await client.post("/identity/token/v1", json=EXAMPLES["login_v1"]["request"])
    assert stale.status_code == 401 and stale.json()["error"] == "auth.bad_credentials"
    assert_documented_error(stale, EXAMPLES["login_error"]["status"])
    last_week = v1_password(ADMIN_PASSWORD, today_in_china() - timedelta(days=7))
    old = await client.post("/identity/token/v1", json={"username": "admin", "password": last_week})
    assert_documented_error(old, -2)
    plain = await client.post("/identity/token/v1", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert_documented_error(plain, -2)  # a plain password is no digest


async def test_a_refused_login_is_a_business_failure_as_documented(client):
    """SNMS answers a wrong username or password with status -2 (the login examples), not -1 (not logged in)."""
    wrong = await client.post("/identity/token", json={"username": "admin", "password": "wrong-password"})
    assert_documented_error(wrong, EXAMPLES["login_error"]["status"])
    nobody = await client.post("/identity/token", json={"username": "nobody", "password": "wrong-password"})
    assert_documented_error(nobody, -2)
    no_token = await client.get("/snms/api/v5/enterprises")
    assert_documented_error(no_token, -1)


async def test_digest_login_shares_the_lockout_and_accounts_without_a_digest_get_one(client, fresh_node, settings):
    tenant = await onboard(client, "digester")
    wrong = {"username": tenant.username, "password": "0" * 64}
    for _ in range(settings.login_max_failures):
        assert (await client.post("/identity/token/v1", json=wrong)).json()["error"] == "auth.bad_credentials"
    right = {"username": tenant.username, "password": v1_password(tenant.password, today_in_china())}
    locked = await client.post("/identity/token/v1", json=right)
    assert locked.json()["error"] == "auth.locked" and locked.json()["status"] == -2

    # an account made before the digest login: refused (no failure counted) until its next password login
    async with fresh_node.unit_of_work() as session:
        await session.execute(update(Account).values(snms_digest=None, failed_logins=0, locked_until=None))
    for _ in range(settings.login_max_failures + 1):
        refused = await client.post("/identity/token/v1", json=right)
        assert refused.json()["error"] == "auth.bad_credentials"
    await login(client, tenant.username, tenant.password)
    assert (await client.post("/identity/token/v1", json=right)).json()["status"] == 1

    # a new password gives a new digest
    changed = await client.put(
        "/identity/password",
        json={"oldPassword": tenant.password, "newPassword": "Another-Password-2026"},
        headers=tenant.headers,
    )
    assert changed.json()["status"] == 1, changed.text
    assert_documented_error(await client.post("/identity/token/v1", json=right), -2)
    again = {"username": tenant.username, "password": v1_password("Another-Password-2026", today_in_china())}
    assert (await client.post("/identity/token/v1", json=again)).json()["status"] == 1


def test_the_day_may_be_china_time_or_utc_near_midnight():
    utc_evening = datetime.fromisoformat("2026-12-03T16:05:00+00:00")  # 00:05 on the 4th in China
    assert digest_days(utc_evening) == {date(2026, 12, 3), date(2026, 12, 4)}
    utc_morning = datetime.fromisoformat("2026-12-03T08:00:00+00:00")  # 16:00 in China: one day everywhere
    assert digest_days(utc_morning) == {date(2026, 12, 3)}


async def _template(client, tenant, version: str, items: list[tuple[str, int]]) -> None:
    """A template in the documented create shape, with the items an identifier example needs."""
    body = example("template_create", tenant.prefix)
    body["version"] = version
    body["items"] = [
        {"name": id_type, "idType": id_type, "idIndex": index, "required": False, "metadata": {"type": "string"}}
        for id_type, index in items
    ]
    response = await client.post("/snms/api/v5/template", json=body, headers=tenant.headers)
    assert response.json() == EXAMPLES["write_success"], response.text


async def test_template_lifecycle_as_documented(client):
    tenant = await onboard(client, "tmplwire")
    created = await client.post(
        "/snms/api/v5/template", json=example("template_create", tenant.prefix), headers=tenant.headers
    )
    assert created.status_code == 200 and created.json() == EXAMPLES["write_success"], created.text
    updated = await client.put(
        "/snms/api/v5/template", json=example("template_update", tenant.prefix), headers=tenant.headers
    )
    assert updated.status_code == 200 and updated.json() == EXAMPLES["write_success"], updated.text

    documented = EXAMPLES["template_get_response"]["data"]
    query = f"/snms/api/v5/template?prefix={tenant.prefix}&version=1.0.1"
    got = (await client.get(query, headers=tenant.headers)).json()
    assert got["status"] == 1 and got["message"] == "success"
    for field in ("prefix", "version", "industryCategory", "industrySpecific", "industryTrade", "industrySubclass"):
        assert field in got["data"], field
    assert got["data"]["version"] == documented["version"] and got["data"]["description"] == "测试模板"
    assert got["data"]["type"] == documented["type"] and isinstance(got["data"]["id"], int)
    item = got["data"]["items"][0]
    assert {k: item[k] for k in ("name", "idType", "required", "state")} == {
        "name": "e1",
        "idType": "ip",
        "required": False,
        "state": 1,
    }
    assert item["idIndex"] == 2000 and item["metadata"] == documented["items"][0]["metadata"]

    # idIndex may be left out of an update: an item of a known idType is that item, another one is new
    change = example("template_update", tenant.prefix)
    change["industryTrade"], change["type"] = "012", 2
    change["items"] = [
        {
            "name": "e1 停用",
            "idType": "ip",
            "metadata": {"type": "string", "minLength": 1, "maxLength": 10},
            "state": 0,
        },
        {"name": "e2", "idType": "mac", "metadata": {"type": "string", "minLength": 1, "maxLength": 17}, "state": 1},
    ]
    changed = await client.put("/snms/api/v5/template", json=change, headers=tenant.headers)
    assert changed.json() == EXAMPLES["write_success"], changed.text
    got = (await client.get(query)).json()["data"]
    assert got["industryTrade"] == "012" and got["type"] == 2
    assert [(i["idIndex"], i["idType"], i["name"], i["state"]) for i in got["items"]] == [
        (2000, "ip", "e1 停用", 0),
        (2001, "mac", "e2", 1),
    ]

    # the template is unused: DELETE with the documented body removes it
    deleted = await client.request(
        "DELETE", "/snms/api/v5/template", json=example("template_delete", tenant.prefix), headers=tenant.headers
    )
    assert deleted.status_code == 200 and deleted.json() == EXAMPLES["write_success"], deleted.text
    gone = await client.get(query)
    assert gone.status_code == 404 and gone.json()["error"] == "template.not_found"
    assert_documented_error(gone, -2)
    again = await client.request(
        "DELETE", "/snms/api/v5/template", json=example("template_delete", tenant.prefix), headers=tenant.headers
    )
    assert again.status_code == 404 and again.json()["error"] == "template.not_found"


async def test_template_delete_refuses_a_bound_version_and_foreign_callers(client, fresh_node):
    tenant = await onboard(client, "tmplbound")
    other = await onboard(client, "tmplother")
    await _template(client, tenant, "1.0", [("name", 2000)])
    created = await client.post(
        "/identityv2/data", json=example("handle_create", tenant.prefix), headers=tenant.headers
    )
    assert created.json() == EXAMPLES["write_success"], created.text
    ref = {"prefix": tenant.prefix, "version": "1.0"}

    foreign = await client.request("DELETE", "/snms/api/v5/template", json=ref, headers=other.headers)
    assert foreign.status_code == 403 and foreign.json()["error"] == "template.forbidden"
    assert_documented_error(foreign, -3)
    anonymous = await client.request("DELETE", "/snms/api/v5/template", json=ref)
    assert_documented_error(anonymous, -1)
    bound = await client.request("DELETE", "/snms/api/v5/template", json=ref, headers=tenant.headers)
    assert bound.status_code == 409 and bound.json()["error"] == "template.in_use", bound.text
    assert_documented_error(bound, -2)
    template = await client.get(f"/snms/api/v5/template?prefix={tenant.prefix}&version=1.0")
    assert template.json()["status"] == 1  # nothing was deleted
    detail = await client.get(f"/identityv2/data/detail?handle={tenant.prefix}/xx002")
    assert detail.json()["data"]["templateVersion"] == "1.0"
    missing = await client.request(
        "DELETE", "/snms/api/v5/template", json={"prefix": tenant.prefix}, headers=tenant.headers
    )
    assert_documented_error(missing, -2)

    # once the identifier is deleted the version is unused; the query form works too
    removed = await client.request(
        "DELETE", "/identityv2/data", json=example("handle_delete", tenant.prefix), headers=tenant.headers
    )
    assert removed.json() == EXAMPLES["write_success"], removed.text
    by_query = await client.delete(f"/snms/api/v5/template?prefix={tenant.prefix}&version=1.0", headers=tenant.headers)
    assert by_query.json() == EXAMPLES["write_success"], by_query.text
    admin = await admin_headers(client)
    seed = await client.request(
        "DELETE", "/snms/api/v5/template", json={"prefix": "88.118", "version": "nope"}, headers=admin
    )
    assert seed.status_code == 404


async def test_identifiers_as_documented(client):
    tenant = await onboard(client, "handlewire")
    await _template(client, tenant, "1.0", [("name", 2000)])
    await _template(client, tenant, "1.0.0", [("URL", 2000), ("URL2", 2001)])

    # register one, read it, update it
    item = example("handle_create", tenant.prefix)
    created = await client.post("/identityv2/data", json=item, headers=tenant.headers)
    assert created.status_code == 200 and created.json() == EXAMPLES["write_success"], created.text
    detail = await client.get(example("detail_request", tenant.prefix), headers=tenant.headers)
    body = detail.json()
    assert body["status"] == 1 and body["message"] == "success"
    data = body["data"]
    documented = EXAMPLES["detail_response"]["data"]
    assert {"prefix", "handle", "templateVersion", "value"} <= set(data)
    assert data["prefix"] == tenant.prefix and data["handle"] == item["handle"] and data["templateVersion"] == "1.0"
    assert set(documented["value"][0]) - {"auth"} <= set(data["value"][0])
    name = next(v for v in data["value"] if v["index"] == 2000)
    assert name["type"] == "name" and name["data"] == {"format": "string", "value": "小型机械01"}
    missing = await client.get("/identityv2/data/detail")
    assert_documented_error(missing, EXAMPLES["detail_error"]["status"])

    item["value"][0]["data"]["value"] = "小型机械02"
    updated = await client.put("/identityv2/data", json=item, headers=tenant.headers)
    assert updated.json() == EXAMPLES["write_success"], updated.text
    unknown_index = example("handle_create", tenant.prefix)
    unknown_index["value"][0]["index"] = 1000
    refused = await client.post("/identityv2/data", json=unknown_index, headers=tenant.headers)
    assert_documented_error(refused, EXAMPLES["handle_create_error"]["status"])

    # batches: create, update with PUT, create again (already there)
    batch = example("batch_create", tenant.prefix)
    created = await client.post("/identityv2/data/batchCreate", json=batch, headers=tenant.headers)
    documented = EXAMPLES["batch_create_response"]
    assert created.json()["status"] == documented["status"] and created.json()["message"] == documented["message"]
    assert [(r["handle"], r["msg"]) for r in created.json()["data"]] == [(b["handle"], "success") for b in batch]
    batch[0]["value"][0]["data"]["value"] = "www.005.com"
    changed = await client.put("/identityv2/data/batchUpdate", json=batch, headers=tenant.headers)
    assert changed.status_code == 200 and changed.json()["message"] == "success", changed.text
    assert [(r["handle"], r["msg"]) for r in changed.json()["data"]] == [(b["handle"], "success") for b in batch]
    resolved = (await client.get(f"/api/handles/{batch[0]['handle']}?index=2000")).json()
    assert resolved["values"][0]["data"]["value"] == "www.005.com"
    batch[1]["value"][1]["data"]["value"] = "www.006.com"  # now differs from what is stored
    duplicate = await client.post("/identityv2/data/batchCreate", json=batch[1:], headers=tenant.headers)
    documented = EXAMPLES["batch_create_error"]
    assert duplicate.json()["status"] == documented["status"] and duplicate.json()["message"] == "success"
    assert duplicate.json()["data"][0]["code"] == -2 and duplicate.json()["data"][0]["msg"]

    # batch delete with DELETE and a list of handle strings; then they are gone (-2 per item)
    handles = [b["handle"] for b in batch]
    deleted = await client.request("DELETE", "/identityv2/data/batchDelete", json=handles, headers=tenant.headers)
    documented = EXAMPLES["batch_delete_response"]
    assert deleted.status_code == 200 and deleted.json()["message"] == documented["message"], deleted.text
    assert [(r["handle"], r["code"], r["msg"]) for r in deleted.json()["data"]] == [(h, 1, "success") for h in handles]
    for handle in handles:
        assert (await client.get(f"/api/handles/{handle}")).status_code == 404
    never = example("batch_delete", tenant.prefix)
    unknown = await client.request("DELETE", "/identityv2/data/batchDelete", json=never, headers=tenant.headers)
    documented = EXAMPLES["batch_delete_error"]
    assert unknown.json()["status"] == documented["status"] and unknown.json()["message"] == documented["message"]
    assert [(r["handle"], r["code"]) for r in unknown.json()["data"]] == [(h, -2) for h in never]

    # single delete with the documented body; a missing identifier is -2
    handle_delete = example("handle_delete", tenant.prefix)
    gone = await client.request("DELETE", "/identityv2/data", json=handle_delete, headers=tenant.headers)
    assert gone.json() == EXAMPLES["write_success"], gone.text
    never_there = {"handle": f"{tenant.prefix}/never"}
    missing = await client.request("DELETE", "/identityv2/data", json=never_there, headers=tenant.headers)
    assert_documented_error(missing, EXAMPLES["handle_delete_error"]["status"])


async def test_post_forms_of_batch_update_and_delete_stay(client):
    tenant = await onboard(client, "aliases")
    await _template(client, tenant, "1.0.0", [("URL", 2000), ("URL2", 2001)])
    batch = example("batch_create", tenant.prefix)
    assert (await client.post("/identityv2/data/batchCreate", json=batch, headers=tenant.headers)).json()["status"] == 1
    updated = await client.post("/identityv2/data/batchUpdate", json={"data": batch}, headers=tenant.headers)
    assert [r["code"] for r in updated.json()["data"]] == [1, 1], updated.text
    handles = [{"handle": b["handle"]} for b in batch]
    deleted = await client.post("/identityv2/data/batchDelete", json=handles, headers=tenant.headers)
    assert [r["code"] for r in deleted.json()["data"]] == [1, 1], deleted.text
    bad = await client.request("DELETE", "/identityv2/data/batchDelete", json={"x": 1}, headers=tenant.headers)
    assert bad.status_code == 400 and bad.json()["error"] == "request.bad_batch"
    assert_documented_error(bad, -2)
    empty = await client.request("DELETE", "/identityv2/data/batchDelete", headers=tenant.headers)
    assert_documented_error(empty, -2)


async def test_detail_requires_a_token_when_the_operator_says_so(client, fresh_node, database_url):
    tenant = await onboard(client, "detailtoken")
    await _template(client, tenant, "1.0", [("name", 2000)])
    item = example("handle_create", tenant.prefix)
    assert (await client.post("/identityv2/data", json=item, headers=tenant.headers)).json()["status"] == 1
    query = example("detail_request", tenant.prefix)
    assert (await client.get(query)).json()["status"] == 1  # the default: public values for anyone

    app = create_app(make_settings(database_url, snms_detail_requires_token=True), db=fresh_node)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=ResolverFastPath(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as strict:
            anonymous = await strict.get(query)
            assert anonymous.status_code == 401 and anonymous.json()["error"] == "auth.missing_token"
            assert_documented_error(anonymous, -1)
            forged = await strict.get(query, headers={"Authorization": "Bearer forged"})
            assert_documented_error(forged, -1)
            read = await strict.get(query, headers=tenant.headers)
            assert read.json()["status"] == 1 and read.json()["data"]["handle"] == item["handle"]
            other = await onboard(strict, "detailreader")
            assert (await strict.get(query, headers=other.headers)).json()["status"] == 1  # any valid token


async def test_a_template_is_never_deleted_under_an_identifier_being_registered(client, fresh_node):
    """DELETE of a template races registrations that bind it: either the deletion is refused, or the registrations
    find no template; never a live identifier bound to a deleted template."""
    tenant = await onboard(client, "tmplrace")
    for round_ in range(6):
        version = f"race-{round_}"
        await _template(client, tenant, version, [("URL", 2000), ("URL2", 2001)])
        batch = example("batch_create", tenant.prefix)
        for n, item in enumerate(batch):
            item["handle"], item["templateVersion"] = f"{tenant.prefix}/race-{round_}-{n}", version
        ref = {"prefix": tenant.prefix, "version": version}
        created, deleted = await asyncio.gather(
            client.post("/identityv2/data/batchCreate", json=batch, headers=tenant.headers),
            client.request("DELETE", "/snms/api/v5/template", json=ref, headers=tenant.headers),
        )
        bound = [r for r in created.json()["data"] if r["code"] == 1]
        if deleted.json()["status"] == 1:
            assert not bound, (created.text, deleted.text)
        else:
            assert deleted.json()["error"] == "template.in_use" and len(bound) == 2, (created.text, deleted.text)
        async with fresh_node.read_session() as session:
            live = await session.execute(
                select(func.count())
                .select_from(HandleRecord)
                .where(HandleRecord.template_key == f"{tenant.prefix.lower()}@{version}", ~HandleRecord.deleted)
            )
            template = await client.get(f"/snms/api/v5/template?prefix={tenant.prefix}&version={version}")
            assert (live.scalar_one() > 0) == (template.json()["status"] == 1)
