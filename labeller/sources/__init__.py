"""Image sources behind one protocol (see ``base``); one module per outside system.

Pages only ever call the functions here. A new source is one entry in the table
``registry.SOURCES``; its adapter module is imported only when such a source is made.
"""

from __future__ import annotations

from labeller.scenes import Acquisition, Progress, Scene
from labeller.sources.base import ConnectionResult, ImageSource
from labeller.sources.registry import (
    SOURCES,
    SourceRequest,
    SourceSpec,
    collections_of,
    make_source,
    source_needs_credentials,
    source_titles,
    spec_of,
)

DEMO = "demo"
"""The default source when no credentials are configured."""

__all__ = [
    "DEMO",
    "SOURCES",
    "Acquisition",
    "ConnectionResult",
    "ImageSource",
    "Progress",
    "Scene",
    "SourceRequest",
    "SourceSpec",
    "collections_of",
    "make_source",
    "source_needs_credentials",
    "source_titles",
    "spec_of",
]
