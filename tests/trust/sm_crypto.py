"""sm-crypto (npm) as an outside SM2 implementation: installed with npm into a directory of the test session, driven by
``tests/trust/sm2_verify.js``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from foundation.crypto.pubkeys import b64decode_any

HERE = Path(__file__).resolve().parent
PACKAGE = "sm-crypto@0.3.13"


def available() -> str | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are not installed"
    return None


class SmCrypto:
    def __init__(self, workdir: Path):
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(workdir), PACKAGE],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"npm install {PACKAGE} failed: {done.stderr[-2000:]}")
        self.modules = workdir / "node_modules"

    def _run(self, mode: str, items: list[dict[str, Any]]) -> list[Any]:
        done = subprocess.run(
            ["node", str(HERE / "sm2_verify.js"), mode],
            input=json.dumps(items),
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "NODE_PATH": str(self.modules)},
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)

    def verify(self, message: bytes, signature: bytes, jwk: dict[str, str]) -> bool:
        point = "04" + b64decode_any(jwk["x"]).hex() + b64decode_any(jwk["y"]).hex()
        items = [{"message": message.decode("ascii"), "signature": signature.hex(), "publicKey": point}]
        return bool(self._run("verify", items)[0])

    def sign(self, message: bytes, private_hex: str) -> bytes:
        return bytes.fromhex(self._run("sign", [{"message": message.decode("ascii"), "privateKey": private_hex}])[0])
