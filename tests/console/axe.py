"""axe-core, the accessibility rules engine, from its npm package (installed once into .cache/axe), run in the
page under test."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "axe"
PACKAGE = "axe-core@4.10.3"
SCRIPT = CACHE / "node_modules" / "axe-core" / "axe.min.js"


def axe_source() -> str:
    if not SCRIPT.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(f"npm is missing, so {PACKAGE} cannot be installed")
        CACHE.mkdir(parents=True, exist_ok=True)
        installed = subprocess.run(
            [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", PACKAGE],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if installed.returncode != 0 or not SCRIPT.exists():
            pytest.fail(f"npm install {PACKAGE} failed:\n{installed.stdout}{installed.stderr}")
    return SCRIPT.read_text()


def serious_violations(driver: WebDriver, selector: str) -> list[str]:
    """axe-core's serious and critical findings inside ``selector``, one line each."""
    driver.execute_script(axe_source())
    violations = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document.querySelector(arguments[0])).then((r) => done(r.violations));",
        selector,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
