"""The two deployments of the Sentinel Hub APIs, and their URLs overridden from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    """One deployment of the Sentinel Hub APIs and its OAuth token endpoint."""

    key: str
    """Source key stored with every sample: ``sentinelhub`` or ``cdse``."""
    title: str
    """Human name for the selector."""
    base_url: str
    """API root; the client appends ``/api/v1/...``."""
    token_url: str
    """OAuth2 client-credentials token endpoint, used verbatim."""


SERVICES: dict[str, Service] = {
    "sentinelhub": Service(
        "sentinelhub",
        "Sentinel Hub",
        "https://services.sentinel-hub.com",
        "https://services.sentinel-hub.com/auth/realms/main/protocol/openid-connect/token",
    ),
    "cdse": Service(
        "cdse",
        "Copernicus Data Space",
        "https://sh.dataspace.copernicus.eu",
        "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/protocol/openid-connect/token",
    ),
}
"""The public services. ``get_service`` applies the environment overrides."""
URL_ENV: dict[str, tuple[str, str]] = {
    "sentinelhub": ("SH_BASE_URL", "SH_TOKEN_URL"),
    "cdse": ("CDSE_BASE_URL", "CDSE_TOKEN_URL"),
}
"""Environment variables overriding (base URL, token URL) per service."""


def get_service(key: str, environ: Mapping[str, str] | None = None, title: str | None = None) -> Service:
    """The service for a key, with base and token URL taken from the environment if set, and
    ``title`` (the registry's name for it) in place of the service's own name if given."""
    default = SERVICES[key]
    env = os.environ if environ is None else environ
    base_var, token_var = URL_ENV[key]
    base_url = (env.get(base_var) or default.base_url).strip().rstrip("/")
    token_url = (env.get(token_var) or default.token_url).strip()
    return Service(key, title or default.title, base_url, token_url)
