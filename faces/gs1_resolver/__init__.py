"""The GS1-Conformant resolver face: GS1 Digital Link URIs (``/01/{gtin}/21/{serial}``) resolved to the links of the
handle the key is mapped to (ADR 0016, docs/gs1-resolver.md)."""
