"""GS1 company prefixes an enterprise declares (and the node administrator approves) before it may map GS1 keys
onto its handles."""
