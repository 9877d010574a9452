"""GS1 keys, pure (no I/O but reading its own packaged syntax dictionary): Application Identifiers and their syntax
(``dictionary``, ``elements``), check digits (``checkdigits``), keys with qualifiers in canonical form (``keys``),
GS1 Digital Link URIs (``digital_link``) and EPC URNs (``epc``). Errors are ``foundation.gs1.errors``."""
