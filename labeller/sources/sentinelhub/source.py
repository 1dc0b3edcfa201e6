"""``SentinelHubSource``: the ``ImageSource`` for Sentinel Hub and CDSE, tying the catalog,
the Process API request, the adjusted sentinelhub-py clients and the error translation."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any

from sentinelhub import SentinelHubRequest, SentinelHubSession, SHConfig

from labeller.aoi import AreaOfInterest
from labeller.bands import COLLECTIONS, L1C, Collection
from labeller.credentials import Credentials, how_to_configure, resolve_credentials
from labeller.errors import NoAcquisitionsError, SourceError
from labeller.scenes import Acquisition, Progress, Scene
from labeller.sources.base import ConnectionResult, StatusCallback
from labeller.sources.sentinelhub.catalog import listing_fraction, merge_features, search_features
from labeller.sources.sentinelhub.client import CatalogClient, ReportingClient, TimedSession
from labeller.sources.sentinelhub.errors import (
    AccessDeniedError,
    CredentialsMissingError,
    CredentialsRejectedError,
    http_status,
    request_url,
    translate,
)
from labeller.sources.sentinelhub.process import (
    DATA_COLLECTIONS,
    REQUEST_VERSION,
    process_request,
    scene_from,
)
from labeller.sources.sentinelhub.redaction import install_redaction
from labeller.sources.sentinelhub.services import Service, get_service

log = logging.getLogger(__name__)

NO_ACQUISITIONS = (
    "No acquisitions for this area, period and cloud limit: widen the period or raise the cloud limit."
)


class SentinelHubSource:
    """Sentinel-2 Level-1C or Level-2A from Sentinel Hub or CDSE (one instance per service,
    credentials and collection). Thread-safe: prefetch threads call ``scene`` at once."""

    def __init__(
        self,
        service: Service,
        credentials: Credentials,
        collection: Collection = L1C,
        *,
        max_attempts: int = 3,
        sleep: float = 1.0,
        timeout: float = 30.0,
        max_retries: int = 5,
        max_wait: float = 120.0,
        page_size: int = 100,
        status: StatusCallback | None = None,
        origin: str = "",
    ) -> None:
        """
        :param max_attempts: tries per request on connection errors, timeouts and 5xx.
        :param sleep: seconds before the 2nd try; ×3 before each later one.
        :param timeout: seconds to wait for each answer (token request included).
        :param max_retries: requests per call while the server answers 429 (each waits
            its Retry-After).
        :param max_wait: longest single Retry-After (seconds) worth waiting for; a longer one
            fails at once with RateLimitedError.
        :param status: called (from whichever thread makes the request) with a short text
            whenever the source waits for the server or retries; see also ``reporting``.
        :param origin: where the credentials came from, for messages (e.g. "secrets [cdse]").
        """
        install_redaction()  # before any token request can be logged
        if collection.id not in DATA_COLLECTIONS:
            raise ValueError(f"unsupported collection {collection.id!r}")
        if not credentials.complete:
            raise CredentialsMissingError(
                f"{service.title} needs both an OAuth client id and secret. " + how_to_configure(service.key)
            )
        self.service = service
        self.key = service.key
        self.title = service.title
        self.collection = collection
        self.cache_id = f"sentinelhub-py|{service.key}|{service.base_url}|{collection.id}|{REQUEST_VERSION}"
        self.status = status
        self.page_size = page_size
        self.max_wait = max_wait
        self._origin = origin or "as given"
        # No config file, no environment, no data folder: sentinelhub-py does no file I/O.
        self._config = SHConfig(
            use_defaults=True,
            sh_client_id=credentials.client_id,
            sh_client_secret=credentials.client_secret,
            sh_base_url=service.base_url,
            sh_token_url=service.token_url,
            max_download_attempts=max_attempts,
            download_sleep_time=sleep,
            download_timeout_seconds=timeout,
            max_retries=max_retries,
        )
        self._session: SentinelHubSession | None = None
        self._session_lock = threading.Lock()
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"SentinelHubSource({self.key!r}, {self.collection.id!r}, {self.service.base_url!r})"

    # --- status -------------------------------------------------------------------------

    @contextmanager
    def reporting(self, callback: StatusCallback) -> Iterator[None]:
        """Send this thread's wait and retry messages to ``callback`` (e.g. a placeholder on
        the page) instead of ``status``, for the duration of the block."""
        previous = getattr(self._local, "callback", None)
        self._local.callback = callback
        try:
            yield
        finally:
            self._local.callback = previous

    def _notifier(self) -> StatusCallback:
        """Where messages of a request started now go: this thread's ``reporting`` callback
        (captured here, as downloads may run on a worker thread) or ``status``."""
        callback = getattr(self._local, "callback", None)
        return lambda text: self._notify(text, callback)

    def _notify(self, text: str, callback: StatusCallback | None = None) -> None:
        log.info("%s: %s", self.title, text)
        callback = callback or self.status
        if callback is not None:
            try:
                callback(text)
            except Exception:  # noqa: BLE001 - a status display must never break a download
                log.debug("status callback failed", exc_info=True)

    # --- the protocol -------------------------------------------------------------------

    def acquisitions(
        self,
        aoi: AreaOfInterest,
        start: date,
        end: date,
        max_cloud: float | None = None,
        progress: Progress | None = None,
    ) -> list[Acquisition]:
        """Distinct UTC days with data from start to end (inclusive), oldest first, each
        with its tiles merged, from every page of the Catalog API."""
        report = progress or (lambda fraction, text: None)
        report(0.0, f"Searching the {self.title} catalog…")
        listed = 0

        def on_page(count: int) -> None:
            nonlocal listed
            listed = count
            report(listing_fraction(count, self.page_size), f"Listed {count} tiles…")

        def list_all() -> list[dict[str, Any]]:
            nonlocal listed
            listed = 0
            return search_features(
                self._catalog(), self.collection.id, aoi, start, end, max_cloud, self.page_size, on_page
            )

        waiting = self.reporting(lambda text: report(listing_fraction(listed, self.page_size), text))
        with waiting, self._errors("list the acquisitions"):
            features = self._renewing_token(list_all)
        result = merge_features(features)
        report(1.0, f"{len(result)} acquisitions from {len(features)} tiles")
        if not result:
            raise NoAcquisitionsError(NO_ACQUISITIONS)
        return result

    def scene(self, aoi: AreaOfInterest, acquisition: Acquisition) -> Scene:
        """One Process API request: every band, the data mask and the sun angles (and SCL)."""
        request = self.process_request(aoi, acquisition)
        with self._errors(f"fetch the image of {acquisition.time:%Y-%m-%d}"):
            data = self._renewing_token(
                lambda: self._client().download(request.download_list, max_threads=1, decode_data=True)[0]
            )
            return scene_from(data, aoi, acquisition, self.collection)

    def process_request(self, aoi: AreaOfInterest, acquisition: Acquisition) -> SentinelHubRequest:
        """The Process API request for an acquisition on the AOI's grid (built, not sent)."""
        return process_request(aoi, acquisition, self.collection, self._config)

    def test_connection(self) -> ConnectionResult:
        """Fetch a fresh token and one catalog item: ok, rejected or unreachable."""
        try:
            session = TimedSession(config=self._config)
            with self._session_lock:
                self._session = session
            first_page = self._catalog().search(self.collection.id, limit=1)
            next(iter(first_page), None)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one of the three answers
            error = translate(exc, "test the connection", self.service, self._origin, self._config)
            rejected = isinstance(
                error, CredentialsRejectedError | AccessDeniedError | CredentialsMissingError
            )
            return ConnectionResult("rejected" if rejected else "unreachable", str(error))
        return ConnectionResult(
            "ok",
            f"Connected to {self.title} at {self.service.base_url}; credentials ({self._origin}) accepted.",
        )

    # --- plumbing -----------------------------------------------------------------------

    def _oauth_session(self) -> SentinelHubSession:
        """This source's own OAuth session, created (one token request) on first use, instead
        of the library's process-wide session cache (whose key leaves out the secret and the
        token URL)."""
        with self._session_lock:
            if self._session is None:
                self._session = TimedSession(config=self._config)
            return self._session

    def _renewing_token(self, call: Callable[[], Any]) -> Any:
        """``call()``, once more with a fresh token if the API refused the one we hold (HTTP
        401: expired early, revoked, or the server restarted). sentinelhub-py does not
        re-authenticate by itself; a second refusal means the credentials are rejected."""
        refused = self._oauth_session()
        try:
            return call()
        except Exception as exc:
            if http_status(exc) != 401 or request_url(exc) == self.service.token_url:
                raise
        self._notifier()("The server refused our access token; fetching a new one…")
        with self._session_lock:
            if self._session is refused:  # not renewed meanwhile by another fetch
                self._session = None
        return call()

    def _client(self) -> ReportingClient:
        return ReportingClient(
            notify=self._notifier(),
            max_wait=self.max_wait,
            session=self._oauth_session(),
            config=self._config,
        )

    def _catalog(self) -> CatalogClient:
        return CatalogClient(self._config, self._client())

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Failures inside the block raised as the ``SourceError`` ``translate`` makes of them."""
        try:
            yield
        except SourceError:
            raise
        except Exception as exc:  # noqa: BLE001 - translated in one place, the original kept as cause
            error = translate(exc, action, self.service, self._origin, self._config)
            if isinstance(error, CredentialsRejectedError):
                with self._session_lock:
                    self._session = None  # trying again fetches a new token
            raise error from exc


def make_source(
    key: str,
    collection_id: str | None = None,
    credentials: Credentials | None = None,
    *,
    origin: str = "",
    environ: Mapping[str, str] | None = None,
    title: str | None = None,
    **options: Any,
) -> SentinelHubSource:
    """A source for ``sentinelhub`` or ``cdse``; without credentials they come from the
    environment. Raises CredentialsMissingError when there are none."""
    env = os.environ if environ is None else environ
    service = get_service(key, env, title)
    if credentials is None or not credentials.complete:
        credentials, origin = resolve_credentials(key, None, env, None)
    if credentials is None:
        raise CredentialsMissingError(
            f"{service.title} needs an OAuth client id and secret. " + how_to_configure(key)
        )
    collection = COLLECTIONS[collection_id or L1C.id]
    return SentinelHubSource(service, credentials, collection, origin=origin, **options)
