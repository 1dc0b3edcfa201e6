"""pytest fixtures for tests of the Earth Search source against the local fake (tests/fakes).

The real pystac-client and GDAL (through rasterio) talk HTTP to ``FakeEarthSearch``; nothing is
patched. The COGs are made once per test session from the real sample; each test gets its own
fake server (random port, so GDAL's in-process cache never carries over between tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from labeller.sources.earthsearch import EarthSearchSource
from tests.fakes import s2_cogs
from tests.fakes.stac_server import FakeEarthSearch

FAST = {"timeout": 2.0, "retries": 2, "backoff": 0.05, "gdal_options": {"GDAL_HTTP_RETRY_DELAY": "0.05"}}
"""Retry settings that keep failing tests short (the same counts as the defaults)."""


@pytest.fixture(scope="session")
def es_cogs(tmp_path_factory) -> tuple[Path, Path]:
    """(COG folder, the real sample or, without it, the demo's stand-in)."""
    return tmp_path_factory.mktemp("earth-search-cogs"), s2_cogs.sample_or_standin(
        tmp_path_factory.getbasetemp()
    )


@pytest.fixture
def fake_es(es_cogs) -> Iterator[FakeEarthSearch]:
    root, sample = es_cogs
    with FakeEarthSearch(root, sample) as fake:
        yield fake


@pytest.fixture
def make_es_source(fake_es) -> Callable[..., EarthSearchSource]:
    def make(**options) -> EarthSearchSource:
        return EarthSearchSource(fake_es.url, **{**FAST, **options})

    return make
