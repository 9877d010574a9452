"""Errors of Handle trust: certificates the node issues and HS_SIGNATURE values it is given."""

from __future__ import annotations

from foundation.errors import Conflict, InvalidValue, NotFound


class SignatureRefused(InvalidValue):
    """An HS_SIGNATURE value written to a record that does not verify against the chain to the top level's root."""

    name = "trust.signature_invalid"

    def __init__(self, handle: str, index: int, reason: str) -> None:
        super().__init__(f"the HS_SIGNATURE at index {index} of {handle} does not hold: {reason}")
        self.handle, self.index, self.reason = handle, index, reason


class NodeNotCertified(Conflict):
    name = "trust.node_not_certified"

    def __init__(self, node_prefix: str) -> None:
        super().__init__(
            f"node {node_prefix} holds no certificate from the top level yet (0.NA/{node_prefix} index 400): it is "
            "issued when the node registers upward (secnode sync run)"
        )
        self.node_prefix = node_prefix


class NoKeyToCertify(NotFound):
    name = "trust.no_key"

    def __init__(self, handle: str, index: int | None) -> None:
        where = f"at index {index} of {handle}" if index is not None else f"in {handle}"
        super().__init__(f"no usable HS_PUBKEY {where} to certify")
        self.handle, self.index = handle, index


class NotAPrefix(NotFound):
    name = "trust.not_a_prefix"

    def __init__(self, prefix: str) -> None:
        super().__init__(f"0.NA/{prefix} is not a prefix of this node")
        self.prefix = prefix


class NoTrustKey(Conflict):
    name = "trust.no_key_file"

    def __init__(self, path: str) -> None:
        super().__init__(f"this node has no trust key ({path}; secnode init makes one): it issues no Handle signatures")
        self.path = path
