"""Every table of the registry, gathered for the migrations."""

from foundation.db import Base
from registry.accounts.models import Account, Token
from registry.audit.models import AuditEntry
from registry.enterprise_nodes.models import EnterpriseNode
from registry.enterprises.models import Enterprise
from registry.events.models import Event, EventItem, TraceGrant, TraceLink
from registry.gs1.models import CompanyPrefixDeclaration
from registry.journal.models import EscrowDeposit, JournalEntry, SyncCursor
from registry.kernel.models import AliasEntry, HandleRecord, HandleVersion, IndexedValue
from registry.prefixes.models import Prefix
from registry.statistics.models import ResolutionCount
from registry.templates.models import Template, TemplateItem
from registry.webhooks.models import WebhookAttempt, WebhookSubscription

metadata = Base.metadata

__all__ = [
    "Account",
    "AliasEntry",
    "CompanyPrefixDeclaration",
    "AuditEntry",
    "Enterprise",
    "EnterpriseNode",
    "EscrowDeposit",
    "Event",
    "EventItem",
    "HandleRecord",
    "HandleVersion",
    "IndexedValue",
    "JournalEntry",
    "Prefix",
    "ResolutionCount",
    "SyncCursor",
    "Template",
    "TemplateItem",
    "Token",
    "TraceGrant",
    "TraceLink",
    "WebhookAttempt",
    "WebhookSubscription",
    "metadata",
]
