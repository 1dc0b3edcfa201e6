"""pytest fixtures for tests of the Sentinel Hub / CDSE sources against the fake server.

The real sentinelhub-py client talks HTTP to ``FakeSentinelHub``; nothing in sentinelhub is
patched. Each test gets its own fake (random port), a temporary ``XDG_CONFIG_HOME``, no
credentials from the developer's environment, and a cleared sentinelhub session cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sentinelhub import SentinelHubDownloadClient

from labeller.bands import L1C, Collection
from labeller.credentials import Credentials
from labeller.sources.sentinelhub import SentinelHubSource, Service, get_service
from tests.developer_env import DEVELOPER_ENV
from tests.fakes.sentinelhub_server import FakeSentinelHub

SECRET = "s3cr3t-DO-NOT-LEAK-7f2a9"
"""The fake's client secret: tests assert it never shows in a message or a log."""
CLIENT_ID = "labeller-test-client"
FAST = {"max_attempts": 2, "sleep": 0.05, "timeout": 2.0, "max_retries": 3}
"""Retry settings that keep failing tests short."""
CREDENTIAL_VARS = tuple(v for v in DEVELOPER_ENV if v.startswith(("SH_", "CDSE_")))


@pytest.fixture
def sh_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Plain-HTTP OAuth allowed, a throw-away config home, no outside credentials, no cached
    sessions. Yields the config home (tests check nothing was written there)."""
    config_home = tmp_path / "xdg-config"
    config_home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    for name in CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    SentinelHubDownloadClient.clear_cache()
    yield config_home
    SentinelHubDownloadClient.clear_cache()


@pytest.fixture
def fake_sh(sh_environment: Path) -> Iterator[FakeSentinelHub]:
    """A fresh fake service on a random loopback port (pages of at most 5 catalog features)."""
    with FakeSentinelHub(CLIENT_ID, SECRET, max_page=5) as fake:
        yield fake


def sh_service(fake: FakeSentinelHub, key: str = "sentinelhub") -> Service:
    """The service ``key`` pointed at the fake (CDSE with its own token path)."""
    return get_service(key, fake.env(key))


@pytest.fixture
def make_sh_source(fake_sh: FakeSentinelHub) -> Callable[..., SentinelHubSource]:
    """``make_sh_source(collection=L1C, key="sentinelhub", secret=SECRET, service=None, **options)``:
    a source for the fake (or for ``service``), with FAST retry settings unless overridden."""

    def make(
        collection: Collection = L1C,
        key: str = "sentinelhub",
        secret: str = SECRET,
        service: Service | None = None,
        **options,
    ) -> SentinelHubSource:
        settings = {**FAST, **options}
        service = service or sh_service(fake_sh, key)
        return SentinelHubSource(
            service, Credentials(CLIENT_ID, secret), collection, origin="test", **settings
        )

    return make
