"""Sentinel Hub and Copernicus Data Space Ecosystem (CDSE) through sentinelhub-py.

The only package of the project that imports ``sentinelhub``. Two services, one code path:

- the acquisition list comes from the Catalog API (every page), tiles of one UTC day merged
  into one acquisition;
- one Process API request per acquisition returns everything a scene needs (all bands as
  FLOAT32 reflectance, the data mask, the sun angles, SCL for Level-2A) as one tar, on the
  AOI's own 10 m UTM grid, so every date shares the grid;
- failures are translated in one place into ``SourceError`` subclasses whose messages say
  what to do and never hold a secret.

Endpoints default to the public services; for tests and self-hosted setups they may be
overridden from the environment: ``SH_BASE_URL``, ``SH_TOKEN_URL`` (Sentinel Hub) and
``CDSE_BASE_URL``, ``CDSE_TOKEN_URL`` (CDSE). A plain ``http://`` token URL also needs
``OAUTHLIB_INSECURE_TRANSPORT=1`` (oauthlib insists on https).

sentinelhub-py is used without any of its file I/O: ``SHConfig(use_defaults=True)`` reads
no config file and no environment, no ``data_folder`` is set, and each source holds its
own OAuth session instead of the library's process-wide session cache.

One module per concern:

- ``services``: the two deployments and their URLs from the environment;
- ``catalog``: the Catalog search, features merged into acquisitions (pure but the search);
- ``process``: the Process API request (sentinelhub-py's ``generate_evalscript``) and the
  scene made from its answer;
- ``client``: sentinelhub-py's session, download client and catalog, adjusted (token timeout,
  status messages, a cap on Retry-After);
- ``errors``: the error classes and the one translation of failures into them;
- ``redaction``: secrets kept out of requests-oauthlib's logs, installed by the source;
- ``source``: ``SentinelHubSource``, the ``ImageSource``, and ``make_source``.
"""

from labeller.sources.sentinelhub.catalog import (
    cloud_filter,
    merge_features,
    parse_time,
    processing_baseline,
    tile_id,
)
from labeller.sources.sentinelhub.errors import (
    AccessDeniedError,
    BadRequestError,
    BadResponseError,
    ConfigurationError,
    CredentialsMissingError,
    CredentialsRejectedError,
    RateLimitedError,
    SentinelHubError,
    ServerUnreachableError,
    ServiceUnavailableError,
)
from labeller.sources.sentinelhub.process import REQUEST_VERSION, evalscript, output_ids
from labeller.sources.sentinelhub.redaction import install_redaction, redact
from labeller.sources.sentinelhub.services import SERVICES, URL_ENV, Service, get_service
from labeller.sources.sentinelhub.source import NO_ACQUISITIONS, SentinelHubSource, make_source

__all__ = [
    "NO_ACQUISITIONS",
    "REQUEST_VERSION",
    "SERVICES",
    "URL_ENV",
    "AccessDeniedError",
    "BadRequestError",
    "BadResponseError",
    "ConfigurationError",
    "CredentialsMissingError",
    "CredentialsRejectedError",
    "RateLimitedError",
    "SentinelHubError",
    "SentinelHubSource",
    "ServerUnreachableError",
    "Service",
    "ServiceUnavailableError",
    "cloud_filter",
    "evalscript",
    "get_service",
    "install_redaction",
    "make_source",
    "merge_features",
    "output_ids",
    "parse_time",
    "processing_baseline",
    "redact",
    "tile_id",
]
