"""OAuth client credentials for the imagery services, and where they come from.

First found wins:

1. typed into the page for this browser session (never stored anywhere else);
2. the app's secrets, one section per service: ``[sentinelhub]`` or ``[cdse]`` with
   ``client_id`` and ``client_secret``. The page passes ``st.secrets`` in: this module
   never imports Streamlit;
3. the environment: ``CDSE_CLIENT_ID``/``CDSE_CLIENT_SECRET`` for CDSE, then
   ``SH_CLIENT_ID``/``SH_CLIENT_SECRET`` for either service.

The secret never appears in ``repr``/``str``, and this module never writes or logs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TYPED = "typed in this session"
NOT_FOUND = "not configured"
ENV_PAIRS: dict[str, tuple[tuple[str, str], ...]] = {
    "sentinelhub": (("SH_CLIENT_ID", "SH_CLIENT_SECRET"),),
    "cdse": (("CDSE_CLIENT_ID", "CDSE_CLIENT_SECRET"), ("SH_CLIENT_ID", "SH_CLIENT_SECRET")),
}
"""Environment variable pairs per service, in order of preference."""


@dataclass(frozen=True)
class Credentials:
    """An OAuth client id and secret. Printing one shows the id only."""

    client_id: str
    """OAuth client id (not secret, but not shown in messages either)."""
    client_secret: str = field(repr=False)
    """OAuth client secret: never logged, stored or shown."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "client_id", str(self.client_id).strip())
        object.__setattr__(self, "client_secret", str(self.client_secret).strip())

    def __repr__(self) -> str:
        return f"Credentials(client_id={self.client_id!r}, client_secret='***')"

    __str__ = __repr__

    @property
    def complete(self) -> bool:
        """True when both the id and the secret are non-empty."""
        return bool(self.client_id and self.client_secret)


def resolve_credentials(
    service_key: str,
    secrets: Mapping[str, Any] | None,
    environ: Mapping[str, str],
    typed: Credentials | None = None,
) -> tuple[Credentials | None, str]:
    """The credentials for a service and where they came from, e.g. ``secrets [cdse]``.

    Returns ``(None, "not configured")`` when no complete pair is found anywhere.
    """
    if typed is not None and typed.complete:
        return typed, TYPED
    section = _secrets_section(secrets, service_key)
    if section is not None:
        found = Credentials(str(section.get("client_id") or ""), str(section.get("client_secret") or ""))
        if found.complete:
            return found, f"secrets [{service_key}]"
    for id_var, secret_var in ENV_PAIRS.get(service_key, ENV_PAIRS["sentinelhub"]):
        found = Credentials(environ.get(id_var) or "", environ.get(secret_var) or "")
        if found.complete:
            return found, f"environment {id_var}"
    return None, NOT_FOUND


def how_to_configure(service_key: str) -> str:
    """One sentence telling a user where credentials may go."""
    pairs = " or ".join(f"{a}/{b}" for a, b in ENV_PAIRS.get(service_key, ENV_PAIRS["sentinelhub"]))
    return (
        f"Type a client id and secret on the page, add client_id and client_secret to the "
        f"[{service_key}] section of the app's secrets, or set {pairs} in the environment."
    )


def _secrets_section(secrets: Mapping[str, Any] | None, key: str) -> Mapping[str, Any] | None:
    """``secrets[key]`` if it is a table; st.secrets raises when no secrets file exists."""
    if secrets is None:
        return None
    try:
        section = secrets.get(key)
    except Exception:  # noqa: BLE001 - no secrets file, or an unreadable one: same as none
        return None
    return section if isinstance(section, Mapping) else None
