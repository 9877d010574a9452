"""The reference top-level node: the other side of the upward protocol, for tests, demos and rehearsals."""
