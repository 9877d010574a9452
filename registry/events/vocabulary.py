"""CBV 2.0 vocabulary for bizStep and disposition; other steps (e.g. recycling) as extension URIs."""

from __future__ import annotations

from registry.events.errors import NotInVocabulary

BIZ_STEPS = frozenset(
    {
        "accepting",
        "arriving",
        "assembling",
        "collecting",
        "commissioning",
        "consigning",
        "creating_class_instance",
        "cycle_counting",
        "decommissioning",
        "departing",
        "destroying",
        "disassembling",
        "dispensing",
        "encoding",
        "entering_exiting",
        "holding",
        "inspecting",
        "installing",
        "killing",
        "loading",
        "other",
        "packing",
        "picking",
        "receiving",
        "removing",
        "repackaging",
        "repairing",
        "replacing",
        "reserving",
        "retail_selling",
        "sampling",
        "sensor_reporting",
        "shipping",
        "staging_outbound",
        "stock_taking",
        "stocking",
        "storing",
        "transporting",
        "unloading",
        "unpacking",
        "void_shipping",
    }
)
DISPOSITIONS = frozenset(
    {
        "active",
        "available",
        "completeness_inferred",
        "completeness_verified",
        "conformant",
        "container_closed",
        "container_open",
        "damaged",
        "destroyed",
        "dispensed",
        "disposed",
        "encoded",
        "expired",
        "in_progress",
        "in_transit",
        "inactive",
        "mismatch_instance",
        "mismatch_class",
        "mismatch_quantity",
        "needs_replacement",
        "no_pedigree_match",
        "non_conformant",
        "non_sellable_other",
        "partially_dispensed",
        "recalled",
        "reserved",
        "retail_sold",
        "returned",
        "sellable_accessible",
        "sellable_not_accessible",
        "stolen",
        "unavailable",
        "unknown",
    }
)
# The node's own steps that CBV lacks, written as extension URIs.
RECYCLING = "urn:secnode:bizstep:recycling"

_CBV_PREFIXES = {
    "bizStep": ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
    "disposition": ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
}
_TERMS = {"bizStep": BIZ_STEPS, "disposition": DISPOSITIONS}


def normalise(field: str, value: object) -> str | None:
    """A CBV term as its bare name (``shipping``), an extension as its URI; anything else is refused."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 200:
        raise NotInVocabulary(f"{field} must be a CBV term or a URI")
    for prefix in _CBV_PREFIXES[field]:
        if value.startswith(prefix):
            value = value[len(prefix) :]
            break
    if value in _TERMS[field]:
        return value
    is_uri = value.startswith(("urn:", "http://", "https://")) and ":" in value[4:] or value.startswith("http")
    if is_uri and not any(value.startswith(p) for p in _CBV_PREFIXES[field]):
        return value
    raise NotInVocabulary(
        f"{field} {value!r} is not in the CBV vocabulary; use an extension URI for other terms (e.g. {RECYCLING})"
    )
