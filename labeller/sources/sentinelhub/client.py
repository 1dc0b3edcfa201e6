"""sentinelhub-py's session, download client and catalog, each adjusted in one way:

- ``TimedSession``: a timeout on the token request (the library sets none, so a server that
  accepts the connection and never answers would hang the app);
- ``ReportingClient``: says through ``notify`` when it waits or retries, and gives up at once
  when a 429 asks for a longer pause than ``max_wait``;
- ``CatalogClient``: the Catalog API talking through that client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session
from sentinelhub import SentinelHubCatalog, SentinelHubDownloadClient, SentinelHubSession, SHConfig
from sentinelhub.constants import SHConstants
from sentinelhub.download.handlers import fail_user_errors, retry_temporary_errors
from sentinelhub.download.models import DownloadRequest

from labeller.sources.base import StatusCallback
from labeller.sources.sentinelhub.errors import WaitTooLong


class TimedSession(SentinelHubSession):
    """sentinelhub-py's OAuth session, its token request bounded by the download timeout."""

    @retry_temporary_errors
    @fail_user_errors
    def _fetch_token(self, request: DownloadRequest) -> dict[str, Any]:
        client = BackendApplicationClient(client_id=self.config.sh_client_id)
        with OAuth2Session(client=client) as oauth:
            oauth.register_compliance_hook("access_token_response", self._compliance_hook)
            return oauth.fetch_token(
                token_url=request.url,
                client_id=self.config.sh_client_id,
                client_secret=self.config.sh_client_secret,
                headers={**self.DEFAULT_HEADERS, **SHConstants.HEADERS},
                include_client_id=True,
                timeout=self.config.download_timeout_seconds,
            )


class ReportingClient(SentinelHubDownloadClient):
    """The library's download client, telling ``notify`` when it waits or retries, and giving
    up at once (``WaitTooLong``) when a 429 asks for more than ``max_wait`` seconds."""

    def __init__(self, *, notify: StatusCallback, max_wait: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._notify = notify
        self._max_wait = max_wait

    def _do_download(self, request: DownloadRequest) -> requests.Response:
        try:
            response = super()._do_download(request)
        except requests.Timeout:
            self._notify(f"No answer within {self.config.download_timeout_seconds:g} s; trying again…")
            raise
        except requests.ConnectionError:
            self._notify("Could not connect to the server; trying again…")
            raise
        if response.status_code == 429:
            wait = retry_after_s(response.headers, self.default_retry_time)
            if wait > self._max_wait:
                raise WaitTooLong(wait)
            self._notify(
                f"The server asks us to slow down (HTTP 429): waiting {wait:.1f} s, then trying again…"
            )
        elif response.status_code >= 500:
            self._notify(f"The server failed (HTTP {response.status_code}); trying again…")
        return response


def retry_after_s(headers: Mapping[str, str], default_ms: float) -> float:
    """Sentinel Hub's Retry-After, which is in milliseconds, in seconds."""
    try:
        return float(headers.get("Retry-After", default_ms)) / 1000.0
    except (TypeError, ValueError):
        return default_ms / 1000.0


class CatalogClient(SentinelHubCatalog):
    """The Catalog API client, talking through our download client."""

    def __init__(self, config: SHConfig, client: SentinelHubDownloadClient) -> None:
        super().__init__(config=config)
        self.client = client
