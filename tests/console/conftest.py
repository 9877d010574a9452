"""Headless Chromium driven by Selenium through chromedriver, both from Debian packages (installed here when they
are missing: the browser builds that test tools download for themselves cannot be fetched on these machines)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
# A CJK font, so that screenshots of the Chinese console show characters rather than boxes.
PACKAGES = ("chromium", "chromium-driver", "fonts-wqy-microhei")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "console"


def _install() -> None:
    if os.geteuid() == 0:
        prefix = ["env", "DEBIAN_FRONTEND=noninteractive"]
    elif shutil.which("sudo"):
        prefix = ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive"]
    else:
        pytest.fail(f"Chromium is missing: install the Debian packages {' '.join(PACKAGES)} as root")
    install = [*prefix, "apt-get", "install", "-y", "-qq", *PACKAGES]
    if subprocess.run(install, capture_output=True).returncode != 0:  # a fresh machine has no package lists yet
        subprocess.run([*prefix, "apt-get", "update", "-qq"], check=True, capture_output=True)
        subprocess.run(install, check=True, capture_output=True)


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        _install()
    return CHROMIUM


@pytest.fixture
def browser(chromium: Path) -> Iterator[webdriver.Chrome]:
    """A Chinese-speaking browser: it asks for zh-CN first, as most visitors of the node do."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    # --no-sandbox: Chromium refuses its sandbox when run as root, as the suite is in CI.
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1300,1000",
        "--lang=zh-CN",
    ):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh,en"})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Screenshots to look at after the run (tests/artifacts/, ignored by git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
