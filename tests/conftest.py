"""Shared fixtures. Unit tests run with the network blocked."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.developer_env import DEVELOPER_ENV

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "s2_l1c_slovenia_2015.npz"
REAL_CHIP = Path(__file__).resolve().parent / "data" / "real_chip.npz"
"""24 real pixels x 13 bands x 3 dates cut from SHARED_DATA, shipped with the tests (tests/data/README.md)."""


def load_npz(path: Path) -> dict:
    import numpy as np

    with np.load(path) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture
def real_sample():
    """The real Level-1C sample from ../shared/data, or a skip saying why."""
    if not SHARED_DATA.is_file():
        pytest.skip(
            f"real Sentinel-2 sample not found at {SHARED_DATA} (shared/ is not beside this checkout)"
        )
    return load_npz(SHARED_DATA)


@pytest.fixture(scope="session")
def real_chip():
    """The real chip shipped in tests/data: present in every clone."""
    return load_npz(REAL_CHIP)


@pytest.fixture(autouse=True)
def _isolated_from_the_developer(monkeypatch, tmp_path_factory):
    """No test reads the developer's database, credentials or home configuration."""
    for name in DEVELOPER_ENV:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))


class _NetworkBlocked(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def _block_network(request, monkeypatch):
    """Unit tests may only talk to loopback (e.g. a local PostgreSQL), never the outside world."""
    if "unit" not in request.node.path.parts:
        return
    real_connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and host not in ("127.0.0.1", "::1", "localhost")
            and not host.startswith("/")
        ):
            raise _NetworkBlocked(f"unit tests must not reach the network ({address!r})")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
