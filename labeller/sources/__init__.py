"""Image sources behind one protocol (see ``base``); one module per outside system.

Pages only ever call ``source_titles`` and ``make_source``: a new source plugs in here.
"""

from __future__ import annotations

from labeller.errors import InvalidInputError
from labeller.sources.base import Acquisition, ImageSource, Progress, Scene

DEMO = "demo"


def source_titles() -> dict[str, str]:
    """Source key → title for the selector, default first."""
    from labeller.sources.demo import DemoSource

    return {DemoSource.key: DemoSource.title}


def make_source(key: str) -> ImageSource:
    """A ready source for a key from ``source_titles``."""
    if key == DEMO:
        from labeller.sources.demo import DemoSource

        return DemoSource()
    raise InvalidInputError(f"Unknown image source {key!r}; choose one from the list.")


__all__ = ["Acquisition", "ImageSource", "Progress", "Scene", "make_source", "source_titles"]
