"""The secnode command on the embedded default (SQLite in a temporary folder)."""

import subprocess
import sys

from tests.factories import credit_code


def _secnode(tmp_path, *args, input_text=None):
    env = {"PATH": "/usr/bin:/bin", "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": "Cli-Secret-2026", "HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "node.cli", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        input=input_text,
        timeout=120,
    )


def test_init_enterprise_and_prefix_administration(tmp_path):
    assert _secnode(tmp_path, "init").returncode == 0
    added = _secnode(
        tmp_path,
        "enterprise",
        "add",
        "--name",
        "宝钢示范",
        "--credit-code",
        credit_code(),
        "--industry",
        "steel",
        "--industry-code",
        "C3120",
        "--contact-name",
        "赵六",
        "--contact-phone",
        "021-6666-0000",
        "--contact-email",
        "a@example.com",
        "--username",
        "baosteel",
        "--password",
        "Bao-Steel-2026",
    )
    assert added.returncode == 0, added.stdout + added.stderr
    assert "approved" in added.stdout
    allocated = _secnode(
        tmp_path,
        "prefix",
        "allocate",
        "--enterprise-id",
        "1",
        "--code",
        "1042",
        "--admin-password",
        "Prefix-Admin-2026",
    )
    assert allocated.returncode == 0, allocated.stdout + allocated.stderr
    assert "88.118.1042: enabled (state 1)" in allocated.stdout
    assert "88.118.1042" in _secnode(tmp_path, "prefix", "list").stdout
    assert "disabled" in _secnode(tmp_path, "prefix", "disable", "88.118.1042").stdout
    refused = _secnode(tmp_path, "prefix", "approve", "88.118.1042")
    assert refused.returncode == 1 and "prefix.bad_transition" in refused.stdout
    bad = _secnode(
        tmp_path,
        "enterprise",
        "add",
        "--name",
        "x",
        "--credit-code",
        "91330100716105852E",
        "--industry",
        "steel",
        "--industry-code",
        "C3120",
        "--contact-name",
        "x",
        "--contact-phone",
        "021-6666-0000",
        "--contact-email",
        "a@example.com",
        "--username",
        "xx",
        "--password",
        "Strong-Pass-2026",
    )
    assert bad.returncode == 1 and "GB 32100" in bad.stdout


def test_more_workers_need_postgresql_and_redis(tmp_path):
    result = _secnode(tmp_path, "serve", "--workers", "2")
    assert result.returncode == 2 and "Redis" in result.stdout


def test_siteinfo_is_the_json_handle_net_tools_read_and_encodes_as_the_protocol_answers(tmp_path):
    import json

    from faces.handle_native.site import site_octets
    from tests.native_protocol.rfc_client import decode_site

    assert _secnode(tmp_path, "init").returncode == 0  # makes the node's key
    done = _secnode(tmp_path, "siteinfo", "--output", "siteinfo.json")
    assert done.returncode == 0, done.stderr
    site = json.loads((tmp_path / "siteinfo.json").read_text())
    [server] = site["servers"]
    assert server["address"] == "127.0.0.1" and server["publicKey"]["value"]["kty"] == "OKP"
    assert {(i["protocol"], i["port"]) for i in server["interfaces"]} >= {("TCP", 2641), ("UDP", 2641)}
    decoded = decode_site(site_octets(site))  # what get-site-info answers, read by the RFC client
    assert decoded["protocol_version"] == (2, 11) and decoded["servers"][0]["address"] == "127.0.0.1"
