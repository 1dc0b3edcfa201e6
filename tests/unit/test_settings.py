"""Where the label store lives: argument > secrets > environment > SQLite file, and when
the disk under it does not survive a restart (Streamlit Community Cloud)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from labeller.errors import StoreError
from labeller.settings import Settings, detect_community_cloud, url_from_secrets

PG = "postgresql://labeller:s3cret-pw@db.example.org:5432/labels"
SECRETS = {"connections": {"labels": {"url": PG}}}
ENV = {"LABELLER_DATABASE_URL": "postgresql://env@127.0.0.1/env", "LABELLER_DATA_DIR": "/srv/labels"}
HERE = Path("/home/someone/s2-labeller")


def resolve(**kwargs) -> Settings:
    kwargs.setdefault("environ", {})
    kwargs.setdefault("cwd", HERE)
    return Settings.resolve(**kwargs)


def test_precedence_argument_secrets_environment_default() -> None:
    assert resolve(database_url="sqlite:////x.sqlite", secrets=SECRETS, environ=ENV).database_url == (
        "sqlite:////x.sqlite"
    )
    chosen = resolve(secrets=SECRETS, environ=ENV)
    assert (chosen.database_url, chosen.url_origin) == (PG, "secrets")
    chosen = resolve(secrets={"other": 1}, environ=ENV)
    assert (chosen.database_url, chosen.url_origin) == ("postgresql://env@127.0.0.1/env", "environment")
    chosen = resolve(environ={"LABELLER_DATA_DIR": "/srv/labels"})
    assert (chosen.database_url, chosen.url_origin, chosen.data_dir) == (None, "default", Path("/srv/labels"))
    assert resolve().data_dir == Path("data")


def test_secrets_in_parts_as_st_connection_takes_them() -> None:
    parts = {
        "dialect": "postgresql",
        "username": "lab",
        "password": "p@ss word",
        "host": "db",
        "port": "6543",
        "database": "labels",
        "query": {"sslmode": "require"},
    }
    url = url_from_secrets({"connections": {"labels": parts}})
    parsed = make_url(url)
    assert (parsed.drivername, parsed.username, parsed.password) == ("postgresql", "lab", "p@ss word")
    assert (parsed.host, parsed.port, parsed.database, dict(parsed.query)) == (
        "db",
        6543,
        "labels",
        {"sslmode": "require"},
    )
    assert url_from_secrets({"connections": {"other": {"url": PG}}}) is None
    assert url_from_secrets({}) is None
    with pytest.raises(StoreError, match=r"url in \[connections.labels\]"):
        url_from_secrets({"connections": {"labels": {"url": 5}}})
    with pytest.raises(StoreError, match="must be a table"):
        url_from_secrets({"connections": {"labels": "postgresql://x"}})
    with pytest.raises(StoreError, match="port"):
        url_from_secrets({"connections": {"labels": {"dialect": "postgresql", "port": "many"}}})


def test_the_password_never_shows() -> None:
    settings = resolve(secrets=SECRETS)
    assert "s3cret-pw" not in repr(settings) and "s3cret-pw" not in str(settings)
    assert "s3cret-pw" not in settings.display_url() and "***" in settings.display_url()
    assert "labeller:***@db.example.org" in repr(settings)
    assert resolve().display_url() == "SQLite file in data"


@pytest.mark.parametrize(
    "environ, cwd, expected",
    [
        ({}, HERE, False),
        ({"HOSTNAME": "streamlit"}, HERE, True),
        ({}, Path("/mount/src/s2-labeller"), True),
        ({"HOSTNAME": "laptop"}, Path("/mount/srcx"), False),
        ({"HOSTNAME": "streamlit", "LABELLER_EPHEMERAL_DISK": "0"}, HERE, False),
        ({"LABELLER_EPHEMERAL_DISK": "true"}, HERE, True),
    ],
)
def test_community_cloud_detection(environ, cwd, expected) -> None:
    assert detect_community_cloud(environ, cwd) is expected


def test_ephemeral_only_with_sqlite_on_community_cloud() -> None:
    cloud = {"HOSTNAME": "streamlit"}
    assert resolve(environ=cloud).is_ephemeral()  # the default SQLite file
    assert resolve(environ={**cloud, "LABELLER_DATABASE_URL": "sqlite:////tmp/x.sqlite"}).is_ephemeral()
    assert not resolve(environ=cloud, secrets=SECRETS).is_ephemeral()  # hosted PostgreSQL
    assert not resolve().is_ephemeral()  # a laptop keeps its disk


def test_the_secrets_example_holds_what_the_app_reads() -> None:
    import tomllib

    example = Path(__file__).resolve().parents[2] / ".streamlit" / "secrets.toml.example"
    secrets = tomllib.loads(example.read_text(encoding="utf-8"))
    assert url_from_secrets(secrets).startswith("postgresql://labeller:CHANGE-ME@")
    text = example.read_text(encoding="utf-8")
    for commented in ("# [sentinelhub]", "# [cdse]", "# client_id =", "# client_secret ="):
        assert commented in text


def test_stac_url_from_the_environment_or_earth_search() -> None:
    from labeller.errors import InvalidInputError
    from labeller.settings import DEFAULT_STAC_URL, stac_url

    assert resolve().stac_url == DEFAULT_STAC_URL == "https://earth-search.aws.element84.com/v1"
    assert (
        resolve(environ={"LABELLER_STAC_URL": " http://127.0.0.1:8766/ "}).stac_url == "http://127.0.0.1:8766"
    )
    assert stac_url({"LABELLER_STAC_URL": ""}) == DEFAULT_STAC_URL
    with pytest.raises(InvalidInputError, match="LABELLER_STAC_URL must be an http:// or https:// URL"):
        stac_url({"LABELLER_STAC_URL": "earth-search.aws.element84.com/v1"})
