"""The Handle kernel: identifier syntax, values, permissions, the actor and record storage. The bottom of the
registry; every other registry package may import it."""
