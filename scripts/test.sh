#!/usr/bin/env bash
# The whole test suite on a fresh machine: .venv with the test extras, PostgreSQL and Redis on loopback
# (started, or installed and started, when not running), then pytest. Arguments go to pytest.
SECNODE_EXTRAS="test,handle-clients"
source "$(dirname "$0")/_venv.sh"
bash scripts/services.sh
exec .venv/bin/python -m pytest "$@"
