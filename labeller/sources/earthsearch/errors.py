"""Earth Search failures as ``SourceError``s whose messages say what to do.

Translation happens here only: ``search_error`` for the STAC API (pystac-client's APIError,
requests' errors), ``read_error`` for GDAL's answers about a COG.
"""

from __future__ import annotations

import re

from labeller.errors import SourceError

NO_INTERNET = (
    "Check this computer's internet connection (Earth Search is on the public internet); "
    "the Demo source works offline."
)


class EarthSearchError(SourceError):
    """An Earth Search failure."""

    retryable = False


class SearchRejectedError(EarthSearchError):
    """The STAC API refused the search (HTTP 4xx other than 429)."""


class SearchUnavailableError(EarthSearchError):
    """The STAC API answered 429/5xx, timed out or could not be reached, after the retries."""

    retryable = True


class AssetUnavailableError(EarthSearchError):
    """A band file answered 5xx or could not be reached, after the retries."""

    retryable = True


class AssetForbiddenError(EarthSearchError):
    """A band file answered 403 or 404: retrying the same file will not help."""


class CorruptAssetError(EarthSearchError):
    """A band file could not be decoded (truncated or corrupt). A retry fetches it anew."""

    retryable = True


class MissingAssetsError(EarthSearchError):
    """An item lacks some of the band files."""


def search_error(exc: Exception, url: str, doing: str) -> EarthSearchError:
    """The error to show for a failed STAC request (``doing``: e.g. "list acquisitions")."""
    status = getattr(exc, "status_code", None)
    text = " ".join(str(exc).split())
    if status is None:
        match = re.search(r"\b([45]\d\d)\b", text)
        status = int(match.group(1)) if match and "Max retries" in text else None
    if status is None:
        if "timed out" in text.lower() or "timeout" in text.lower():
            return SearchUnavailableError(
                f"Earth Search at {url} did not answer in time to {doing}; press Retry in a moment."
            )
        return SearchUnavailableError(f"Could not reach Earth Search at {url} to {doing}. {NO_INTERNET}")
    if status == 429 or status >= 500:
        return SearchUnavailableError(
            f"Earth Search at {url} is busy or failing (HTTP {status}) and could not {doing}; "
            "press Retry in a minute."
        )
    return SearchRejectedError(
        f"Earth Search at {url} refused to {doing} (HTTP {status}: {text[:200]}). Check LABELLER_STAC_URL "
        "and the area and dates."
    )


def read_error(exc: Exception, band: str, href: str) -> EarthSearchError:
    """The error to show for a band file GDAL could not read."""
    text = " ".join(str(exc).split())
    name = href.rsplit("/", 1)[-1]
    match = re.search(r"HTTP (?:response )?code:?\s*(\d{3})", text)
    status = int(match.group(1)) if match else None
    causes = {type(e).__name__ for e in (exc, exc.__cause__, exc.__context__) if e is not None}
    # GDAL's S3 reader names S3's error codes by class: AccessDenied (403), NoSuchKey (404).
    if status is None and "CPLE_AWSAccessDeniedError" in causes:
        status = 403
    elif status is None and causes & {"CPLE_AWSObjectNotFoundError", "CPLE_AWSBucketNotFoundError"}:
        status = 404
    elif status is None and "CPLE_AWSError" in causes:  # other S3 errors (SlowDown, InternalError)
        return AssetUnavailableError(
            f"The {band} file of this date ({name}) could not be fetched (S3 said: {text[:200]}); "
            "press Retry."
        )
    if status in (403, 404):
        return AssetForbiddenError(
            f"The {band} file of this date ({name}) answered HTTP {status}: it is not available. "
            "Skip this date."
        )
    if status is not None:
        return AssetUnavailableError(
            f"The {band} file of this date ({name}) could not be fetched (HTTP {status}); press Retry."
        )
    if re.search(r"could not resolve|couldn't connect|connection|timed out|timeout", text, re.I):
        return AssetUnavailableError(
            f"The {band} file of this date ({name}) could not be reached; press Retry. {NO_INTERNET}"
        )
    return CorruptAssetError(
        f"The {band} file of this date ({name}) arrived truncated or corrupt; press Retry, and "
        "Skip this date if it happens again."
    )
