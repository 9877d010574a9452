"""The node administrator's live operations view in a real browser against a real node under a small load: it
appears for the administrator only, draws its charts from readings a few seconds apart (resolutions per second
above zero, every cache tier's share, registrations per day) and the slowest operations, and axe-core finds no
serious accessibility problem in it. Screenshots go to tests/artifacts/console/."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from redis import Redis
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import ADMIN_PASSWORD, redis_database, scratch_database
from tests.console.axe import serious_violations
from tests.factories import onboard
from tests.servers import running_node

pytestmark = pytest.mark.timeout(600)
REDIS_DB = 7  # a Redis database no other test uses


def _env(database_url: str) -> dict[str, str]:
    return {
        "SECNODE_DATABASE_URL": database_url,
        "SECNODE_REDIS_URL": redis_database(REDIS_DB),
        "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SECNODE_DATABASE_POOL_SIZE": "4",
    }


def _load(node: str, handle: str, stop: threading.Event) -> None:
    with httpx.Client(base_url=node, timeout=10) as http:
        while not stop.is_set():
            http.get(f"/api/handles/{handle}")
            http.get("/api/handles/88.118/absent")
            time.sleep(0.01)


async def test_the_administrator_watches_the_node(browser: WebDriver, artifacts: Path, tmp_path: Path):
    Redis.from_url(redis_database(REDIS_DB)).flushdb()
    async with scratch_database() as database_url:
        with running_node(_env(database_url), tmp_path) as node:
            async with httpx.AsyncClient(base_url=node, timeout=30) as http:
                tenant = await onboard(http, "watched")
                for n in range(3):
                    created = await http.put(
                        f"/api/handles/{tenant.prefix}/W-{n}",
                        headers=tenant.handle_admin,
                        json=[{"index": 1, "type": "URL", "data": f"https://example.com/w/{n}"}],
                    )
                    assert created.status_code == 201
            stop = threading.Event()
            load = threading.Thread(target=_load, args=(node, f"{tenant.prefix}/W-0", stop), daemon=True)
            load.start()
            try:
                _watch(browser, node, tenant.prefix, artifacts)
            finally:
                stop.set()
                load.join(timeout=10)


def _watch(driver: WebDriver, node: str, prefix: str, artifacts: Path) -> None:
    wait = WebDriverWait(driver, 30)
    driver.get(node + "/?lang=en")
    driver.find_element(By.ID, "login-open").click()
    driver.find_element(By.ID, "login-username").send_keys("admin")
    driver.find_element(By.ID, "login-password").send_keys(ADMIN_PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
    wait.until(lambda d: d.find_element(By.ID, "operations").is_displayed())
    # three readings five seconds apart: two rates on the line
    WebDriverWait(driver, 40).until(
        lambda d: int(d.find_element(By.ID, "ops-resolutions").get_attribute("data-points")) >= 2
    )
    assert float(driver.find_element(By.ID, "ops-resolutions-now").text) > 0
    tiers = {r.get_attribute("data-tier") for r in driver.find_elements(By.CSS_SELECTOR, "#ops-tiers rect")}
    assert tiers == {"local", "redis", "database"}
    days = driver.find_elements(By.CSS_SELECTOR, "#ops-registrations g[data-day]")
    assert len(days) == 7 and days[-1].find_element(By.CSS_SELECTOR, ".bar-value").text == "3"
    faces = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#ops-slowest tbody tr")]
    assert any(row.startswith("handle resolve") for row in faces), faces
    assert driver.find_element(By.ID, "ops-sync").text == "No top-level node is configured."
    driver.execute_script("document.getElementById('operations').scrollIntoView()")
    driver.save_screenshot(str(artifacts / "10-operations-en.png"))
    assert serious_violations(driver, "#operations") == []
    problems = [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
    assert not problems, problems


async def test_an_enterprise_user_sees_no_operations_view(browser: WebDriver, tmp_path: Path):
    Redis.from_url(redis_database(REDIS_DB)).flushdb()
    async with scratch_database() as database_url:
        with running_node(_env(database_url), tmp_path) as node:
            async with httpx.AsyncClient(base_url=node, timeout=30) as http:
                tenant = await onboard(http, "plain")
            browser.get(node + "/?lang=en")
            browser.find_element(By.ID, "login-open").click()
            browser.find_element(By.ID, "login-username").send_keys(tenant.username)
            browser.find_element(By.ID, "login-password").send_keys(tenant.password)
            browser.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
            WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "enterprise").is_displayed())
            time.sleep(1)
            assert not browser.find_element(By.ID, "operations").is_displayed()
