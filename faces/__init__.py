"""Faces: one package or module per way the node is spoken to (Handle REST, the SNMS business API, EPCIS, the
proxy, the console, node-to-node federation), each with its routes and one error renderer."""
