"""Who is acting: actors of bearer tokens, accounts and Handle identities (secret or key)."""
