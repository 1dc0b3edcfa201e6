"""Credentials, the source registry, "Test connection", and CDSE through the same fake."""

from __future__ import annotations

import socket
from datetime import date

import pytest

from labeller.aoi import AreaOfInterest
from labeller.bands import L1C, L2A
from labeller.credentials import Credentials, resolve_credentials
from labeller.errors import InvalidInputError
from labeller.sources import collections_of, make_source, source_needs_credentials, source_titles
from labeller.sources.demo import DemoSource
from labeller.sources.sentinelhub import (
    SERVICES,
    CredentialsMissingError,
    SentinelHubSource,
    Service,
    get_service,
)
from tests.fakes.fixtures import CLIENT_ID, SECRET

AOI = AreaOfInterest(10.0, 46.0, 10.008, 46.006)

# --- credentials ---------------------------------------------------------------------------


def test_credentials_never_print_the_secret():
    credentials = Credentials(" my-client ", " very-secret ")
    assert credentials.client_id == "my-client" and credentials.client_secret == "very-secret"
    shown = "Credentials(client_id='my-client', client_secret='***')"
    assert repr(credentials) == str(credentials) == f"{credentials}" == shown
    assert str([credentials]) == f"[{shown}]"


SECRETS = {
    "sentinelhub": {"client_id": "sec-id", "client_secret": "sec-secret"},
    "cdse": {"client_id": "cdse-sec-id", "client_secret": "cdse-sec-secret"},
}
ENV = {
    "SH_CLIENT_ID": "env-id",
    "SH_CLIENT_SECRET": "env-secret",
    "CDSE_CLIENT_ID": "cdse-env-id",
    "CDSE_CLIENT_SECRET": "cdse-env-secret",
}


@pytest.mark.parametrize(
    ("service", "secrets", "environ", "typed", "expected", "origin"),
    [
        ("sentinelhub", SECRETS, ENV, Credentials("t", "ts"), ("t", "ts"), "typed in this session"),
        ("sentinelhub", SECRETS, ENV, None, ("sec-id", "sec-secret"), "secrets [sentinelhub]"),
        ("cdse", SECRETS, ENV, None, ("cdse-sec-id", "cdse-sec-secret"), "secrets [cdse]"),
        ("sentinelhub", {}, ENV, None, ("env-id", "env-secret"), "environment SH_CLIENT_ID"),
        ("cdse", None, ENV, None, ("cdse-env-id", "cdse-env-secret"), "environment CDSE_CLIENT_ID"),
        (
            "cdse",
            None,
            {"SH_CLIENT_ID": "a", "SH_CLIENT_SECRET": "b"},
            None,
            ("a", "b"),
            "environment SH_CLIENT_ID",
        ),
        (
            "sentinelhub",
            {"sentinelhub": {"client_id": "only-id"}},
            {},
            Credentials("x", ""),
            None,
            "not configured",
        ),
        ("cdse", {"cdse": "not a table"}, {"CDSE_CLIENT_ID": "no-secret"}, None, None, "not configured"),
    ],
)
def test_credentials_precedence_typed_secrets_environment(service, secrets, environ, typed, expected, origin):
    found, where = resolve_credentials(service, secrets, environ, typed)
    assert where == origin
    assert (found.client_id, found.client_secret) == expected if expected else found is None


def test_unreadable_secrets_count_as_none():
    class NoSecretsFile(dict):
        def get(self, key, default=None):
            raise FileNotFoundError("no secrets.toml")

    assert resolve_credentials("sentinelhub", NoSecretsFile(), ENV, None)[1] == "environment SH_CLIENT_ID"


# --- the registry ----------------------------------------------------------------------------


def test_source_selector_lists_demo_first_then_the_services():
    assert list(source_titles()) == ["demo", "earthsearch", "sentinelhub", "cdse"]
    assert source_titles()["cdse"] == "Copernicus Data Space (free account)"
    assert [source_needs_credentials(k) for k in source_titles()] == [False, False, True, True]
    assert collections_of("demo") == [L1C.id]
    assert collections_of("sentinelhub") == collections_of("cdse") == [L1C.id, L2A.id]


def test_make_source_builds_each_source(sh_environment, monkeypatch):
    assert isinstance(make_source("demo"), DemoSource) and DemoSource.cache_id is None
    with pytest.raises(InvalidInputError):
        make_source("demo", L2A.id)
    with pytest.raises(InvalidInputError):
        make_source("landsat")
    with pytest.raises(CredentialsMissingError, match="SH_CLIENT_ID/SH_CLIENT_SECRET"):
        make_source("sentinelhub")

    typed = make_source("cdse", L2A.id, Credentials("id", "secret"))
    assert isinstance(typed, SentinelHubSource)
    assert (typed.key, typed.collection, typed.service.base_url) == ("cdse", L2A, SERVICES["cdse"].base_url)
    assert (
        typed.cache_id == "sentinelhub-py|cdse|https://sh.dataspace.copernicus.eu|sentinel-2-l2a|process-v1"
    )
    assert "secret" not in typed.cache_id and "secret" not in repr(typed)

    monkeypatch.setenv("SH_CLIENT_ID", "env-id")
    monkeypatch.setenv("SH_CLIENT_SECRET", "env-secret")
    monkeypatch.setenv("SH_BASE_URL", "https://sh.example.org/")
    from_env = make_source("sentinelhub")
    assert from_env.service.base_url == "https://sh.example.org" and from_env.collection == L1C
    assert from_env.service.token_url == SERVICES["sentinelhub"].token_url


def test_services_default_to_the_public_endpoints():
    assert get_service("sentinelhub", {}) == SERVICES["sentinelhub"]
    assert SERVICES["sentinelhub"].base_url == "https://services.sentinel-hub.com"
    assert SERVICES["cdse"].base_url == "https://sh.dataspace.copernicus.eu"
    assert SERVICES["cdse"].token_url == (
        "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/protocol/openid-connect/token"
    )
    custom = get_service("cdse", {"CDSE_BASE_URL": "http://h:1/", "CDSE_TOKEN_URL": "http://h:1/t"})
    assert (custom.base_url, custom.token_url) == ("http://h:1", "http://h:1/t")


# --- test connection ---------------------------------------------------------------------------


def test_connection_ok(fake_sh, make_sh_source):
    result = make_sh_source().test_connection()
    assert result.status == "ok" and "accepted" in result.message
    assert fake_sh.counts == {"token": 1, "catalog": 1}


def test_connection_rejected(fake_sh, make_sh_source):
    result = make_sh_source(secret="wrong").test_connection()
    assert result.status == "rejected" and "client id and secret" in result.message
    assert SECRET not in result.message and "wrong" not in result.message


def test_connection_forbidden_counts_as_rejected(fake_sh, make_sh_source):
    from tests.fakes.sentinelhub_server import Fault

    fake_sh.inject("catalog", Fault.error(403, "No access"))
    assert make_sh_source().test_connection().status == "rejected"


def test_connection_unreachable(sh_environment, make_sh_source):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    result = make_sh_source(
        service=Service("sentinelhub", "Sentinel Hub", url, url + "/token")
    ).test_connection()
    assert result.status == "unreachable" and "Could not reach Sentinel Hub" in result.message


def test_a_new_connection_test_fetches_a_new_token(fake_sh, make_sh_source):
    source = make_sh_source()
    source.acquisitions(AOI, date(2020, 6, 1), date(2020, 6, 30))
    source.test_connection()
    assert fake_sh.counts["token"] == 2


# --- CDSE ----------------------------------------------------------------------------------------


def test_cdse_uses_its_token_path_and_base_url(fake_sh, monkeypatch):
    for name, value in fake_sh.env("cdse").items():
        monkeypatch.setenv(name, value)
    source = make_source("cdse", L2A.id)
    assert source.title == "Copernicus Data Space (free account)"
    assert source.test_connection().status == "ok"

    acquisitions = source.acquisitions(AOI, date(2020, 6, 1), date(2020, 6, 30))
    scene = source.scene(AOI, acquisitions[0])
    assert scene.bands.shape == (*AOI.shape, 12) and "SCL" in scene.extra

    cdse_token = "/auth/realms/CDSE/protocol/openid-connect/token"
    assert fake_sh.path_counts[cdse_token] == 1, "the token of the connection test is used for the data"
    assert fake_sh.path_counts["/auth/realms/main/protocol/openid-connect/token"] == 0
    assert fake_sh.counts["process"] == 1
    assert fake_sh.bodies["token"][0] == {"grant_type": "client_credentials", "client_id": CLIENT_ID}


def test_nothing_is_written_to_the_config_home(sh_environment, fake_sh, make_sh_source):
    source = make_sh_source()
    source.scene(AOI, source.acquisitions(AOI, date(2020, 6, 1), date(2020, 6, 30))[0])
    assert not any(sh_environment.iterdir()), "sentinelhub-py created no config file"
