"""Sentinel Hub and CDSE failures as ``SourceError``s whose messages say what to do.

Translation happens here only (``translate``); no message ever holds a secret."""

from __future__ import annotations

import json
import tarfile

import requests
from oauthlib.oauth2.rfc6749.errors import InsecureTransportError, OAuth2Error
from sentinelhub import SHConfig
from sentinelhub.exceptions import BaseSentinelHubException, OutOfRequestsException
from tifffile import TiffFileError

from labeller.credentials import how_to_configure
from labeller.errors import SourceError
from labeller.sources.sentinelhub.redaction import redact
from labeller.sources.sentinelhub.services import Service


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


class WaitTooLong(Exception):
    """The server asked for a longer pause than the source accepts (``max_wait``)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"Retry-After {seconds:.0f} s")
        self.seconds = seconds


def translate(
    exc: BaseException, action: str, service: Service, origin: str, config: SHConfig
) -> SourceError:
    """The one place where failures become messages a user can act on.

    :param action: what was being done, e.g. "list the acquisitions".
    :param origin: where the credentials came from, for messages.
    :param config: the source's settings (retry counts and timeout quoted in messages).
    """
    name, base = service.title, service.base_url
    status = http_status(exc)
    if isinstance(exc, InsecureTransportError):
        return ConfigurationError(
            f"The {name} token URL must use https://. For a local test server set "
            "OAUTHLIB_INSECURE_TRANSPORT=1."
        )
    if isinstance(exc, OAuth2Error) or status == 401:
        return CredentialsRejectedError(
            f"{name} rejected the credentials ({origin}) while trying to {action}. Check the "
            f"OAuth client id and secret, and that the client belongs to {name}. "
            + how_to_configure(service.key)
        )
    if status == 403:
        return AccessDeniedError(
            f"{name} refused access (HTTP 403) while trying to {action}: check in the {name} dashboard "
            "that your account may use Sentinel-2 data and still has processing units or requests left."
        )
    if isinstance(exc, WaitTooLong):
        return RateLimitedError(
            f"{name} asks us to pause {exc.seconds:.0f} s (HTTP 429) before we {action}: your account's "
            "request or processing-unit limit is reached for now. Try again later."
        )
    if isinstance(exc, OutOfRequestsException) or status == 429:
        return RateLimitedError(
            f"{name} kept asking us to slow down (HTTP 429) while trying to {action}, after "
            f"{config.max_retries} tries. Wait a minute, then try again."
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
            f"{name} failed (HTTP {status}) to {action}, {config.max_download_attempts} times. "
            "The service may be busy or down: try again in a few minutes."
        )
    request_error = getattr(exc, "request_exception", None) or exc
    if isinstance(request_error, requests.Timeout):
        return ServiceUnavailableError(
            f"{name} did not answer within {config.download_timeout_seconds:g} s while trying to "
            f"{action} ({config.max_download_attempts} tries). Try again."
        )
    if isinstance(request_error, requests.RequestException):
        return ServerUnreachableError(
            f"Could not reach {name} at {base} to {action}: check the internet connection, any proxy, "
            "and the service URL; then try again."
        )
    if isinstance(exc, TiffFileError | tarfile.TarError | EOFError | BaseSentinelHubException | ValueError):
        return BadResponseError(
            f"{name} sent an answer that could not be read while trying to {action} (incomplete or "
            "damaged image). Try again."
        )
    return SentinelHubError(
        f"Could not {action} from {name} ({type(exc).__name__}): {redact(str(exc))[:200]}. Try again."
    )


def http_status(exc: BaseException) -> int | None:
    """The HTTP status of the answer that failed, where there was one."""
    response = getattr(getattr(exc, "request_exception", None), "response", None)
    if response is None:
        response = getattr(exc, "response", None)
    return getattr(response, "status_code", None) if response is not None else None


def request_url(exc: BaseException) -> str | None:
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
