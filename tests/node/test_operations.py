"""Operations endpoints: health, readiness (real Redis, and an unreachable one), metrics, OpenAPI."""

import httpx

from node.app import create_app
from tests.conftest import ADMIN_PASSWORD, make_settings
from tests.factories import basic
from tests.servers import free_port


async def test_health_and_readiness_with_redis(client):
    assert (await client.get("/healthz")).json()["status"] == "ok"
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "cache": "ok"}


async def test_readiness_reports_an_unreachable_redis(fresh_node, database_url):
    # a port where nothing listens: the shared Redis is never touched
    settings = make_settings(database_url, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    app = create_app(settings, db=fresh_node)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            ready = await http.get("/readyz")
            assert ready.status_code == 200 and ready.json()["status"] == "degraded"  # the pod stays in the Service
            assert ready.json()["checks"]["cache"].startswith("error")
            # resolution does not depend on Redis
            assert (await http.get("/api/handles/0.NA/88.118")).status_code == 200


async def test_metrics_count_requests_per_face(client):
    await client.get("/api/handles/88.118/nothing-here")
    await client.get("/snms/api/v5/template/list")
    body = (await client.get("/metrics")).text
    assert 'secnode_http_requests_total{face="handle",method="GET",status="404"}' in body
    assert 'secnode_http_requests_total{face="business",method="GET",status="200"}' in body


async def test_openapi_documents_both_faces(client):
    assert (await client.get("/docs")).status_code == 200
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in (
        "/api/handles/{handle}",
        "/identityv2/data/batchCreate",
        "/snms/api/v5/template",
        "/identity/token",
        "/readyz",
    ):
        assert path in paths


async def test_credentials_over_plain_http_from_afar_are_refused(fresh_node, settings):
    app = create_app(settings, db=fresh_node)
    async with app.router.lifespan_context(app):
        remote = httpx.ASGITransport(app=app, client=("203.0.113.7", 5555))
        async with httpx.AsyncClient(transport=remote, base_url="http://node.example") as http:
            login = await http.post("/identity/token", json={"username": "admin", "password": "x"})
            assert login.status_code == 401 and login.json()["error"] == "auth.insecure_transport"
            assert (await http.get("/api/handles/0.NA/88.118")).status_code == 200  # reads need no credentials
        secure = httpx.ASGITransport(app=app, client=("203.0.113.7", 5555))
        async with httpx.AsyncClient(transport=secure, base_url="https://node.example") as http:
            login = await http.post("/identity/token", json={"username": "admin", "password": "x"})
            assert login.json()["error"] == "auth.bad_credentials"


async def test_bad_query_parameters_get_face_errors_not_500(client):
    response = await client.get("/snms/api/v5/prefixes?page=abc", headers={"Authorization": "Bearer x"})
    assert response.status_code == 400 and response.json()["status"] == -2
    response = await client.get("/api/handles?prefix=88.118&page=x", headers=basic("300:0.NA/88.118", ADMIN_PASSWORD))
    assert response.status_code == 400 and response.json()["responseCode"] == 2
    response = await client.get("/api/handles/88.118/x?" + "&".join(f"index={i}" for i in range(17)))
    assert response.status_code == 400
