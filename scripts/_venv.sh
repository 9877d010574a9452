# Sourced by the other scripts: a project virtual environment in .venv with secnode installed.
# Works with an externally-managed system Python: nothing is installed outside .venv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

if [ ! -x .venv/bin/python ]; then
    if ! python3 -m venv .venv 2>/dev/null; then
        rm -rf .venv
        $SUDO apt-get update -qq && $SUDO apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv .venv
    fi
    .venv/bin/python -m pip install -q --upgrade pip > .venv/install.log 2>&1 || { cat .venv/install.log; exit 1; }
fi
EXTRAS="${SECNODE_EXTRAS:-}"
STAMP=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)${EXTRAS:+-$EXTRAS}"
if [ ! -f "$STAMP" ]; then
    .venv/bin/python -m pip install -q -e ".${EXTRAS:+[$EXTRAS]}" > .venv/install.log 2>&1 \
        || { cat .venv/install.log; exit 1; }
    touch "$STAMP"
fi
