"""secnode foundation: settings, database, cache, errors, crypto, and the application assembly."""

__version__ = "0.1.0"
