"""pyhandle, a real Handle REST client, against a real secnode server on PostgreSQL."""

import uuid

import httpx
import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.factories import credit_code
from tests.servers import running_node

pyhandle = pytest.importorskip("pyhandle.handleclient")
from pyhandle.handleexceptions import HandleAlreadyExistsException, HandleNotFoundException  # noqa: E402


def _tenant(url: str) -> tuple[str, str]:
    http = httpx.Client(base_url=url, timeout=30)
    token = http.post("/identity/token", json={"username": "admin", "password": ADMIN_PASSWORD}).json()
    admin = {"Authorization": "Bearer " + token["data"]["token"]}
    name = "ph" + uuid.uuid4().hex[:8]
    enterprise = http.post(
        "/snms/api/v5/enterprises",
        json={
            "name": "Handle client test",
            "creditCode": credit_code(),
            "industry": "automotive",
            "industryCode": "C3670",
            "contactName": "王五",
            "contactPhone": "010-1234-5678",
            "contactEmail": "h@example.com",
            "username": name,
            "password": "PyHandle-Secret-2026",
        },
    ).json()["data"]
    http.post(f"/snms/api/v5/enterprises/{enterprise['id']}/audit", json={"approve": True}, headers=admin)
    prefix = http.post(
        "/snms/api/v5/prefixes",
        json={"enterpriseId": enterprise["id"], "adminPassword": "PyHandle-Secret-2026"},
        headers=admin,
    ).json()["data"]["prefix"]
    http.post(f"/snms/api/v5/prefixes/{prefix}/audit", json={"approve": True}, headers=admin)
    return prefix, "PyHandle-Secret-2026"


def test_pyhandle_registers_reads_modifies_and_deletes(fresh_node, database_url, tmp_path):
    from pyhandle.client.resthandleclient import RESTHandleClient

    env = {"SECNODE_DATABASE_URL": database_url, "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD}
    with running_node(env, tmp_path) as url:
        prefix, password = _tenant(url)
        client = RESTHandleClient.instantiate_with_username_and_password(
            url, f"300:{prefix}/admin", password, HTTPS_verify=False
        )
        handle = f"{prefix}/PART-{uuid.uuid4().hex[:8].upper()}"

        assert client.register_handle(handle, "https://example.com/part/1", checksum="abc123") == handle
        with pytest.raises(HandleAlreadyExistsException):
            client.register_handle(handle, "https://example.com/other")
        assert client.get_value_from_handle(handle, "URL") == "https://example.com/part/1"
        record = client.retrieve_handle_record(handle)
        assert record["CHECKSUM"] == "abc123" and "HS_ADMIN" in record

        client.modify_handle_value(handle, URL="https://example.com/part/1-v2", NOTE="inspected")
        assert client.get_value_from_handle(handle, "URL") == "https://example.com/part/1-v2"
        assert client.get_value_from_handle(handle, "NOTE") == "inspected"
        client.delete_handle_value(handle, "NOTE")
        assert client.get_value_from_handle(handle, "NOTE") is None

        reader = RESTHandleClient.instantiate_for_read_access(handle_server_url=url)
        assert reader.get_value_from_handle(handle, "URL") == "https://example.com/part/1-v2"
        assert reader.retrieve_handle_record_json(f"{prefix}/nope") is None

        client.delete_handle(handle)
        assert reader.retrieve_handle_record_json(handle) is None
        with pytest.raises(HandleNotFoundException):
            client.delete_handle(handle)
