#!/usr/bin/env bash
# Run the node on its embedded default (SQLite file in the working directory, in-process cache): no services.
# Arguments go to `secnode serve` (e.g. --port 8080). Configure with SECNODE_* variables (README).
source "$(dirname "$0")/_venv.sh"
exec .venv/bin/secnode serve "$@"
