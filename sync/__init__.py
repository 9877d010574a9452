"""Upward reporting to the top-level node (journal shipping, prefix homing). Built on the registry's journal."""
