"""Enterprise users with roles, API keys, login lockout and password rotation, attacked."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, update

from registry.accounts.models import SecretLockout
from registry.kernel.clock import utcnow
from tests.factories import admin_headers, basic, coil, login, onboard

STRONG = "Registrar-Pass-2026"
URL_VALUE = [{"index": 1, "type": "URL", "data": {"format": "string", "value": "https://example.com/coil"}}]


async def add_user(client, tenant, username: str, role: str, password: str = STRONG):
    response = await client.post(
        "/identity/users", headers=tenant.headers, json={"username": username, "password": password, "role": role}
    )
    assert response.status_code == 201, response.text
    return await login(client, username, password)


async def test_roles_bound_what_each_user_may_do(client):
    tenant = await onboard(client, "roles")
    registrar = await add_user(client, tenant, "roles-registrar", "registrar")
    auditor = await add_user(client, tenant, "roles-auditor", "auditor")

    created = await client.post("/identityv2/data", json=coil(tenant.prefix, 1), headers=registrar)
    assert created.json()["status"] == 1, created.text
    handle = f"{tenant.prefix}/COIL-2026-000001"
    # the auditor reads everything of its enterprise, even the history, and writes nothing
    history = await client.get("/identityv2/data/history", params={"handle": handle}, headers=auditor)
    assert history.json()["status"] == 1, history.text
    for method, url, body in [
        ("POST", "/identityv2/data", coil(tenant.prefix, 2)),
        ("DELETE", f"/identityv2/data?handle={handle}", None),
        ("PUT", f"/api/handles/{tenant.prefix}/x", [{"index": 1, "type": "URL", "data": "u"}]),
        ("POST", "/identity/api-keys", {"name": "sneaky"}),
    ]:
        refused = await client.request(method, url, json=body, headers=auditor)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "auth.read_only"
    # the registrar registers but administers nothing: no users, keys, grants, templates or prefixes
    for method, url, body in [
        ("POST", "/identity/users", {"username": "mine", "password": STRONG, "role": "enterprise_admin"}),
        ("PUT", "/identity/users/roles-registrar", {"role": "enterprise_admin"}),
        ("POST", "/identity/api-keys", {"name": "erp"}),
        ("PUT", "/epcis/grants/1", None),
        ("POST", "/snms/api/v5/prefixes", {}),
    ]:
        refused = await client.request(method, url, json=body, headers=registrar)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "auth.role_forbidden"
    users = (await client.get("/identity/users", headers=tenant.headers)).json()["data"]
    assert {u["username"]: u["role"] for u in users} == {
        "roles": "enterprise_admin",
        "roles-registrar": "registrar",
        "roles-auditor": "auditor",
    }


async def test_no_user_reaches_beyond_its_enterprise_or_its_role(client):
    owner = await onboard(client, "usrowner")
    stranger = await onboard(client, "usrstranger")
    await add_user(client, owner, "usrowner-clerk", "registrar")
    # another enterprise's administrator neither sees nor changes our users
    assert (
        await client.put("/identity/users/usrowner-clerk", json={"disabled": True}, headers=stranger.headers)
    ).status_code == 404
    assert (
        await client.get("/identity/users", params={"enterpriseId": owner.enterprise_id}, headers=stranger.headers)
    ).status_code == 404
    # nobody grants node administration, and the last administrator cannot be demoted or disabled
    response = await client.post(
        "/identity/users",
        headers=owner.headers,
        json={"username": "usrowner-root", "password": STRONG, "role": "node_admin"},
    )
    assert response.status_code == 400
    for change in ({"role": "registrar"}, {"disabled": True}):
        response = await client.put("/identity/users/usrowner", json=change, headers=owner.headers)
        assert response.status_code == 409 and response.json()["error"] == "account.last_admin", response.text
    # weak passwords are refused
    response = await client.post(
        "/identity/users",
        headers=owner.headers,
        json={"username": "usrowner-weak", "password": "password", "role": "auditor"},
    )
    assert response.status_code == 400 and response.json()["error"] == "auth.weak_password"
    # the node administrator manages any enterprise's users by naming it
    admin = await admin_headers(client)
    listed = await client.get("/identity/users", params={"enterpriseId": owner.enterprise_id}, headers=admin)
    assert {u["username"] for u in listed.json()["data"]} == {"usrowner", "usrowner-clerk"}


async def test_api_keys_work_until_revoked_and_rotate(client):
    tenant = await onboard(client, "keyed")
    issued = await client.post("/identity/api-keys", json={"name": "erp", "role": "registrar"}, headers=tenant.headers)
    assert issued.status_code == 201, issued.text
    key = issued.json()["data"]
    bearer = {"Authorization": f"Bearer {key['key']}"}
    assert (await client.post("/identityv2/data", json=coil(tenant.prefix, 1), headers=bearer)).json()["status"] == 1
    listed = (await client.get("/identity/api-keys", headers=tenant.headers)).json()["data"]
    assert [k["name"] for k in listed] == ["erp"] and "key" not in listed[0]
    assert key["key"] not in (await client.get("/identity/api-keys", headers=tenant.headers)).text

    rotated = (await client.post(f"/identity/api-keys/{key['id']}/rotate", headers=tenant.headers)).json()["data"]
    new_bearer = {"Authorization": f"Bearer {rotated['key']}"}
    old = await client.post("/identityv2/data", json=coil(tenant.prefix, 2), headers=bearer)
    assert old.status_code == 401 and old.json()["error"] == "auth.bad_api_key"
    assert (await client.post("/identityv2/data", json=coil(tenant.prefix, 2), headers=new_bearer)).json()[
        "status"
    ] == 1
    assert (await client.delete(f"/identity/api-keys/{rotated['id']}", headers=tenant.headers)).status_code == 200
    revoked = await client.post("/identityv2/data", json=coil(tenant.prefix, 3), headers=new_bearer)
    assert revoked.status_code == 401
    # an application key is never an administrator, and another enterprise cannot revoke ours
    response = await client.post(
        "/identity/api-keys", json={"name": "root", "role": "enterprise_admin"}, headers=tenant.headers
    )
    assert response.status_code == 400
    other = await onboard(client, "keythief")
    assert (await client.delete(f"/identity/api-keys/{key['id']}", headers=other.headers)).status_code == 404


async def test_repeated_wrong_passwords_lock_the_account(client):
    tenant = await onboard(client, "lockme")
    for _ in range(5):
        wrong = await client.post("/identity/token", json={"username": "lockme", "password": "guess"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "auth.bad_credentials"
    locked = await client.post("/identity/token", json={"username": "lockme", "password": tenant.password})
    assert locked.status_code == 401 and locked.json()["error"] == "auth.locked"
    # the node administrator lifts the lock by re-enabling the user
    admin = await admin_headers(client)
    response = await client.put("/identity/users/lockme", json={"disabled": False}, headers=admin)
    assert response.status_code == 200, response.text
    assert (
        await client.post("/identity/token", json={"username": "lockme", "password": tenant.password})
    ).status_code == 200


async def test_repeated_wrong_secrets_lock_the_handle_identity(client, fresh_node):
    tenant = await onboard(client, "seclock")
    identity, url = f"300:{tenant.prefix}/admin", f"/api/handles/{tenant.prefix}/after-lockout"
    # concurrent guesses all count
    wrong = await asyncio.gather(
        *(client.put(url, json=URL_VALUE, headers=basic(identity, f"guess-{n}")) for n in range(5))
    )
    assert {(r.status_code, r.json()["error"]) for r in wrong} == {(401, "auth.bad_credentials")}
    locked = await client.put(url, json=URL_VALUE, headers=tenant.handle_admin)
    assert locked.status_code == 401 and locked.json()["error"] == "auth.locked", locked.text
    assert (await client.get(url)).status_code == 404  # nothing written
    # the bearer login of the same enterprise is another credential, not locked
    assert (await client.get("/identity/users", headers=tenant.headers)).status_code == 200

    async with fresh_node.unit_of_work() as session:  # the lock's time runs out
        await session.execute(update(SecretLockout).values(locked_until=utcnow()))
    assert (await client.put(url, json=URL_VALUE, headers=tenant.handle_admin)).status_code == 201
    async with fresh_node.read_session() as session:  # and the right secret clears the count
        assert (await session.execute(select(SecretLockout))).scalars().all() == []


async def test_successes_between_wrong_secrets_reset_the_count(client):
    tenant = await onboard(client, "secreset")
    identity, url = f"300:{tenant.prefix}/admin", f"/api/handles/{tenant.prefix}/typo-prone"
    assert (await client.put(url, json=URL_VALUE, headers=tenant.handle_admin)).status_code == 201
    for _ in range(3):  # a client that mistypes now and then, each round followed by successful writes
        for n in range(3):
            wrong = await client.put(url, json=URL_VALUE, headers=basic(identity, f"typo-{n}"))
            assert wrong.json()["error"] == "auth.bad_credentials", wrong.text
        right = await client.put(url, json=URL_VALUE, headers=tenant.handle_admin)
        assert right.status_code == 200, right.text


async def test_wrong_secrets_from_one_address_do_not_lock_out_the_others(fresh_node, database_url):
    import httpx

    from node.app import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(database_url), db=fresh_node)

    def from_address(host: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(host, 40000)), base_url="http://testserver"
        )

    async with (
        app.router.lifespan_context(app),
        from_address("127.0.0.7") as holder,
        from_address("127.0.0.66") as guesser,
    ):
        tenant = await onboard(holder, "secaddress")
        identity, url = f"300:{tenant.prefix}/admin", f"/api/handles/{tenant.prefix}/guarded"
        for n in range(5):
            await guesser.put(url, json=URL_VALUE, headers=basic(identity, f"guess-{n}"))
        locked = await guesser.put(url, json=URL_VALUE, headers=tenant.handle_admin)
        assert locked.status_code == 401 and locked.json()["error"] == "auth.locked", locked.text
        # the identity's holder, elsewhere, is not locked out
        written = await holder.put(url, json=URL_VALUE, headers=tenant.handle_admin)
        assert written.status_code == 201, written.text
        # and its success does not lift the guesser's lock
        assert (await guesser.put(url, json=URL_VALUE, headers=tenant.handle_admin)).json()["error"] == "auth.locked"


async def test_password_rotation_ends_old_tokens(client):
    tenant = await onboard(client, "rotator")
    body = {"oldPassword": tenant.password, "newPassword": "Rotated-Pass-2026"}
    assert (
        await client.put("/identity/password", json=body | {"oldPassword": "wrong"}, headers=tenant.headers)
    ).status_code == 401
    weak = await client.put("/identity/password", json=body | {"newPassword": "short"}, headers=tenant.headers)
    assert weak.status_code == 400 and weak.json()["error"] == "auth.weak_password"
    assert (await client.put("/identity/password", json=body, headers=tenant.headers)).status_code == 200
    assert (await client.get("/identity/users", headers=tenant.headers)).status_code == 401
    assert (
        await client.post("/identity/token", json={"username": "rotator", "password": tenant.password})
    ).status_code == 401
    await login(client, "rotator", "Rotated-Pass-2026")


async def test_the_embedded_default_sqlite_locks_keys_and_signs_in_by_key(tmp_path):
    """The same flows on SQLite, which hands stored times back without their zone."""
    import base64

    import httpx
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from foundation.crypto.pubkeys import public_jwk, sign
    from foundation.db import Database
    from foundation.migrate import upgrade
    from node.app import create_app
    from registry.bootstrap import ensure_node
    from tests.conftest import ADMIN_PASSWORD, make_settings

    url = f"sqlite+aiosqlite:///{tmp_path}/foundation.db"
    upgrade(url)
    settings = make_settings(url, redis_url=None)
    db = Database(url)
    async with db.unit_of_work() as session:
        await ensure_node(session, settings)
    app = create_app(settings, db=db)
    try:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                assert ADMIN_PASSWORD and (await admin_headers(client))
                tenant = await onboard(client, "embedded")
                for _ in range(5):
                    await client.post("/identity/token", json={"username": "embedded", "password": "guess"})
                locked = await client.post(
                    "/identity/token", json={"username": "embedded", "password": tenant.password}
                )
                assert locked.json()["error"] == "auth.locked", locked.text
                users = (await client.get("/identity/users", headers=tenant.headers)).json()["data"]
                assert users[0]["lockedUntil"] is not None

                key = (
                    await client.post(
                        "/identity/api-keys", json={"name": "erp", "expiresInDays": 30}, headers=tenant.headers
                    )
                ).json()["data"]
                bearer = {"Authorization": f"Bearer {key['key']}"}
                assert (await client.post("/identityv2/data", json=coil(tenant.prefix, 1), headers=bearer)).json()[
                    "status"
                ] == 1
                rotated = await client.post(f"/identity/api-keys/{key['id']}/rotate", headers=tenant.headers)
                assert rotated.status_code == 200, rotated.text

                # a wrong Basic-auth secret is counted in a transaction of its own while the request's write
                # session (SQLite's one write connection) waits unused; the right one then clears the count
                url, identity = f"/api/handles/{tenant.prefix}/basic", f"300:{tenant.prefix}/admin"
                wrong = await client.put(url, json=URL_VALUE, headers=basic(identity, "guess"))
                assert wrong.json()["error"] == "auth.bad_credentials", wrong.text
                right = await client.put(url, json=URL_VALUE, headers=tenant.handle_admin)
                assert right.status_code == 201, right.text

                private_key = ed25519.Ed25519PrivateKey.generate()
                value = {"index": 300, "type": "HS_PUBKEY", "data": {"format": "key", "value": public_jwk(private_key)}}
                assert (
                    await client.put(
                        f"/api/handles/{tenant.prefix}/admin?index=300", json=[value], headers=tenant.handle_admin
                    )
                ).status_code == 200
                opened = (await client.post("/api/sessions")).json()
                cnonce = b"client-nonce-16b"
                signature = sign(private_key, base64.b64decode(opened["nonce"]) + cnonce)
                header = {
                    "Authorization": f'Handle sessionId="{opened["sessionId"]}", '
                    f'id="300:{tenant.prefix}/admin", type="HS_PUBKEY", '
                    f'cnonce="{base64.b64encode(cnonce).decode()}", '
                    f'signature="{base64.b64encode(signature).decode()}"'
                }
                assert (await client.put("/api/sessions/this", headers=header)).json()["authenticated"] is True
    finally:
        await db.dispose()


async def test_a_registrar_cannot_make_itself_an_administrator(client):
    """A registrar acts as its prefix's admin identity under Handle rules; it still must not give that identity
    (or any other) a secret or key of its own, nor change who administers."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from foundation.crypto.pubkeys import public_jwk

    tenant = await onboard(client, "escalator")
    registrar = await add_user(client, tenant, "escalator-clerk", "registrar")
    key = (await client.post("/identity/api-keys", json={"name": "erp"}, headers=tenant.headers)).json()["data"]
    application = {"Authorization": f"Bearer {key['key']}"}
    own_key = {
        "index": 300,
        "type": "HS_PUBKEY",
        "data": {"format": "key", "value": public_jwk(ed25519.Ed25519PrivateKey.generate())},
    }
    own_secret = {"index": 300, "type": "HS_SECKEY", "data": "Taken-Over-2026-x"}
    admin_value = {
        "index": 100,
        "type": "HS_ADMIN",
        "data": {
            "format": "admin",
            "value": {"handle": f"{tenant.prefix}/clerk", "index": 300, "permissions": "111111111111"},
        },
    }
    for headers in (registrar, application):
        for method, url, body in [
            ("PUT", f"/api/handles/{tenant.prefix}/admin?index=300", [own_key]),
            ("PUT", f"/api/handles/{tenant.prefix}/admin?index=300", [own_secret]),
            ("DELETE", f"/api/handles/{tenant.prefix}/admin", None),
            ("PUT", f"/api/handles/{tenant.prefix}/clerk", [own_secret]),
            ("PUT", f"/api/handles/{tenant.prefix}/doc", [admin_value]),
        ]:
            response = await client.request(method, url, json=body, headers=headers)
            assert response.status_code == 403, (method, url, response.text)
            # the admin identity's record is not deletable by anyone but the node (handle.reserved)
            assert response.json()["error"] in ("auth.role_forbidden", "handle.reserved"), response.text
    # the administrators' identity still works, and so do the registrar's ordinary writes
    assert (
        await client.put(
            f"/api/handles/{tenant.prefix}/doc",
            headers=registrar,
            json=[{"index": 1, "type": "URL", "data": "https://example.com"}],
        )
    ).status_code == 201
    assert (
        await client.put(
            f"/api/handles/{tenant.prefix}/doc2",
            headers=tenant.handle_admin,
            json=[{"index": 1, "type": "URL", "data": "https://example.com"}],
        )
    ).status_code == 201


async def test_only_the_prefix_admin_identity_acts_for_the_enterprise(client):
    """An identity named under an enterprise's prefix (here one the enterprise made for a partner's key) reads
    nothing of the enterprise's traceability: a name says nothing about who holds its key."""
    import base64

    from cryptography.hazmat.primitives.asymmetric import ed25519

    from foundation.crypto.pubkeys import public_jwk, sign

    tenant = await onboard(client, "namesake")
    partner_key = ed25519.Ed25519PrivateKey.generate()
    identity = [{"index": 300, "type": "HS_PUBKEY", "data": {"format": "key", "value": public_jwk(partner_key)}}]
    assert (
        await client.put(f"/api/handles/{tenant.prefix}/partner", json=identity, headers=tenant.handle_admin)
    ).status_code == 201
    coil_handle = f"{tenant.prefix}/COIL-1"
    assert (
        await client.put(
            f"/api/handles/{coil_handle}", json=[{"index": 1, "type": "URL", "data": "u"}], headers=tenant.handle_admin
        )
    ).status_code == 201
    name = f"300:{tenant.prefix}/partner"
    nonce = (await client.get("/identity/challenge", params={"handle": name})).json()["data"]["nonce"]
    answer = {
        "handle": name,
        "nonce": nonce,
        "signature": base64.b64encode(sign(partner_key, base64.b64decode(nonce))).decode(),
    }
    token = (await client.post("/identity/verify-response", json=answer)).json()["data"]["token"]
    partner = {"Authorization": f"Bearer {token}"}
    owner = await client.get("/epcis/events", params={"MATCH_anyEPC": coil_handle}, headers=tenant.headers)
    assert owner.status_code == 200
    namesake = await client.get("/epcis/events", params={"MATCH_anyEPC": coil_handle}, headers=partner)
    assert namesake.status_code == 403, namesake.text
