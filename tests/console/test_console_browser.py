"""The console in a real browser against a real node (PostgreSQL, Redis, ``secnode serve``): a visitor looks up a
door panel and reads its record with template labels; logged in as the car maker, sees its lifecycle and its trace
from the steel heat to the pallet, coloured by industry; clicks the coil to move up the chain; switches to English
and finds the maker's identifiers in its workspace. Screenshots go to tests/artifacts/console/."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from redis import Redis
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as shown
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import ADMIN_PASSWORD, redis_database, scratch_database
from tests.console.chain import Chain, seed
from tests.servers import running_node

pytestmark = pytest.mark.timeout(600)  # the first run on a fresh machine also installs Chromium (conftest.py)
REDIS_DB = 10  # a Redis database no other test uses
HOSTILE = '<img src=x onerror="alert(2)"><script>alert(3)</script>'


def _node_env(database_url: str) -> dict[str, str]:
    return {
        "SECNODE_DATABASE_URL": database_url,
        "SECNODE_REDIS_URL": redis_database(REDIS_DB),
        "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SECNODE_DATABASE_POOL_SIZE": "4",
    }


def _graph(driver: WebDriver) -> dict[str, tuple[str, str]]:
    """The drawn trace: identifier -> (industry, status)."""
    return {
        node.get_attribute("data-handle"): (node.get_attribute("data-industry"), node.get_attribute("data-status"))
        for node in driver.find_elements(By.CSS_SELECTOR, "#trace-graph g.node")
    }


def _cell(driver: WebDriver, index: int, column: int) -> str:
    return driver.find_element(By.CSS_SELECTOR, f'#record-values tr[data-index="{index}"] td:nth-child({column})').text


def _snap(driver: WebDriver, artifacts: Path, name: str, element_id: str | None = None) -> Path:
    if element_id:
        driver.execute_script("document.getElementById(arguments[0]).scrollIntoView()", element_id)
    path = artifacts / name
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


async def test_a_visitor_and_an_enterprise_use_the_console(browser: WebDriver, artifacts: Path, tmp_path: Path):
    started = time.monotonic()
    Redis.from_url(redis_database(REDIS_DB)).flushdb()
    async with scratch_database() as database_url:
        with running_node(_node_env(database_url), tmp_path) as node:
            async with httpx.AsyncClient(base_url=node, timeout=30) as http:
                chain = await seed(http)
                # the console owns "/" only: the proxy face still redirects identifiers to their URL
                heat = await http.get(f"/{chain.heat}")
                assert heat.status_code == 302 and heat.headers["location"] == "https://mill.example/heat/2611-0042"
                hostile = await http.put(
                    f"/api/handles/{chain.maker.prefix}/NOTE-1",
                    headers=chain.maker.handle_admin,
                    json=[
                        {"index": 1, "type": "URL", "data": "javascript:alert(1)"},
                        {"index": 2, "type": "NOTE", "data": HOSTILE},
                    ],
                )
                assert hostile.status_code == 201, hostile.text
            _hostile_values_stay_text(browser, node, f"{chain.maker.prefix}/NOTE-1")
            _walk(browser, node, chain, artifacts)
    problems = [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"] or "Uncaught" in entry["message"]
    ]
    assert not problems, problems
    assert time.monotonic() - started < 60


def _hostile_values_stay_text(driver: WebDriver, node: str, handle: str) -> None:
    driver.get(f"{node}/?handle={handle}")
    WebDriverWait(driver, 15).until(shown.presence_of_element_located((By.ID, "record-values")))
    assert _cell(driver, 2, 4) == HOSTILE
    assert _cell(driver, 1, 4) == "javascript:alert(1)"
    assert not driver.find_elements(By.CSS_SELECTOR, "#record-values a, #record-values img, #record-values script")


def _walk(driver: WebDriver, node: str, chain: Chain, artifacts: Path) -> None:
    wait = WebDriverWait(driver, 15, ignored_exceptions=[StaleElementReferenceException])  # views re-render
    part, coil = chain.parts[0], chain.coils[0]

    # a visitor whose browser asks for Chinese looks a door panel up
    driver.get(node + "/")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"
    assert driver.title == "标识解析二级节点控制台"
    driver.find_element(By.ID, "handle").send_keys(part)
    driver.find_element(By.CSS_SELECTOR, "#lookup button[type=submit]").click()
    wait.until(shown.presence_of_element_located((By.ID, "record-values")))
    assert driver.find_element(By.CSS_SELECTOR, ".record-handle").text == part
    assert (_cell(driver, 2000, 2), _cell(driver, 2000, 4)) == ("零件号", "DR-FL-01")
    assert (_cell(driver, 2001, 2), _cell(driver, 2001, 4)) == ("零件名称", "车门外板")
    assert _cell(driver, 2005, 2) == "材料标识"
    assert driver.find_element(By.CSS_SELECTOR, "#record-values a[data-handle]").text == coil  # a reference
    assert driver.find_element(By.CSS_SELECTOR, ".facts .chip").text == "汽车"
    wait.until(lambda d: d.execute_script("return document.getElementById('qr').naturalWidth") > 0)
    _snap(driver, artifacts, "01-record-zh.png")

    # events are for the owner and its partners: the anonymous visitor is asked to log in
    driver.find_element(By.ID, "tab-view-lifecycle").click()
    wait.until(shown.visibility_of_element_located((By.CSS_SELECTOR, "#view-lifecycle .need-login")))
    driver.find_element(By.ID, "login-open").click()
    driver.find_element(By.ID, "login-username").send_keys(chain.maker.username)
    driver.find_element(By.ID, "login-password").send_keys(chain.maker.password)
    driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
    wait.until(shown.presence_of_element_located((By.ID, "timeline")))
    assert driver.find_element(By.ID, "who").text == f"已登录：{chain.maker.username}"
    steps = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#timeline .event-title strong")]
    assert steps == ["生产赋码", "装箱", "拆箱", "装配"]  # made from the coil, packed, unpacked, assembled
    assert "2026年11月22日 10:00 +08:00" in driver.find_element(By.CSS_SELECTOR, "#timeline time").text
    _snap(driver, artifacts, "02-lifecycle-zh.png")

    # the trace: heat -> coil -> this panel -> crate -> pallet, and the vehicle it went into
    driver.find_element(By.ID, "tab-view-trace").click()
    wait.until(shown.presence_of_element_located((By.ID, "trace-graph")))
    assert _graph(driver) == {
        chain.heat: ("other", "found"),
        coil: ("steel", "found"),
        part: ("automotive", "found"),
        chain.vehicle: ("automotive", "found"),
        chain.crate: ("packaging", "found"),
        chain.pallet: ("packaging", "found"),
    }
    assert driver.find_element(By.CSS_SELECTOR, "#trace-graph g.root").get_attribute("data-handle") == part
    assert len(driver.find_elements(By.CSS_SELECTOR, "#trace-graph path.edge")) == 5
    _snap(driver, artifacts, "03-trace-zh.png")

    # a click on the coil moves up the chain: the coil is now the centre, its heat upstream, both panels downstream
    driver.find_element(By.CSS_SELECTOR, f'#trace-graph g.node[data-handle="{coil}"]').click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#trace-graph g.root[data-handle="{coil}"]'))
    assert set(_graph(driver)) == {chain.heat, coil, *chain.parts, chain.vehicle, chain.crate, chain.pallet}
    assert driver.find_element(By.ID, "handle").get_attribute("value") == coil
    _snap(driver, artifacts, "04-trace-coil-zh.png")

    # English, on the same view of the same identifier, still logged in
    driver.find_element(By.CSS_SELECTOR, 'a[data-lang="en"]').click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    wait.until(shown.presence_of_element_located((By.ID, "trace-graph")))
    assert driver.find_element(By.ID, "tab-view-trace").get_attribute("aria-selected") == "true"
    assert "This identifier" in [c.text for c in driver.find_elements(By.CSS_SELECTOR, "#trace-graph .column")]
    assert driver.find_element(By.ID, "who").text == f"Signed in: {chain.maker.username}"

    # the maker's workspace: its identifiers, a search, its statistics
    wait.until(shown.presence_of_element_located((By.ID, "ent-identifier-table")))
    listed = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#ent-identifier-table a")]
    assert set(listed) >= {*chain.parts, chain.vehicle}
    assert driver.find_element(By.ID, "ent-page").text == f"Page 1 of 1, {len(listed)} in all"
    _snap(driver, artifacts, "05-workspace-en.png", "enterprise")
    driver.find_element(By.ID, "ent-search").send_keys("vin")
    driver.find_element(By.CSS_SELECTOR, "#enterprise form button[type=submit]").click()
    wait.until(
        lambda d: [a.text for a in d.find_elements(By.CSS_SELECTOR, "#ent-identifier-table a")] == [chain.vehicle]
    )
    driver.find_element(By.ID, "tab-ent-stats").click()
    wait.until(shown.text_to_be_present_in_element((By.ID, "stat-total"), str(len(listed))))
    _snap(driver, artifacts, "06-statistics-en.png", "enterprise")
