"""Data escrow: signed deposits of the node's registration data in RFC 8909's format, full and incremental, sent to
the top-level node and an escrow agent, and restored from (ADR 0014, docs/escrow.md)."""
