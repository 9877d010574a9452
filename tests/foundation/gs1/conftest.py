"""GS1's Digital Link toolkit as an outside oracle: ``GS1DigitalLinkToolkit.js`` (GS1's reference code for Digital
Link parsing, building and compression, shipped inside the npm package ``digital-link.js``) run by Node.js over a
batch of cases. ``npm ci`` installs it once into ``oracle/node_modules`` from the lock file beside it."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ORACLE = Path(__file__).parent / "oracle"


@pytest.fixture(scope="session")
def toolkit():
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm run GS1's Digital Link toolkit; neither is installed")
    if not (ORACLE / "node_modules" / "digital-link.js").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ORACLE, check=True, capture_output=True)

    def run(**cases):
        done = subprocess.run(
            ["node", str(ORACLE / "oracle.js")], input=json.dumps(cases), capture_output=True, text=True, check=True
        )
        return json.loads(done.stdout)

    return run
