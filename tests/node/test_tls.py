"""`secnode serve --tls-cert --tls-key` serves HTTPS itself (both servers): a client that trusts the certificate
logs in; plain HTTP on that port gets nowhere; /metrics tells when the certificate expires."""

import datetime
import ipaddress
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from prometheus_client.parser import text_string_to_metric_families

from tests.servers import free_port

PASSWORD = "Tls-Secret-2026"


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "node.crt", directory / "node.key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_serve_speaks_https_itself(tmp_path, server):
    cert, key = _self_signed(tmp_path)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SECNODE_")},
        "SECNODE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/foundation.db",
        "SECNODE_NODE_KEY_FILE": str(tmp_path / "k"),
        "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD,
    }
    log = open(tmp_path / "serve.log", "w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "node.cli",
            "serve",
            "--port",
            str(port),
            "--server",
            server,
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
        ],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        with httpx.Client(
            base_url=f"https://127.0.0.1:{port}", verify=ssl.create_default_context(cafile=cert), timeout=5
        ) as https:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if https.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
            login = https.post("/identity/token", json={"username": "admin", "password": PASSWORD})
            assert login.status_code == 200 and login.json()["data"]["token"]
            not_after = x509.load_pem_x509_certificate(cert.read_bytes()).not_valid_after_utc.timestamp()
            exported = {
                (sample.name, tuple(sample.labels.items())): sample.value
                for family in text_string_to_metric_families(https.get("/metrics").text)
                for sample in family.samples
            }
            assert exported[("secnode_certificate_expiry_timestamp_seconds", (("certificate", "tls"),))] == not_after
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).raise_for_status()
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
