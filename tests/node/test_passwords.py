"""The password strength rule (foundation.crypto.passwords), and the bootstrap administrator password it guards: a weak
SECNODE_BOOTSTRAP_ADMIN_PASSWORD creates nothing, and `secnode init` says which rule it breaks."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from foundation.config import Settings
from foundation.crypto.passwords import check_password_strength
from foundation.db import Database
from foundation.errors import InvalidRequest
from registry.accounts.models import Account
from registry.bootstrap import ensure_node
from registry.kernel.models import HandleRecord
from tests.conftest import migrated_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "password, rule",
    [
        ("Sh0rt-pass", "shorter than 12 characters"),
        ("only-lower-case-words", "fewer than 3 of lower case letters, upper case letters, digits and other"),
        ("UPPERCASE2026", "fewer than 3 of"),
        ("hzsteel-pass-1", "an example password from the documentation"),
        ("Root-ADMIN-2026", "contains the user name 'admin'"),
    ],
)
def test_a_weak_password_is_refused_naming_the_rule(password, rule):
    with pytest.raises(InvalidRequest) as caught:
        check_password_strength(password, "admin")
    rules = caught.value.details["rules"]
    assert caught.value.name == "auth.weak_password" and len(rules) == 1 and rule in rules[0], rules


def test_a_password_breaking_several_rules_names_them_all():
    with pytest.raises(InvalidRequest) as caught:
        check_password_strength("admin1", "admin")
    assert len(caught.value.details["rules"]) == 3 and "shorter" in caught.value.message


def test_strong_passwords_pass():
    for password in ("Node-Secret-2026", "correct horse Battery staple", "钢卷Coil-2026-示范", "xK8#mQ2$vL9!"):
        check_password_strength(password, "admin")


def test_every_example_password_of_the_documentation_is_refused():
    text = "\n".join(
        p.read_text(encoding="utf-8")
        for p in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), ROOT / "helm/secnode/values.yaml"]
    )
    examples = (
        set(re.findall(r"\"password\":\s*\"([^\"']+)\"", text))  # not the shell-quoted "'"$ENT_PW"'"
        | set(re.findall(r"admin-password='([^']+)'", text))
        | set(re.findall(r"token admin '([^']+)'", text))
        | set(re.findall(r"-u '[^']*:([^':]+)'", text))
    )
    assert {"ADMIN-PASSWORD", "A-LONG-RANDOM-PASSWORD"} <= examples
    for example in examples:
        with pytest.raises(InvalidRequest):
            check_password_strength(example, "admin")


async def _counts(db: Database) -> tuple[int, int]:
    async with db.read_session() as session:
        accounts = (await session.execute(select(func.count()).select_from(Account))).scalar_one()
        records = (await session.execute(select(func.count()).select_from(HandleRecord))).scalar_one()
        return accounts, records


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
async def test_a_weak_bootstrap_password_creates_no_administrator(dialect, tmp_path):
    async with migrated_database(dialect, tmp_path) as url:
        db = Database(url)
        try:
            with pytest.raises(InvalidRequest) as caught:
                async with db.unit_of_work() as session:
                    await ensure_node(session, Settings(database_url=url, bootstrap_admin_password="Admin-2026-pw"))
            assert caught.value.name == "auth.weak_password"
            assert caught.value.message == (
                "SECNODE_BOOTSTRAP_ADMIN_PASSWORD is too weak: it contains the user name 'admin'"
            )
            assert await _counts(db) == (0, 0)

            async with db.unit_of_work() as session:
                assert (
                    await ensure_node(session, Settings(database_url=url, bootstrap_admin_password="Node-Secret-2026"))
                    is None
                )
            assert (await _counts(db))[0] == 1
            # once the node exists the setting is not used, so it is not checked either
            async with db.unit_of_work() as session:
                assert await ensure_node(session, Settings(database_url=url, bootstrap_admin_password="weak")) is None
        finally:
            await db.dispose()


def test_init_with_a_weak_bootstrap_password_exits_naming_the_rule(tmp_path):
    def init(password: str) -> subprocess.CompletedProcess:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": password}
        return subprocess.run(
            [sys.executable, "-m", "node.cli", "init"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    refused = init("short-pw")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "auth.weak_password" in refused.stdout and "SECNODE_BOOTSTRAP_ADMIN_PASSWORD" in refused.stdout
    assert "shorter than 12 characters" in refused.stdout and "Traceback" not in refused.stderr
    created = init("Node-Secret-2026")
    assert created.returncode == 0 and "ready" in created.stdout, created.stdout + created.stderr
