"""Sentinel Hub and Copernicus Data Space Ecosystem (CDSE) through sentinelhub-py.

The only module of the project that imports ``sentinelhub``. Two services, one code path:

- the acquisition list comes from the Catalog API (every page), tiles of one UTC day merged
  into one acquisition;
- one Process API request per acquisition returns everything a scene needs (all bands as
  FLOAT32 reflectance, the data mask, the sun angles, SCL for Level-2A) as one tar, on the
  AOI's own 10 m UTM grid, so every date shares the grid;
- failures are translated in one place (``SentinelHubSource._translate``) into
  ``SourceError`` subclasses whose messages say what to do and never hold a secret.

Endpoints default to the public services; for tests and self-hosted setups they may be
overridden from the environment: ``SH_BASE_URL``, ``SH_TOKEN_URL`` (Sentinel Hub) and
``CDSE_BASE_URL``, ``CDSE_TOKEN_URL`` (CDSE). A plain ``http://`` token URL also needs
``OAUTHLIB_INSECURE_TRANSPORT=1`` (oauthlib insists on https).

sentinelhub-py is used without any of its file I/O: ``SHConfig(use_defaults=True)`` reads
no config file and no environment, no ``data_folder`` is set, and each source holds its
own OAuth session instead of the library's process-wide session cache (whose key leaves
out the secret and the token URL).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import tarfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import requests
from oauthlib.oauth2 import BackendApplicationClient
from oauthlib.oauth2.rfc6749.errors import InsecureTransportError, OAuth2Error
from requests_oauthlib import OAuth2Session
from sentinelhub import (
    CRS,
    BBox,
    DataCollection,
    MimeType,
    MosaickingOrder,
    SentinelHubCatalog,
    SentinelHubDownloadClient,
    SentinelHubRequest,
    SentinelHubSession,
    SHConfig,
)
from sentinelhub.constants import SHConstants
from sentinelhub.download.handlers import fail_user_errors, retry_temporary_errors
from sentinelhub.download.models import DownloadRequest
from sentinelhub.exceptions import BaseSentinelHubException, OutOfRequestsException
from tifffile import TiffFileError

from labeller.aoi import AreaOfInterest
from labeller.bands import COLLECTIONS, L1C, L2A, Collection, offset_removed
from labeller.credentials import Credentials, how_to_configure
from labeller.errors import NoAcquisitionsError, SourceError
from labeller.scenes import Acquisition, Progress, Scene
from labeller.sources.base import ConnectionResult, StatusCallback

log = logging.getLogger(__name__)

REQUEST_VERSION = "process-v1"
"""Names the evalscript and request shape in the scene cache key: change it with them."""
NO_ACQUISITIONS = (
    "No acquisitions for this area, period and cloud limit: widen the period or raise the cloud limit."
)


# --- services -----------------------------------------------------------------------


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


# --- collections and the request ------------------------------------------------------

# Stock collections carry service_url = services.sentinel-hub.com, which would win over the
# configured base URL (CDSE, a test server); these copies honour it.
_DATA_COLLECTIONS: dict[str, DataCollection] = {
    L1C.id: DataCollection.SENTINEL2_L1C.define_from("LABELLER_S2_L1C", service_url=None),
    L2A.id: DataCollection.SENTINEL2_L2A.define_from("LABELLER_S2_L2A", service_url=None),
}
SUN_BANDS = ("sunZenithAngles", "sunAzimuthAngles")


def outputs_of(collection: Collection) -> list[tuple[str, list[str], str]]:
    """(output id, input bands, sample type) of every Process API output, in order."""
    outputs = [
        ("bands", list(collection.band_names), "FLOAT32"),
        ("dataMask", ["dataMask"], "UINT8"),
        ("sun", list(SUN_BANDS), "FLOAT32"),
    ]
    if collection.id == L2A.id:
        outputs.append(("SCL", ["SCL"], "UINT8"))
    return outputs


def evalscript(collection: Collection) -> str:
    """The evalscript: bands as reflectance, data mask, sun angles (and SCL for Level-2A).

    Kept canonical, one output object per line with ``id`` first and one
    ``id: [s.BAND, ...]`` line per output in ``evaluatePixel``, so a test server can read
    it without running JavaScript.
    """
    outputs = outputs_of(collection)
    inputs = [band for _, bands, _ in outputs for band in bands]
    units = [_unit(band) for band in inputs]
    declared = ",\n".join(
        f'      {{ id: "{oid}", bands: {len(bands)}, sampleType: "{kind}" }}' for oid, bands, kind in outputs
    )
    returned = ",\n".join(
        f"    {oid}: [{', '.join(f's.{band}' for band in bands)}]" for oid, bands, _ in outputs
    )
    return (
        "//VERSION=3\n"
        f"// S2 Pixel Labeller {REQUEST_VERSION}: {collection.id}\n"
        "function setup() {\n"
        "  return {\n"
        f"    input: [{{ bands: {json.dumps(inputs)}, units: {json.dumps(units)} }}],\n"
        "    output: [\n"
        f"{declared}\n"
        "    ]\n"
        "  };\n"
        "}\n\n"
        "function evaluatePixel(s) {\n"
        "  return {\n"
        f"{returned}\n"
        "  };\n"
        "}\n"
    )


def _unit(band: str) -> str:
    if band in SUN_BANDS:
        return "DEGREES"
    return "DN" if band in ("dataMask", "SCL") else "REFLECTANCE"


def day_range(day: date) -> tuple[datetime, datetime]:
    """The UTC day as a closed time range, as the Process and Catalog APIs take it."""
    start = datetime.combine(day, time(0, 0), tzinfo=UTC)
    return start, start + timedelta(days=1, seconds=-1)


# --- errors -----------------------------------------------------------------------------


class SentinelHubError(SourceError):
    """A Sentinel Hub or CDSE failure, with a message telling the user what to do."""

    retryable = False
    """True when trying the same thing again later may well work (show a Retry button)."""


class CredentialsMissingError(SentinelHubError):
    """No client id and secret were configured for the service."""


class CredentialsRejectedError(SentinelHubError):
    """The token endpoint or the API refused the credentials (invalid client, HTTP 401)."""


class AccessDeniedError(SentinelHubError):
    """HTTP 403: the account may not use this collection or has run out of quota."""


class BadRequestError(SentinelHubError):
    """HTTP 400 (or another 4xx): the service says what was wrong with the request."""


class ConfigurationError(SentinelHubError):
    """The service URLs cannot be used as configured."""


class RateLimitedError(SentinelHubError):
    """HTTP 429 went on after the allowed number of retries."""

    retryable = True


class ServerUnreachableError(SentinelHubError):
    """No connection to the server could be made."""

    retryable = True


class ServiceUnavailableError(SentinelHubError):
    """HTTP 5xx or no answer in time, after the allowed retries."""

    retryable = True


class BadResponseError(SentinelHubError):
    """The answer could not be read (e.g. a truncated image)."""

    retryable = True


# --- secrets stay out of logs -----------------------------------------------------------

_SECRET_RE = re.compile(
    r"""((?:client_secret|access_token|refresh_token)['"]?\s*[:=]\s*['"]?)[^&\s'",}]+|(Bearer\s+)\S+"""
)


def redact(text: str) -> str:
    """``text`` with OAuth secrets and bearer tokens replaced by ``***``."""
    return _SECRET_RE.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)


class _RedactSecrets(logging.Filter):
    """requests-oauthlib logs the token request body (with the client secret) at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install_redaction() -> None:
    """Keep secrets out of requests-oauthlib's DEBUG logs (idempotent). Called by every
    source when it is made, rather than as a side effect of importing this module."""
    for name in ("requests_oauthlib.oauth2_session", "requests_oauthlib.oauth2_auth"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactSecrets) for f in logger.filters):
            logger.addFilter(_RedactSecrets())


# --- sentinelhub-py pieces ------------------------------------------------------------


class _Session(SentinelHubSession):
    """sentinelhub-py's OAuth session with a timeout on the token request (it sets none, so
    a server that accepts the connection and never answers would hang the app)."""

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


class _WaitTooLong(Exception):
    """The server asked for a longer pause than the source accepts (``max_wait``)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"Retry-After {seconds:.0f} s")
        self.seconds = seconds


class _Client(SentinelHubDownloadClient):
    """The library's download client, telling ``notify`` when it waits or retries, and giving
    up at once when a 429 asks for more than ``max_wait`` seconds."""

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
            wait = _retry_after_s(response.headers, self.default_retry_time)
            if wait > self._max_wait:
                raise _WaitTooLong(wait)
            self._notify(
                f"The server asks us to slow down (HTTP 429): waiting {wait:.1f} s, then trying again…"
            )
        elif response.status_code >= 500:
            self._notify(f"The server failed (HTTP {response.status_code}); trying again…")
        return response


def _retry_after_s(headers: Mapping[str, str], default_ms: float) -> float:
    """Sentinel Hub's Retry-After is in milliseconds."""
    try:
        return float(headers.get("Retry-After", default_ms)) / 1000.0
    except (TypeError, ValueError):
        return default_ms / 1000.0


class _Catalog(SentinelHubCatalog):
    """The Catalog API client, talking through our download client."""

    def __init__(self, config: SHConfig, client: SentinelHubDownloadClient) -> None:
        super().__init__(config=config)
        self.client = client


# --- the source -----------------------------------------------------------------------


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
        install_redaction()
        if collection.id not in _DATA_COLLECTIONS:
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
        features: list[dict] = []
        waiting = self.reporting(lambda text: report(_listing_fraction(len(features), self.page_size), text))

        def list_all() -> None:
            features.clear()
            search = self._catalog().search(
                self.collection.id,
                time=(day_range(start)[0], day_range(end)[1]),
                bbox=BBox(aoi.bbox, crs=CRS.WGS84),
                filter=cloud_filter(max_cloud),
                limit=self.page_size,
            )
            for feature in search:
                features.append(feature)
                if len(features) % self.page_size == 0:
                    fraction = _listing_fraction(len(features), self.page_size)
                    report(fraction, f"Listed {len(features)} tiles…")

        with waiting, self._errors("list the acquisitions"):
            self._renewing_token(list_all)
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
        outputs = outputs_of(self.collection)
        rows, cols = aoi.shape
        return SentinelHubRequest(
            evalscript=evalscript(self.collection),
            input_data=[
                SentinelHubRequest.input_data(
                    data_collection=_DATA_COLLECTIONS[self.collection.id],
                    time_interval=day_range(acquisition.time.astimezone(UTC).date()),
                    mosaicking_order=MosaickingOrder.LEAST_CC,
                    other_args={
                        "processing": {
                            "upsampling": "NEAREST",
                            "downsampling": "NEAREST",
                            "harmonizeValues": True,
                        }
                    },
                )
            ],
            responses=[SentinelHubRequest.output_response(oid, MimeType.TIFF) for oid, _, _ in outputs],
            bbox=BBox(aoi.utm_bounds, crs=CRS(aoi.epsg)),
            size=(cols, rows),
            config=self._config,
        )

    def test_connection(self) -> ConnectionResult:
        """Fetch a fresh token and one catalog item: ok, rejected or unreachable."""
        try:
            session = _Session(config=self._config)
            with self._session_lock:
                self._session = session
            first_page = self._catalog().search(self.collection.id, limit=1)
            next(iter(first_page), None)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one of the three answers
            error = self._translate(exc, "test the connection")
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
        """This source's own OAuth session, created (one token request) on first use."""
        with self._session_lock:
            if self._session is None:
                self._session = _Session(config=self._config)
            return self._session

    def _renewing_token(self, call: Callable[[], Any]) -> Any:
        """``call()``, once more with a fresh token if the API refused the one we hold (HTTP
        401: expired early, revoked, or the server restarted). sentinelhub-py does not
        re-authenticate by itself; a second refusal means the credentials are rejected."""
        refused = self._oauth_session()
        try:
            return call()
        except Exception as exc:
            if _http_status(exc) != 401 or _request_url(exc) == self.service.token_url:
                raise
        self._notifier()("The server refused our access token; fetching a new one…")
        with self._session_lock:
            if self._session is refused:  # not renewed meanwhile by another fetch
                self._session = None
        return call()

    def _client(self) -> _Client:
        return _Client(
            notify=self._notifier(),
            max_wait=self.max_wait,
            session=self._oauth_session(),
            config=self._config,
        )

    def _catalog(self) -> _Catalog:
        return _Catalog(self._config, self._client())

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except SourceError:
            raise
        except Exception as exc:  # noqa: BLE001 - translated in one place, the original kept as cause
            error = self._translate(exc, action)
            if isinstance(error, CredentialsRejectedError):
                with self._session_lock:
                    self._session = None  # trying again fetches a new token
            raise error from exc

    def _translate(self, exc: BaseException, action: str) -> SourceError:
        """The one place where failures become messages a user can act on."""
        name, base = self.title, self.service.base_url
        status = _http_status(exc)
        if isinstance(exc, InsecureTransportError):
            return ConfigurationError(
                f"The {name} token URL must use https://. For a local test server set "
                "OAUTHLIB_INSECURE_TRANSPORT=1."
            )
        if isinstance(exc, OAuth2Error) or status == 401:
            return CredentialsRejectedError(
                f"{name} rejected the credentials ({self._origin}) while trying to {action}. Check the "
                f"OAuth client id and secret, and that the client belongs to {name}. "
                + how_to_configure(self.key)
            )
        if status == 403:
            return AccessDeniedError(
                f"{name} refused access (HTTP 403) while trying to {action}: check in the {name} dashboard "
                "that your account may use Sentinel-2 data and still has processing units or requests left."
            )
        if isinstance(exc, _WaitTooLong):
            return RateLimitedError(
                f"{name} asks us to pause {exc.seconds:.0f} s (HTTP 429) before we {action}: your account's "
                "request or processing-unit limit is reached for now. Try again later."
            )
        if isinstance(exc, OutOfRequestsException) or status == 429:
            return RateLimitedError(
                f"{name} kept asking us to slow down (HTTP 429) while trying to {action}, after "
                f"{self._config.max_retries} tries. Wait a minute, then try again."
            )
        if status is not None and 400 <= status < 500:
            detail = _server_message(exc)
            return BadRequestError(
                f"{name} refused the request to {action} (HTTP {status})"
                + (f": {detail}" if detail else "")
                + ". Check the area, the period and the collection."
            )
        if status is not None and status >= 500:
            return ServiceUnavailableError(
                f"{name} failed (HTTP {status}) to {action}, {self._config.max_download_attempts} times. "
                "The service may be busy or down: try again in a few minutes."
            )
        request_error = getattr(exc, "request_exception", None) or exc
        if isinstance(request_error, requests.Timeout):
            return ServiceUnavailableError(
                f"{name} did not answer within {self._config.download_timeout_seconds:g} s while trying to "
                f"{action} ({self._config.max_download_attempts} tries). Try again."
            )
        if isinstance(request_error, requests.RequestException):
            return ServerUnreachableError(
                f"Could not reach {name} at {base} to {action}: check the internet connection, any proxy, "
                "and the service URL; then try again."
            )
        if isinstance(
            exc, TiffFileError | tarfile.TarError | EOFError | BaseSentinelHubException | ValueError
        ):
            return BadResponseError(
                f"{name} sent an answer that could not be read while trying to {action} (incomplete or "
                "damaged image). Try again."
            )
        return SentinelHubError(
            f"Could not {action} from {name} ({type(exc).__name__}): {redact(str(exc))[:200]}. Try again."
        )


# --- pure helpers -------------------------------------------------------------------------


def cloud_filter(max_cloud: float | None) -> str | None:
    """The CQL2 text filter for a cloud limit in percent, or None for no limit."""
    if max_cloud is None or max_cloud >= 100:
        return None
    return f"eo:cloud_cover <= {max(float(max_cloud), 0.0):g}"


def _listing_fraction(listed: int, page_size: int) -> float:
    """A progress fraction that grows with each page without knowing the total."""
    pages = listed / max(page_size, 1)
    return 0.9 * pages / (pages + 1.0)


_BASELINE_IN_ID = re.compile(r"_N(\d{2})(\d{2})(?=_)")
_TILE_IN_ID = re.compile(r"_T(\d{2}[A-Z]{3})(?=_|\.|$)")


def processing_baseline(feature: Mapping[str, Any]) -> str | None:
    """``05.09``-style baseline from the properties or, as Sentinel Hub's catalog gives
    none, from the product id (``..._N0509_...``)."""
    props = feature.get("properties") or {}
    for key in ("s2:processing_baseline", "processing:version"):
        if props.get(key):
            return str(props[key])
    match = _BASELINE_IN_ID.search(str(feature.get("id", "")))
    return f"{match[1]}.{match[2]}" if match else None


def tile_id(feature: Mapping[str, Any]) -> str | None:
    """``T33TVM``-style MGRS tile from the properties or the product id (``..._T33TVM_...``)."""
    props = feature.get("properties") or {}
    for key in ("s2:mgrs_tile", "grid:code"):
        value = str(props.get(key) or "").removeprefix("MGRS-").removeprefix("T")
        if value:
            return f"T{value}"
    match = _TILE_IN_ID.search(str(feature.get("id", "")))
    return f"T{match[1]}" if match else None


def parse_time(value: str) -> datetime:
    """A catalog datetime (``2023-06-01T10:26:10.024Z``) as an aware UTC datetime."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def merge_features(features: list[Mapping[str, Any]]) -> list[Acquisition]:
    """One acquisition per UTC day, oldest first: the earliest tile time, the highest tile
    cloud cover (a conservative figure for the whole day), the tiles and baselines seen."""
    by_day: dict[date, list[Mapping[str, Any]]] = {}
    for feature in features:
        day = parse_time(feature["properties"]["datetime"]).date()
        by_day.setdefault(day, []).append(feature)
    return [_merged(day, tiles) for day, tiles in sorted(by_day.items())]


def _merged(day: date, tiles: list[Mapping[str, Any]]) -> Acquisition:
    covers = [
        float(t["properties"]["eo:cloud_cover"])
        for t in tiles
        if t["properties"].get("eo:cloud_cover") is not None
    ]
    tile_ids = sorted({t for t in map(tile_id, tiles) if t})
    baselines = sorted({b for b in map(processing_baseline, tiles) if b})
    return Acquisition(
        id=f"S2_{day:%Y%m%d}",
        time=min(parse_time(t["properties"]["datetime"]) for t in tiles),
        cloud_cover=max(covers) if covers else None,
        tile_id=",".join(tile_ids) or None,
        processing_baseline="/".join(baselines) or None,
    )


def scene_from(
    data: Mapping[str, Any], aoi: AreaOfInterest, acquisition: Acquisition, collection: Collection
) -> Scene:
    """A Scene from the decoded tar of a Process API answer."""
    rows, cols = aoi.shape
    try:
        bands = np.asarray(data["bands.tif"])
        mask = np.asarray(data["dataMask.tif"])
        sun = np.asarray(data["sun.tif"])
    except KeyError as exc:
        raise ValueError(f"the answer lacks {exc}") from exc
    if bands.ndim == 2:
        bands = bands[..., None]
    if mask.ndim == 3:
        mask = mask[..., 0]
    if bands.shape != (rows, cols, len(collection.band_names)) or mask.shape != (rows, cols):
        raise ValueError(f"unexpected image shape {bands.shape} for a {rows} × {cols} grid")
    valid = mask.astype(bool)
    extra = (
        {"SCL": np.asarray(data["SCL.tif"], dtype=np.uint8).reshape(rows, cols)}
        if collection.id == L2A.id
        else {}
    )
    return Scene(
        acquisition=acquisition,
        band_names=collection.band_names,
        bands=bands.astype(np.float32, copy=False),
        valid=valid,
        sun_zenith=_mean(sun[..., 0], valid),
        sun_azimuth=_mean(sun[..., 1], valid),
        # harmonizeValues is always requested; it changes values only where a tile carries
        # the baseline-04.00 offset, so say what it actually did.
        harmonised=offset_removed(acquisition.processing_baseline),
        extra=extra,
    )


def _mean(values: np.ndarray, valid: np.ndarray) -> float:
    return float(np.mean(values[valid], dtype=np.float64)) if valid.any() else math.nan


def _http_status(exc: BaseException) -> int | None:
    response = getattr(getattr(exc, "request_exception", None), "response", None)
    if response is None:
        response = getattr(exc, "response", None)
    return getattr(response, "status_code", None) if response is not None else None


def _request_url(exc: BaseException) -> str | None:
    """The URL of the request that failed, where known (without its query)."""
    request = getattr(getattr(exc, "request_exception", None), "request", None)
    url = getattr(request, "url", None)
    return url.split("?", 1)[0] if url else None


def _server_message(exc: BaseException) -> str:
    """What the service said was wrong, from a Sentinel Hub JSON error body, shortened."""
    response = getattr(getattr(exc, "request_exception", None), "response", None)
    if response is None:
        return ""
    try:
        body = response.json()
        error = body.get("error", body) if isinstance(body, dict) else body
        if isinstance(error, dict):
            text = (
                error.get("message") or error.get("description") or error.get("reason") or json.dumps(error)
            )
        else:
            text = str(error) + (
                f" ({body['error_description']})"
                if isinstance(body, dict) and body.get("error_description")
                else ""
            )
    except ValueError:
        text = response.text
    return redact(" ".join(str(text).split()))[:300]


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
    from labeller.credentials import resolve_credentials

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
