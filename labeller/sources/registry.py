"""The one table of image sources: a new source is one entry in ``SOURCES``.

Each entry names the source, the collections it serves, whether it needs an OAuth client,
one sentence for the picker, and a factory. Factories import their adapter module only
when called, so a page that never picks Sentinel Hub never imports ``sentinelhub``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from labeller.bands import COLLECTIONS, L1C, L2A
from labeller.credentials import Credentials
from labeller.errors import InvalidInputError
from labeller.sources.base import ImageSource


@dataclass(frozen=True)
class SourceRequest:
    """What a factory gets to build a source."""

    collection_id: str
    """One of the entry's ``collections``."""
    credentials: Credentials | None = None
    """As resolved by the page (typed, secrets, environment), or None."""
    origin: str = ""
    """Where the credentials came from, for messages."""
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    """Environment for endpoint overrides (tests point sources at local fake servers)."""


@dataclass(frozen=True)
class SourceSpec:
    """One image source as the app offers it."""

    key: str
    """Short stable id, stored with every campaign and sample."""
    title: str
    """Name in the source picker."""
    collections: tuple[str, ...]
    """Collection ids it serves (``labeller.bands.COLLECTIONS``), default first."""
    needs_credentials: bool
    """True when it needs an OAuth client id and secret (the picker then asks for them)."""
    about: str
    """One sentence under the picker: what it is and what it costs the user."""
    factory: Callable[[SourceRequest], ImageSource]
    """Builds a ready source; raises a LabellerError saying what is missing."""
    online: bool = True
    """Reached over the network: the picker checks a keyless one's connection when picked."""


def _demo(request: SourceRequest) -> ImageSource:
    from labeller.sources.demo import DemoSource

    return DemoSource()


def _earthsearch(request: SourceRequest) -> ImageSource:
    from labeller.sources import earthsearch

    return earthsearch.make_source(request.environ)


def _sentinelhub(key: str) -> Callable[[SourceRequest], ImageSource]:
    def factory(request: SourceRequest) -> ImageSource:
        from labeller.sources import sentinelhub

        return sentinelhub.make_source(
            key, request.collection_id, request.credentials, origin=request.origin, environ=request.environ
        )

    return factory


SOURCES: dict[str, SourceSpec] = {
    spec.key: spec
    for spec in (
        SourceSpec(
            "demo",
            "Demo (offline, synthetic)",
            (L1C.id,),
            False,
            "The demo source works offline: a synthetic but realistic Level-1C time series. For real "
            "images, still without an account, pick Earth Search (no account).",
            _demo,
            online=False,
        ),
        SourceSpec(
            "earthsearch",
            "Earth Search (no account)",
            (L2A.id,),
            False,
            "Real Sentinel-2 Level-2A images, free and without an account: Element 84's Earth Search "
            "(public Cloud-Optimized GeoTIFFs). Needs an internet connection.",
            _earthsearch,
        ),
        SourceSpec(
            "sentinelhub",
            "Sentinel Hub",
            (L1C.id, L2A.id),
            True,
            "Sentinel Hub's Process API; needs the OAuth client of a Sentinel Hub account.",
            _sentinelhub("sentinelhub"),
        ),
        SourceSpec(
            "cdse",
            "Copernicus Data Space (free account)",
            (L1C.id, L2A.id),
            True,
            "The Copernicus Data Space Ecosystem; needs an OAuth client of a free account.",
            _sentinelhub("cdse"),
        ),
    )
}
"""Every source the app offers, in picker order; the first is the default without credentials."""


def spec_of(key: str) -> SourceSpec:
    """The table entry for a key; InvalidInputError for an unknown one."""
    try:
        return SOURCES[key]
    except KeyError:
        raise InvalidInputError(f"Unknown image source {key!r}; choose one from the list.") from None


def source_titles() -> dict[str, str]:
    """Source key → title for the selector, default (the demo) first."""
    return {key: spec.title for key, spec in SOURCES.items()}


def source_needs_credentials(key: str) -> bool:
    """True for sources that need an OAuth client id and secret."""
    return spec_of(key).needs_credentials


def collections_of(key: str) -> list[str]:
    """Collection ids a source can serve, default first."""
    return list(spec_of(key).collections)


def make_source(
    key: str,
    collection_id: str | None = None,
    credentials: Credentials | None = None,
    *,
    origin: str = "",
    environ: Mapping[str, str] | None = None,
) -> ImageSource:
    """A ready source for a key from ``source_titles`` and one of its ``collections_of``
    (default: its first).

    Sentinel Hub and CDSE without ``credentials`` take them from the environment and
    raise a SourceError (CredentialsMissingError) saying where to put them if there are none.
    ``origin`` (from ``resolve_credentials``) names where given credentials came from, for
    error messages.
    """
    spec = spec_of(key)
    collection_id = collection_id or spec.collections[0]
    if collection_id not in spec.collections:
        names = ", ".join(COLLECTIONS[c].title for c in spec.collections)
        raise InvalidInputError(f"This source offers {names} only; choose one of them.")
    env = os.environ if environ is None else environ
    return spec.factory(SourceRequest(collection_id, credentials, origin, env))
