"""One metrics directory for the workers of ``secnode serve``, so that ``/metrics`` adds them up.

Set before any worker starts (prometheus-client chooses how it keeps samples when first imported), and emptied:
samples left by an earlier run would be added to this one's.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def share_between_workers(directory: str | None) -> Path:
    """Point the workers at ``directory`` (else ``PROMETHEUS_MULTIPROC_DIR``, else a new temporary directory
    removed at exit), emptied of earlier samples; returns it."""
    chosen = directory or os.environ.get(DIRECTORY_VARIABLE)
    if chosen:
        path = Path(chosen)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
    else:
        path = Path(tempfile.mkdtemp(prefix="secnode-metrics-"))
        atexit.register(shutil.rmtree, path, ignore_errors=True)
    os.environ[DIRECTORY_VARIABLE] = str(path)
    return path
