"""Handle trust on the node (ADR 0015): the node's certificate from the top level, the certificates it issues its
enterprises' administrators, and the checks of the HS_SIGNATURE values enterprises write."""
