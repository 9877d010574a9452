"""Typed settings, read from ``SECNODE_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./secnode.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SECNODE_", extra="ignore")

    database_url: str = DEFAULT_SQLITE_URL
    database_read_url: str | None = None
    database_pool_size: int = 10
    database_partitions: int = 32  # hash partitions of the identifier tables, fixed when migration 0006 runs
    # the URLs point at PgBouncer in transaction pooling: no lasting prepared statements
    database_pgbouncer: bool = False
    # the primary itself, for session-level locks (the reporter's); default: database_url
    database_direct_url: str | None = None
    redis_url: str | None = None
    redis_cluster: bool = False  # redis_url names one node of a Redis Cluster (ADR 0006)
    # replicas that confirm each cache change (WAIT); default 1 in a cluster, else 0
    redis_wait_replicas: int | None = None
    redis_wait_timeout_ms: int = 500
    cache_capacity: int = 200_000  # records in each worker's in-process tier
    cache_ttl_seconds: int = 86400  # lifetime of a record in the Redis tier

    node_prefix: str = "88.118"
    node_key_file: str = "./secnode-node.key"  # Ed25519 key signing upward reports (made by `secnode init`)
    upstream_url: str | None = None  # the top-level node; unset = standalone (the node administrator enables prefixes)
    public_url: str = "http://127.0.0.1:8000"  # where other nodes reach this one (reported upward)
    sync_in_serve: bool = True  # with an upstream, `serve` also runs the reporter (one active per node)
    toplevel_database_url: str = "sqlite+aiosqlite:///./toplevel.db"  # the reference top-level node's storage
    toplevel_auto_approve: bool = True
    # Handle trust (ADR 0015): the key the node issues HS_CERT and HS_SIGNATURE values with, certified by the top level
    trust_key_file: str = "./secnode-trust.key"
    trust_key_alg: Literal["RS256", "ES256", "SM2256"] = "RS256"  # the algorithm of a key `secnode init` makes
    certificate_lifetime_seconds: int = 365 * 86400  # validity of the HS_CERT the node issues an enterprise
    toplevel_root_key_file: str = "./toplevel-root.key"  # the reference top-level node's root of trust (0.0/0.0)
    toplevel_root_key_alg: Literal["RS256", "ES256", "SM2256"] = "RS256"
    bootstrap_admin_password: str | None = None

    # Identifier syntax: "strict" (Chinese nodes: <=128 chars, restricted alphabet) or "rfc" (RFC 3650 UTF-8 suffix).
    identifier_mode: Literal["strict", "rfc"] = "strict"
    identifier_max_length: int = 128
    identifier_max_bytes_rfc: int = 255
    allow_recreate: bool = False
    search_anonymous: bool = True  # search by value (/hrls/handles) without credentials: public values only
    search_timeout_ms: int = 5000  # a search's index look-up longer than this is refused (search.too_broad)
    search_trigram: bool = True  # read by migration 0013: the trigram index for leading wildcards (PostgreSQL)

    default_ttl: int = 86400
    max_ttl: int = 172800
    max_body_bytes: int = 16 * 1024 * 1024
    batch_max_items: int = 2000
    token_ttl_seconds: int = 24 * 3600
    session_ttl_seconds: int = 1800  # Handle public-key sessions (POST /api/sessions)
    key_token_ttl_seconds: int = 900  # tokens a signed challenge gives (GET /identity/challenge)
    key_sessions_max_open: int = 100_000  # Handle sessions and challenges open at once; beyond, new ones get 429
    login_max_failures: int = 5  # wrong passwords in a row before an account is locked
    login_lockout_seconds: int = 900
    # GET /identityv2/data/detail wants a bearer token, as the SNMS documentation gives it; off: anyone reads the
    # public values (restricted ones still need a token that may read them)
    snms_detail_requires_token: bool = False
    signature_lifetime_seconds: int = 86400  # how long a signed answer (GET /api/handles/...?signed=true) is valid

    # Credentials (Basic auth, passwords, tokens) are accepted over TLS, from loopback clients, or through a
    # trusted TLS-terminating proxy that sets X-Forwarded-Proto: https.
    trusted_proxies: list[str] = Field(default_factory=list)  # addresses or CIDR ranges
    allow_insecure_credentials: bool = False

    # Budgets (foundation.http.budgets), 0 = off. Shared by all workers through Redis; daily ones reset at 00:00 UTC.
    limit_requests_per_ip: int = 0  # requests per window from one client address: then 429 with Retry-After
    limit_ip_window_seconds: int = 1
    limit_requests_per_identity_daily: int = 0  # authenticated requests a day per identity: then IDIS 603
    limit_registrations_per_prefix_daily: int = 0  # identifiers registered a day per enterprise prefix: then IDIS 604

    # The native Handle protocol (RFC 3652) on TCP and UDP, beside HTTP in every worker (SO_REUSEPORT).
    native_enabled: bool = True
    native_host: str = "127.0.0.1"
    native_port: int = 2641
    native_site_address: str | None = None  # the address published in HS_SITE (default: native_host)
    native_site_serial: int = 1  # raise it when the site's addresses or key change
    native_udp_answer_ratio: int = 4  # a UDP answer is at most this many times its request (at least one packet)
    native_tcp_max_connections: int = 1024  # per worker; beyond, new connections are closed at once
    native_tcp_idle_seconds: float = 30.0  # a connection that sends no complete message for this long is closed

    # Enterprise nodes (prefixes homed elsewhere): each is sent a get-site-info request this often; 0 = no checks.
    enterprise_node_check_seconds: int = Field(default=60, ge=0)

    # Change notifications by webhook (ADR 0013): every worker delivers; one at a time per subscription (a lease).
    webhooks_in_serve: bool = True  # `serve` runs the delivery loop; off: `secnode webhook run` does
    webhook_allow_private_addresses: bool = False  # URLs resolving to loopback or private addresses (tests, labs)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)  # one delivery attempt
    webhook_retry_base_seconds: float = Field(default=5.0, gt=0)  # first retry; doubling (with jitter) up to the cap
    webhook_retry_max_seconds: float = Field(default=3600.0, gt=0)
    webhook_disable_after_failures: int = Field(default=72, ge=1)  # consecutive failures before the node disables it
    webhook_batch_changes: int = Field(default=100, ge=1, le=1000)  # changes carried by one message
    webhook_poll_seconds: float = Field(default=1.0, gt=0)  # how often an idle worker looks for due deliveries
    webhook_max_per_enterprise: int = Field(default=20, ge=1)
    webhook_attempts_kept: int = Field(default=50, ge=1)  # recent attempts kept per subscription
    # Data escrow (ADR 0014): RFC 8909 deposits of the registration data, a full one every escrow_full_days and an
    # incremental one every escrow_incremental_hours in between, written to escrow_directory and sent to the
    # top-level node (with an upstream) and to escrow_agent_url (when set).
    escrow_enabled: bool = False  # `serve` runs the schedule (one process per node makes the deposits)
    escrow_directory: str = "./escrow"
    escrow_full_days: float = Field(default=7, gt=0)
    escrow_incremental_hours: float = Field(default=24, gt=0)
    escrow_to_upstream: bool = True  # with an upstream, the top-level node is a destination
    escrow_agent_url: str | None = None  # an escrow agent speaking the same interface as the reference top-level
    escrow_check_seconds: float = Field(default=60, gt=0)  # how often the schedule looks whether a deposit is due

    # Hash of the audit log's chain for new entries; each entry is verified with the one it was written with.
    audit_hash: Literal["sha256", "sm3"] = "sha256"

    log_level: str = "INFO"
    # text: for a terminal; json: one object per line with the request id (foundation/logs.py)
    log_format: Literal["text", "json"] = "text"
    # One log line per HTTP request (logger secnode.access), set by `secnode serve --access-log`.
    access_log: bool = False
    # Where the workers of `secnode serve` keep their metric samples (emptied at start); unset: a temporary
    # directory of the server's own, or PROMETHEUS_MULTIPROC_DIR when set.
    metrics_dir: str | None = None
    # The certificate `secnode serve --tls-cert` presents (set by it): its expiry is exported in /metrics.
    tls_cert: str | None = None

    @field_validator("node_prefix")
    @classmethod
    def _prefix_shape(cls, value: str) -> str:
        parts = value.split(".")
        if not all(p.isascii() and p.isalnum() for p in parts):
            raise ValueError("node prefix must be alphanumeric segments joined by '.'")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_shape(cls, value: list[str]) -> list[str]:
        import ipaddress

        # a ValueError names an entry that is neither; ranges are normalised ("10.42.7.1/16" -> "10.42.0.0/16")
        return [str(ipaddress.ip_network(e, strict=False)) if "/" in e else str(ipaddress.ip_address(e)) for e in value]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
