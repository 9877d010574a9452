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


def test_pyhandle_search_handle_finds_by_value(fresh_node, database_url, tmp_path):
    """pyhandle's ``search_handle`` (the reverse-lookup servlet's client) against the node's ``/hrls/handles``."""
    from pyhandle.client.resthandleclient import RESTHandleClient
    from pyhandle.handleexceptions import ReverseLookupException

    env = {"SECNODE_DATABASE_URL": database_url, "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD}
    with running_node(env, tmp_path) as url:
        prefix, password = _tenant(url)
        owner = f"300:{prefix}/admin"
        writer = RESTHandleClient.instantiate_with_username_and_password(url, owner, password, HTTPS_verify=False)
        tag = uuid.uuid4().hex[:8]
        first, second, other = (f"{prefix}/S-{tag}-{n}" for n in (1, 2, 3))
        writer.register_handle(first, f"https://example.com/{tag}/1", checksum="c0ffee")
        writer.register_handle(second, f"https://example.com/{tag}/2")
        writer.register_handle(other, "https://elsewhere.example.org/3", checksum="C0FFEE")

        searcher = RESTHandleClient.instantiate_for_read_and_search(url, owner, password, HTTPS_verify=False)
        assert searcher.search_handle(URL=f"https://example.com/{tag}/1") == [first]
        assert searcher.search_handle(URL=f"https://example.com/{tag}/*") == [first, second]
        assert sorted(searcher.search_handle(CHECKSUM="c0ffee")) == sorted([first, other])  # case is ignored
        assert searcher.search_handle(URL=f"https://example.com/{tag}/*", CHECKSUM="c0*") == [first]
        assert searcher.search_handle(URL=f"*{tag}*") == [first, second]  # a leading wildcard (trigram index)
        assert set(searcher.search_handle(URL="*", prefix=prefix)) == {first, second, other}
        assert searcher.search_handle(URL="https://nowhere.example.net/*") == []
        writer.delete_handle(first)
        assert searcher.search_handle(URL=f"https://example.com/{tag}/*") == [second]

        with pytest.raises(ReverseLookupException):  # too little text after a leading wildcard: a 400
            searcher.search_handle(URL="*ab*")
        with pytest.raises(ReverseLookupException, match="Authentication failed"):
            RESTHandleClient.instantiate_for_read_and_search(
                url, owner, "wrong-password", HTTPS_verify=False
            ).search_handle(URL="*")
