"""The foundation every layer stands on: settings, databases and the unit of work, Redis, crypto, metrics, the
domain error base and HTTP plumbing that knows no face. It imports nothing else of the project."""

__version__ = "0.1.0"
