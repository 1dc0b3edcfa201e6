"""Image sources behind one protocol (see ``base``); one module per outside system.

Pages only ever call the functions here: a new source plugs in here. The Sentinel Hub
module (and so ``sentinelhub`` itself) is imported only when such a source is made.
"""

from __future__ import annotations

from labeller.bands import COLLECTIONS, L1C, L2A
from labeller.credentials import Credentials
from labeller.errors import InvalidInputError
from labeller.sources.base import Acquisition, ImageSource, Progress, Scene

DEMO = "demo"
SENTINELHUB = "sentinelhub"
CDSE = "cdse"
SERVICE_TITLES = {SENTINELHUB: "Sentinel Hub", CDSE: "Copernicus Data Space (free account)"}


def source_titles() -> dict[str, str]:
    """Source key → title for the selector, default (the demo) first."""
    from labeller.sources.demo import DemoSource

    return {DemoSource.key: DemoSource.title, **SERVICE_TITLES}


def source_needs_credentials(key: str) -> bool:
    """True for sources that need an OAuth client id and secret."""
    return key in SERVICE_TITLES


def collections_of(key: str) -> list[str]:
    """Collection ids a source can serve, default first."""
    _check_key(key)
    return [L1C.id] if key == DEMO else [L1C.id, L2A.id]


def make_source(
    key: str, collection_id: str | None = None, credentials: Credentials | None = None, *, origin: str = ""
) -> ImageSource:
    """A ready source for a key from ``source_titles`` and one of its ``collections_of``.

    Sentinel Hub and CDSE without ``credentials`` take them from the environment and
    raise a SourceError (CredentialsMissingError) saying where to put them if there are none.
    ``origin`` (from ``resolve_credentials``) names where given credentials came from, for
    error messages.
    """
    _check_key(key)
    collection_id = collection_id or L1C.id
    if collection_id not in collections_of(key):
        names = ", ".join(COLLECTIONS[c].title for c in collections_of(key))
        raise InvalidInputError(f"This source offers {names} only; choose one of them.")
    if key == DEMO:
        from labeller.sources.demo import DemoSource

        return DemoSource()
    from labeller.sources import sentinelhub

    return sentinelhub.make_source(key, collection_id, credentials, origin=origin)


def _check_key(key: str) -> None:
    if key != DEMO and key not in SERVICE_TITLES:
        raise InvalidInputError(f"Unknown image source {key!r}; choose one from the list.")


__all__ = [
    "Acquisition",
    "ImageSource",
    "Progress",
    "Scene",
    "collections_of",
    "make_source",
    "source_needs_credentials",
    "source_titles",
]
