from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Identity, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, BigId


class Account(Base):
    """A business-API user: the node administrator, or a user acting for one enterprise."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # sha256(password) in hex, what the SNMS digest login (POST /identity/token/v1) is checked against: a
    # password-equivalent for that login, kept beside the scrypt hash (docs/security.md)
    snms_digest: Mapped[str | None] = mapped_column(String(64))


class Token(Base):
    """A bearer token of the business API, stored only as its SHA-256 digest."""

    __tablename__ = "tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class KeySession(Base):
    """Public-key authentication state, keyed by the SHA-256 digest of its secret: a Handle session (``session``),
    a pending challenge (``challenge``) or the short-lived token a verified challenge gave (``token``)."""

    __tablename__ = "key_sessions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    nonce: Mapped[str] = mapped_column(String(64))  # the server nonce the client signs (base64)
    identity: Mapped[str | None] = mapped_column(String(300))  # canonical index:handle once known
    used_cnonces: Mapped[list[str]] = mapped_column(JSON, default=list)  # client nonces already seen: no replay
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ApiKey(Base):
    """A revocable key of one enterprise application, stored only as its SHA-256 digest."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, Identity(), primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(BigId, ForeignKey("enterprises.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))  # the key's first characters, to tell keys apart
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReadGrant(Base):
    """Who may read the restricted values of an identifier: every one (``value_index`` 0) or one value / template
    item. ``grantee`` is ``enterprise:<id>``, ``code:<credit code>`` or ``identity:<index:handle>``."""

    __tablename__ = "read_grants"

    handle_key: Mapped[str] = mapped_column(Text, primary_key=True)
    value_index: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    grantee: Mapped[str] = mapped_column(String(320), primary_key=True)
    granted_by: Mapped[str] = mapped_column(String(300))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SecretLockout(Base):
    """Wrong secrets sent for a Handle identity by Basic auth from one client address, and the lock they set on that
    address once too many came in a row (docs/security.md). Only identities that hold an ``HS_SECKEY`` get rows:
    unknown names cost nothing to store."""

    __tablename__ = "secret_lockouts"

    identity: Mapped[str] = mapped_column(String(300), primary_key=True)  # canonical index:handle
    source: Mapped[str] = mapped_column(String(64), primary_key=True)  # the client's address
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
