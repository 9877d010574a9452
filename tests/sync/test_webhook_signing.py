"""The delivery component's pieces that need no server: Standard Webhooks signatures against the reference
``standardwebhooks`` package, the retry schedule, and which URLs the node refuses to call."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from foundation import outbound
from registry.webhooks.secrets import new_secret, seal, unseal
from sync.delivery import signing
from sync.delivery.backoff import retry_delay

# The test vector of the Standard Webhooks reference libraries (github.com/standard-webhooks/standard-webhooks, and
# Svix's before them): secret, id, timestamp, body and the signature every implementation must produce.
EXAMPLE_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
EXAMPLE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
EXAMPLE_TIMESTAMP = 1614265330
EXAMPLE_BODY = b'{"test": 2432232314}'
EXAMPLE_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_signature_is_the_reference_implementations():
    ours = signing.signature(EXAMPLE_SECRET, EXAMPLE_ID, EXAMPLE_TIMESTAMP, EXAMPLE_BODY)
    reference = Webhook(EXAMPLE_SECRET).sign(
        EXAMPLE_ID, datetime.fromtimestamp(EXAMPLE_TIMESTAMP, UTC), EXAMPLE_BODY.decode()
    )
    assert ours == reference == EXAMPLE_SIGNATURE


def test_a_new_secret_signs_what_the_reference_verifies():
    secret = new_secret()
    assert secret.startswith("whsec_") and 24 <= len(signing.secret_key(secret)) <= 64
    body = b'{"type":"handle.changes","data":{}}'
    now = int(datetime.now(UTC).timestamp())
    headers = signing.headers(secret, "msg_1_2_3", now, body)
    assert Webhook(secret).verify(body, headers) == {"type": "handle.changes", "data": {}}


def test_secrets_are_sealed_under_the_node_key(tmp_path):
    from foundation.crypto.keys import ensure_signing_key

    key, other = str(tmp_path / "a.key"), str(tmp_path / "b.key")
    ensure_signing_key(key)
    ensure_signing_key(other)
    secret = new_secret()
    sealed = seal(secret, key)
    assert sealed.startswith("v1:") and secret not in sealed
    assert unseal(sealed, key) == secret
    assert unseal(sealed, other) is None  # another node's key opens nothing
    assert unseal(seal(secret, str(tmp_path / "missing.key")), key) == secret  # no key: kept marked plain


def test_retries_double_up_to_the_cap_with_jitter():
    for failures, ceiling in [(1, 5), (2, 10), (3, 20), (10, 2560), (11, 3600), (500, 3600)]:
        delays = [retry_delay(failures, 5, 3600) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), (failures, min(delays), max(delays))
        assert len(set(delays)) > 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.8.9.10:8080/x",
        "http://0.0.0.0/",
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",  # shared address space (carrier-grade NAT)
        "http://169.254.169.254/",  # cloud metadata
        "http://[::1]/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://224.0.0.1/",
        "http://localhost:8000/",
    ],
)
async def test_addresses_inside_the_network_are_refused(url):
    assert outbound.shape_refusal(url) is None
    assert await outbound.address_refusal(url, allow_private=False) is not None
    assert await outbound.address_refusal(url, allow_private=True) is None


@pytest.mark.parametrize(
    "url", ["https://93.184.215.14/hook", "http://8.8.8.8:8443/x?y=1", "https://[2606:4700:4700::1111]/h"]
)
async def test_public_addresses_are_accepted(url):
    assert outbound.shape_refusal(url) is None
    assert await outbound.address_refusal(url, allow_private=False) is None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "//example.com/",
        "http:///path",
        "https://user:secret@example.com/",
        "https://example.com:99999/",
        "https://example.com:0/",
        "https://exa mple.com/",
        "https://example.com/\n",
        "https://example.com/" + "a" * 2000,
    ],
)
def test_urls_that_are_not_http_or_https_are_refused(url):
    assert outbound.shape_refusal(url) is not None
