"""The linters as configured in pyproject.toml: ``ruff check`` and ``ruff format --check`` over the tree, and
``mypy`` over the packages (strict for the registry and the resolver)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(tool: str, *args: str, timeout: float) -> None:
    executable = BIN / tool
    assert executable.exists(), f"{tool} is missing from {BIN}: install the test extra"
    result = subprocess.run([str(executable), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{tool} {' '.join(args)} failed:\n{result.stdout}{result.stderr}"


def test_ruff_check_is_clean():
    _run("ruff", "check", "--no-cache", ".", timeout=120)


def test_ruff_format_leaves_the_tree_as_it_is():
    _run("ruff", "format", "--check", "--no-cache", ".", timeout=120)


def test_mypy_is_clean():
    # the packages come from [tool.mypy] in pyproject.toml; its cache (.mypy_cache) makes later runs quick
    _run("mypy", timeout=600)
