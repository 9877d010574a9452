"""secnode: the assembled node (application factory, lifespan, CLI). It includes the faces and the contexts;
nothing imports it."""

from foundation import __version__

__all__ = ["__version__"]
