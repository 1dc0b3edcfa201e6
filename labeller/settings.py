"""Where the app keeps its data: resolved once from an argument, the secrets, the environment.

The label store's URL, first found wins:

1. an explicit ``database_url`` argument;
2. the secrets, ``[connections.labels]`` as ``st.connection`` reads it: a ``url``, or its
   parts (``dialect``, ``driver``, ``username``, ``password``, ``host``, ``port``,
   ``database``). The page passes ``st.secrets`` in as a plain dict: this package never
   imports Streamlit;
3. the environment variable ``LABELLER_DATABASE_URL``;
4. a SQLite file in the data folder (``LABELLER_DATA_DIR``, default ``data``).

The URL may hold a password, so it never appears in ``repr`` or messages: use
``display_url()``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from labeller.errors import InvalidInputError, StoreError

CONNECTION_NAME = "labels"
"""``[connections.labels]`` in secrets.toml."""
URL_ENV = "LABELLER_DATABASE_URL"
DATA_DIR_ENV = "LABELLER_DATA_DIR"
CACHE_ENV = "LABELLER_SCENE_CACHE_MB"
PREFETCH_ENV = "LABELLER_PREFETCH"
STAC_URL_ENV = "LABELLER_STAC_URL"
DEFAULT_STAC_URL = "https://earth-search.aws.element84.com/v1"
"""Element 84's Earth Search: public Sentinel-2 COGs behind a STAC API, no account."""
EPHEMERAL_ENV = "LABELLER_EPHEMERAL_DISK"
"""Set to 1/true or 0/false to override the Community Cloud detection."""
COMMUNITY_CLOUD_SRC = Path("/mount/src")
"""Where Streamlit Community Cloud checks out the app's repository."""
_URL_PARTS = ("username", "password", "host", "port", "database")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Settings:
    """Paths and URLs the app needs. ``repr`` hides the database password."""

    data_dir: Path
    """Folder for the default SQLite label database."""
    database_url: str | None = field(default=None, repr=False)
    """SQLAlchemy URL of the label store; None means a SQLite file in ``data_dir``."""
    url_origin: str = "default"
    """Where the URL came from: ``argument``, ``secrets``, ``environment`` or ``default``."""
    on_community_cloud: bool = False
    """True when running on Streamlit Community Cloud, whose disk is wiped on restart."""
    scene_cache_mb: float = 500.0
    """Size limit of the disk cache of fetched scenes (``LABELLER_SCENE_CACHE_MB``)."""
    prefetch: bool = True
    """Fetch the next two images in the background (``LABELLER_PREFETCH=0`` turns it off)."""
    stac_url: str = DEFAULT_STAC_URL
    """STAC API root of the keyless Earth Search source (``LABELLER_STAC_URL``)."""

    @property
    def scene_cache_dir(self) -> Path:
        return self.data_dir / "scene-cache"

    @classmethod
    def resolve(
        cls,
        database_url: str | None = None,
        secrets: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Settings:
        """Settings from an explicit URL, the secrets (a plain dict), then the environment."""
        env = os.environ if environ is None else environ
        data_dir = Path(env.get(DATA_DIR_ENV) or "data").expanduser()
        url, origin = database_url or None, "argument"
        if url is None:
            url, origin = url_from_secrets(secrets or {}), "secrets"
        if url is None:
            url, origin = env.get(URL_ENV) or None, "environment"
        if url is None:
            origin = "default"
        cloud = detect_community_cloud(env, Path.cwd() if cwd is None else cwd)
        return cls(
            data_dir=data_dir,
            database_url=url,
            url_origin=origin,
            on_community_cloud=cloud,
            scene_cache_mb=_number(env, CACHE_ENV, 500.0),
            prefetch=(env.get(PREFETCH_ENV) or "1").strip().lower() not in _FALSE,
            stac_url=stac_url(env),
        )

    @property
    def uses_sqlite(self) -> bool:
        """True when labels go to a SQLite file (the default, or a sqlite:// URL)."""
        return self.database_url is None or self.database_url.strip().lower().startswith("sqlite")

    def is_ephemeral(self) -> bool:
        """True when saved labels would sit on a disk that does not survive a restart:
        SQLite on Streamlit Community Cloud (or whenever LABELLER_EPHEMERAL_DISK says so)."""
        return self.on_community_cloud and self.uses_sqlite

    def display_url(self) -> str:
        """The configured URL with any password masked, or a note that the default is used."""
        if self.database_url is None:
            return f"SQLite file in {self.data_dir}"
        try:
            return make_url(self.database_url).render_as_string(hide_password=True)
        except ArgumentError:
            return "(an invalid database URL)"

    def __repr__(self) -> str:
        return (
            f"Settings(data_dir={str(self.data_dir)!r}, database={self.display_url()!r}, "
            f"url_origin={self.url_origin!r}, on_community_cloud={self.on_community_cloud})"
        )


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    text = (environ.get(name) or "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise InvalidInputError(f"{name} must be a number of megabytes, e.g. 500; it is {text!r}.") from None
    if value < 0:
        raise InvalidInputError(f"{name} must not be negative; it is {text!r}.")
    return value


def stac_url(environ: Mapping[str, str]) -> str:
    """The STAC API root from ``LABELLER_STAC_URL`` (default Earth Search), without a trailing
    slash; InvalidInputError when it is not an http(s) URL."""
    url = (environ.get(STAC_URL_ENV) or "").strip().rstrip("/") or DEFAULT_STAC_URL
    if not url.lower().startswith(("http://", "https://")):
        raise InvalidInputError(f"{STAC_URL_ENV} must be an http:// or https:// URL; it is {url!r}.")
    return url


def url_from_secrets(secrets: Mapping[str, Any]) -> str | None:
    """The label store URL in ``[connections.labels]``, or None when there is none."""
    connections = secrets.get("connections")
    section = connections.get(CONNECTION_NAME) if isinstance(connections, Mapping) else None
    if section is None:
        return None
    where = f"[connections.{CONNECTION_NAME}] in the app's secrets"
    if not isinstance(section, Mapping):
        raise StoreError(f'{where} must be a table with a url, e.g. url = "postgresql://…".')
    url = section.get("url")
    if url is not None:
        if not isinstance(url, str) or not url.strip():
            raise StoreError(f'The url in {where} must be a non-empty text URL, e.g. "postgresql://…".')
        return url.strip()
    dialect = section.get("dialect")
    if dialect is None:
        return None
    if not isinstance(dialect, str) or not dialect.strip():
        raise StoreError(f'The dialect in {where} must be text, e.g. "postgresql".')
    driver = section.get("driver")
    drivername = f"{dialect}+{driver}" if driver else dialect
    parts = {k: section.get(k) for k in _URL_PARTS if section.get(k) not in (None, "")}
    try:
        if "port" in parts:
            parts["port"] = int(parts["port"])
        url = URL.create(drivername, **parts, query=dict(section.get("query") or {}))
    except (TypeError, ValueError) as exc:
        raise StoreError(f"The connection parts in {where} are not valid; check port and query.") from exc
    return url.render_as_string(hide_password=False)


def detect_community_cloud(environ: Mapping[str, str], cwd: Path) -> bool:
    """Whether this process runs on Streamlit Community Cloud.

    Community Cloud documents no marker of its own. Its containers are set up with the
    host name ``streamlit`` and run the app from the repository checked out under
    ``/mount/src/<repo>``; both are what apps commonly test for. ``LABELLER_EPHEMERAL_DISK``
    overrides the guess either way.
    """
    override = (environ.get(EPHEMERAL_ENV) or "").strip().lower()
    if override in _TRUE:
        return True
    if override in _FALSE:
        return False
    if environ.get("HOSTNAME") == "streamlit":
        return True
    try:
        cwd.resolve().relative_to(COMMUNITY_CLOUD_SRC)
    except ValueError:
        return False
    return True
