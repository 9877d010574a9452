"""The reference top-level node's own storage (SQLite by default). It is a separate program from the node, so its
few tables are made here, at start, rather than by the node's migrations."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Integer, LargeBinary, MetaData, String, Table, Text

from foundation.db import JsonType

metadata = MetaData()

nodes = Table(
    "toplevel_nodes",
    metadata,
    Column("node_prefix", String(128), primary_key=True),
    Column("key_id", String(16), nullable=False),
    Column("public_key", Text, nullable=False),  # base64 of the raw Ed25519 key
    Column("service_url", Text, nullable=False),
    Column("acknowledged", BigInteger, nullable=False, default=0),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

journal = Table(
    "toplevel_journal",
    metadata,
    Column("node_prefix", String(128), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("subject_key", Text, nullable=False),
    Column("entry", JsonType, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

decisions = Table(
    "toplevel_decisions",
    metadata,
    Column("prefix_key", String(128), primary_key=True),
    Column("node_prefix", String(128), nullable=False),
    Column("prefix", String(128), nullable=False),
    Column("decision", String(16), nullable=False),  # approved | rejected
    Column("reason", Text),
    Column("settled", Integer, nullable=False, default=0),  # 1 once the node reported the outcome
)

homes = Table(
    "toplevel_homes",
    metadata,
    Column("prefix_key", String(128), primary_key=True),
    Column("prefix", String(128), nullable=False),
    Column("node_prefix", String(128), nullable=False),
)

statistics = Table(
    "toplevel_statistics",
    metadata,
    Column("node_prefix", String(128), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("prefix", String(128), primary_key=True),
    Column("registrations", BigInteger, nullable=False),
    Column("resolutions", BigInteger, nullable=False),
)

enterprise_nodes = Table(
    "toplevel_enterprise_nodes",
    metadata,  # the last enterprise-node health each node reported with its statistics
    Column("node_prefix", String(128), primary_key=True),
    Column("body", JsonType, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

heartbeats = Table(
    "toplevel_heartbeats",
    metadata,
    Column("node_prefix", String(128), primary_key=True),
    Column("body", JsonType, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

records = Table(
    "toplevel_records",
    metadata,  # imported snapshots: served read-only during an emergency takeover
    Column("handle_key", Text, primary_key=True),
    Column("node_prefix", String(128), nullable=False),
    Column("handle", Text, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("record_values", JsonType, nullable=False),
)

escrow = Table(
    "toplevel_escrow",
    metadata,  # data escrow deposits received (docs/escrow.md): as sent, with their detached signatures
    Column("node_prefix", String(128), primary_key=True),
    Column("deposit_id", String(13), primary_key=True),
    Column("kind", String(4), nullable=False),
    Column("prev_id", String(13)),
    Column("from_seq", BigInteger, nullable=False),
    Column("to_seq", BigInteger, nullable=False),
    Column("watermark", DateTime(timezone=True), nullable=False),
    Column("resend", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("counts", JsonType, nullable=False),
    Column("deposit", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
