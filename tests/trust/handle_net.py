"""Handle.Net 9's trust classes (``net.handle.hdllib.trust``) as an oracle: compiled with ``javac`` from Handle.Net's
own source (a copy of Handle.Net 9.2, CNRI, under the Handle.Net Public License: a mirror of the public repository
MistraR/handle, or ``SECNODE_TEST_HANDLE_NET_SOURCE``) against the gson and commons-codec jars of the local Maven
repository, with ``tests/trust/HandleTrustOracle.java`` reading and writing JSON. Nothing of Handle.Net is kept in
this repository; one class it needs only for TLS certificates is replaced by a stub (``tests/trust/stubs``).
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from foundation.crypto.trust_keys import TrustKey
from foundation.handle_values import value_octets

HERE = Path(__file__).resolve().parent
MIRROR = Path("/work/.mirror/MistraR+handle/repo")
M2 = Path(os.environ.get("SECNODE_TEST_M2", str(Path.home() / ".m2" / "repository")))
JARS = (
    "com/google/code/gson/gson/2.10.1/gson-2.10.1.jar",
    "commons-codec/commons-codec/1.15/commons-codec-1.15.jar",
)
CNRI_UTIL = "cnri-libs/net/cnri/cnriutil/2.0/cnriutil-2.0.jar"


def available() -> str | None:
    """Why the oracle cannot run here, or None."""
    if shutil.which("javac") is None or shutil.which("java") is None:
        return "javac is not installed"
    return None


def _source(workdir: Path) -> Path:
    configured = os.environ.get("SECNODE_TEST_HANDLE_NET_SOURCE")
    if configured:
        return Path(configured)
    if not MIRROR.exists():
        raise RuntimeError(
            f"Handle.Net's source is needed to build the oracle: set SECNODE_TEST_HANDLE_NET_SOURCE to a checkout of "
            f"Handle.Net 9 (or keep a bare mirror at {MIRROR})"
        )
    archive = subprocess.run(["git", "-C", str(MIRROR), "archive", "HEAD"], capture_output=True, check=True).stdout
    target = workdir / "handle-net"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


class Oracle:
    def __init__(self, workdir: Path):
        source = _source(workdir)
        jars = [str(M2 / j) for j in JARS] + [str(source / CNRI_UTIL)]
        missing = [j for j in jars if not Path(j).exists()]
        if missing:
            raise RuntimeError(f"jars the oracle needs are missing: {missing}")
        classes = workdir / "classes"
        classes.mkdir(parents=True, exist_ok=True)
        compiled = subprocess.run(
            [
                "javac",
                "-nowarn",
                "-d",
                str(classes),
                "-sourcepath",
                f"{HERE / 'stubs'}{os.pathsep}{source / 'src/main/java'}",
                "-cp",
                os.pathsep.join(jars),
                str(HERE / "HandleTrustOracle.java"),
            ],
            capture_output=True,
            text=True,
        )
        if compiled.returncode != 0:
            raise RuntimeError(f"javac failed: {compiled.stderr[-3000:]}")
        self.classpath = os.pathsep.join([str(classes), *jars])

    def _run(self, mode: str, request: dict[str, Any]) -> dict[str, Any]:
        done = subprocess.run(
            ["java", "-cp", self.classpath, "HandleTrustOracle", mode],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout)

    def verify(
        self, handle: str, values: list[dict], records: dict[str, list[dict]], roots: list[Any]
    ) -> dict[str, Any]:
        """Handle.Net's HandleRecordTrustVerifier over ``values`` of ``handle``, its ChainBuilder reading ``records``
        (the handles of the chain: enterprise and node NA handles, 0.0/0.0), its ChainVerifier trusting ``roots``."""
        return self._run(
            "verify",
            {
                "handle": handle,
                "values": encoded(values),
                "records": {name: encoded(found) for name, found in records.items()},
                "roots": [spki(root) for root in roots],
            },
        )

    def sign(self, handle: str, values: list[dict], signer: str, key: TrustKey, chain: list[str], lifetime: int) -> str:
        """Handle.Net's HandleSigner.signHandleValues with an RSA key (the signer Handle.Net has)."""
        der = key.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        answer = self._run(
            "sign",
            {
                "handle": handle,
                "values": encoded(values),
                "signer": signer,
                "privateKey": base64.b64encode(der).decode(),
                "chain": chain,
                "lifetime": lifetime,
            },
        )
        return answer["jws"]


def encoded(values: list[dict]) -> list[str]:
    """Values as Handle's binary encoding (what the native face sends), for Handle.Net's Encoder to decode."""
    return [base64.b64encode(value_octets(v)).decode() for v in values]


def spki(public_key: Any) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()
