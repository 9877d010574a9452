"""Errors of upward sync. They are not domain errors: no face renders them. The reporter, the CLI and the reference
top-level node catch them and log, retry or answer ``sync.*`` problems of their own."""

from __future__ import annotations


class SyncError(Exception):
    """Base of the errors of upward sync."""


class UpstreamError(SyncError):
    """The top-level node could not be reached or refused a request; the message says which."""


class BacklinkFailed(SyncError):
    """A home node could not be told of a link to one of its identifiers; the message says why."""


class ReporterBusy(SyncError):
    """Another process of the node holds the reporter's lock."""


class SnapshotInvalid(SyncError):
    """A snapshot file is malformed, or its digest does not match its content."""


class EscrowInvalid(SyncError):
    """A deposit is malformed, its counts do not match, or its signature does not verify; the message says which."""


class EscrowGap(SyncError):
    """Deposits do not chain: an incremental deposit does not follow the one before it (ids or journal numbers)."""


class EscrowRestoreRefused(SyncError):
    """A restore was refused before anything was written: the target database already holds registration data."""
