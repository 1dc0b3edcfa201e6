"""Every failure the service can produce ends as one SourceError with a message a user can act on,
never showing the client secret in a message or a log.

Faults are injected into the local fake; the real sentinelhub-py client meets them over HTTP."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from labeller.aoi import AreaOfInterest
from labeller.errors import SourceError
from labeller.scenes import Acquisition
from labeller.sources.sentinelhub import (
    AccessDeniedError,
    BadRequestError,
    BadResponseError,
    ConfigurationError,
    CredentialsRejectedError,
    RateLimitedError,
    ServerUnreachableError,
    Service,
    ServiceUnavailableError,
    redact,
)
from tests.fakes.fixtures import SECRET
from tests.fakes.sentinelhub_server import Fault

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.filterwarnings("ignore::sentinelhub.exceptions.SHRateLimitWarning")
AOI = AreaOfInterest(10.0, 46.0, 10.008, 46.006)
START, END = date(2020, 6, 1), date(2020, 6, 30)


@pytest.fixture(autouse=True)
def _debug_logs(caplog):
    caplog.set_level(logging.DEBUG)


def assert_no_secret(error: BaseException, caplog) -> None:
    assert SECRET not in str(error) and SECRET not in repr(error)
    assert SECRET not in caplog.text, "the client secret reached a log"
    assert error.__cause__ is not None, "the original error is kept as the cause"


@pytest.fixture
def listed(fake_sh, make_sh_source):
    """A source with its acquisitions listed (token and catalog done), counts reset."""
    source = make_sh_source(timeout=0.5)
    acquisitions = source.acquisitions(AOI, START, END)
    fake_sh.reset()
    return source, acquisitions[0]


@pytest.mark.parametrize(
    ("faults", "error", "words"),
    [
        (
            [Fault.error(400, "Invalid evalscript: unknown band B99")],
            BadRequestError,
            ["HTTP 400", "Invalid evalscript: unknown band B99"],
        ),
        (
            [Fault.error(401, "Token expired")] * 2,  # refused again with a fresh token
            CredentialsRejectedError,
            ["rejected the credentials", "client id"],
        ),
        ([Fault.error(403, "Insufficient processing units")], AccessDeniedError, ["HTTP 403", "dashboard"]),
        ([Fault.rate_limited(50)] * 3, RateLimitedError, ["HTTP 429", "Wait a minute"]),
        ([Fault.error(500, "boom")] * 2, ServiceUnavailableError, ["HTTP 500", "try again"]),
        ([Fault.slow(1.5)] * 2, ServiceUnavailableError, ["did not answer within 0.5 s", "Try again"]),
        ([Fault.truncated()], BadResponseError, ["could not be read", "Try again"]),
    ],
    ids=["400", "401", "403", "429", "500", "timeout", "truncated"],
)
def test_process_faults_become_clear_errors(listed, fake_sh, caplog, faults, error, words):
    source, acquisition = listed
    fake_sh.inject("process", *faults)

    with pytest.raises(error) as caught:
        source.scene(AOI, acquisition)

    assert isinstance(caught.value, SourceError)
    for word in words:
        assert word in str(caught.value)
    assert_no_secret(caught.value, caplog)
    assert fake_sh.counts["process"] == len(faults), "retries are bounded"
    assert caught.value.retryable == (error in (RateLimitedError, ServiceUnavailableError, BadResponseError))


@pytest.mark.parametrize("how", ["revoked", "expired early"])
def test_a_refused_token_is_renewed_once(listed, fake_sh, how):
    """sentinelhub-py does not re-authenticate on 401: the source drops its session and tries
    once more with a fresh token (a restarted server, a token revoked or expired early)."""
    source, acquisition = listed
    if how == "revoked":
        fake_sh.revoke_tokens()
    else:
        fake_sh.inject("process", Fault.error(401, "Token expired"))
    shown = []
    with source.reporting(shown.append):
        assert source.scene(AOI, acquisition).valid.any()
    assert (fake_sh.counts["token"], fake_sh.counts["process"]) == (1, 2)
    assert any("fetching a new one" in text for text in shown)
    print(f"\nrequests for one image after a {how} token: {dict(fake_sh.counts)}")


def test_credentials_rejected_after_one_renewal(listed, fake_sh):
    """A token refused again right after renewal: "credentials rejected", no endless loop."""
    source, acquisition = listed
    fake_sh.revoke_tokens(forever=True)
    with pytest.raises(CredentialsRejectedError):
        source.scene(AOI, acquisition)
    assert (fake_sh.counts["token"], fake_sh.counts["process"]) == (1, 2)


def test_a_failed_image_can_be_fetched_again(listed, fake_sh):
    source, acquisition = listed
    fake_sh.inject("process", Fault.error(500), Fault.error(500))
    with pytest.raises(ServiceUnavailableError):
        source.scene(AOI, acquisition)
    assert source.scene(AOI, acquisition).valid.any()
    assert fake_sh.counts["process"] == 3


@pytest.mark.parametrize(
    "fault, said",
    [
        (Fault.error(500), "The server failed (HTTP 500); trying again…"),
        (Fault.slow(1.0), "No answer within 0.5 s; trying again…"),
    ],
    ids=["500", "timeout"],
)
def test_one_transient_failure_is_retried_and_said_once(listed, fake_sh, fault, said):
    source, acquisition = listed
    messages = []
    source.status = messages.append
    fake_sh.inject("process", fault)
    assert source.scene(AOI, acquisition).valid.any()
    assert fake_sh.counts["process"] == 2
    assert messages == [said]


def test_rate_limit_waits_as_asked_and_says_so(listed, fake_sh):
    source, acquisition = listed
    fake_sh.inject("process", Fault.rate_limited(300))
    shown = []
    with source.reporting(shown.append):
        scene = source.scene(AOI, acquisition)
    assert scene.valid.any()
    assert fake_sh.counts["process"] == 2
    assert shown == ["The server asks us to slow down (HTTP 429): waiting 0.3 s, then trying again…"]


def test_rate_limit_while_listing_shows_in_progress(fake_sh, make_sh_source):
    fake_sh.inject("catalog", Fault.rate_limited(100))
    seen = []
    acquisitions = make_sh_source().acquisitions(AOI, START, END, progress=lambda f, text: seen.append(text))
    assert len(acquisitions) == 6
    assert seen == [
        "Searching the Sentinel Hub catalog…",
        "The server asks us to slow down (HTTP 429): waiting 0.1 s, then trying again…",
        "6 acquisitions from 9 tiles",
    ]


def test_catalog_400_says_what_the_server_said(fake_sh, make_sh_source, caplog):
    fake_sh.inject("catalog", Fault.error(400, "Invalid filter"))
    with pytest.raises(BadRequestError, match="Invalid filter") as caught:
        make_sh_source().acquisitions(AOI, START, END, max_cloud=20)
    assert_no_secret(caught.value, caplog)


def test_wrong_secret_is_rejected_at_the_token(fake_sh, make_sh_source, caplog):
    with pytest.raises(CredentialsRejectedError, match="rejected the credentials") as caught:
        make_sh_source(secret=SECRET + "-wrong").acquisitions(AOI, START, END)
    assert_no_secret(caught.value, caplog)
    assert SECRET + "-wrong" not in caplog.text and SECRET + "-wrong" not in str(caught.value)
    assert fake_sh.counts == {"token": 1}


def test_token_server_error_is_retried_then_reported(fake_sh, make_sh_source, caplog):
    fake_sh.inject("token", Fault.error(500), Fault.error(500))
    with pytest.raises(ServiceUnavailableError) as caught:
        make_sh_source().acquisitions(AOI, START, END)
    assert_no_secret(caught.value, caplog)
    assert fake_sh.counts["token"] == 2


def test_a_closed_port_is_unreachable(fake_sh, make_sh_source, caplog):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    nowhere = Service("sentinelhub", "Sentinel Hub", f"http://127.0.0.1:{port}", fake_sh.token_url)
    source = make_sh_source(service=nowhere)  # the token from the fake, data from nowhere
    with pytest.raises(ServerUnreachableError, match="Could not reach Sentinel Hub") as caught:
        source.acquisitions(AOI, START, END)
    assert_no_secret(caught.value, caplog)


def test_plain_http_token_url_needs_the_oauthlib_switch(fake_sh, make_sh_source, monkeypatch):
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT")
    with pytest.raises(ConfigurationError, match="OAUTHLIB_INSECURE_TRANSPORT=1"):
        make_sh_source().acquisitions(AOI, START, END)


def test_requests_oauthlib_debug_log_is_redacted(fake_sh, make_sh_source, caplog):
    make_sh_source().acquisitions(AOI, START, END)
    assert "client_secret=***" in caplog.text, "the token request body is logged, redacted"
    assert SECRET not in caplog.text


def test_the_redaction_is_installed_by_a_source_not_by_an_import():
    """Importing the package leaves the logging set-up alone; making a source adds the filter."""
    script = (
        "import logging\n"
        "from labeller.credentials import Credentials\n"
        "from labeller.sources.sentinelhub import SentinelHubSource, get_service\n"
        "from labeller.sources.sentinelhub.redaction import OAUTH_LOGGERS\n"
        "def filters():\n"
        "    return [type(f).__name__ for n in OAUTH_LOGGERS for f in logging.getLogger(n).filters]\n"
        "print(filters())\n"
        "SentinelHubSource(get_service('sentinelhub', {}), Credentials('id', 'secret'))\n"
        "SentinelHubSource(get_service('cdse', {}), Credentials('id', 'secret'))\n"
        "print(filters())\n"
    )
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.splitlines() == ["[]", "['RedactSecrets', 'RedactSecrets']"]


def test_redact_hides_secrets_and_tokens():
    text = (
        "grant_type=client_credentials&client_id=a&client_secret=xyz {'access_token': 'abc.def'} Bearer tok"
    )
    assert redact(text) == (
        "grant_type=client_credentials&client_id=a&client_secret=*** {'access_token': '***'} Bearer ***"
    )


def test_unknown_acquisition_day_gives_an_empty_scene_not_an_error(listed):
    source, acquisition = listed
    empty = Acquisition("S2_20150102", acquisition.time.replace(year=2015, month=1, day=2), None)
    assert not source.scene(AOI, empty).valid.any()


def test_a_pause_longer_than_max_wait_fails_at_once(listed, fake_sh):
    source, acquisition = listed
    source.max_wait = 5.0
    fake_sh.inject("process", Fault.rate_limited(3_600_000))
    with pytest.raises(RateLimitedError, match="pause 3600 s"):
        source.scene(AOI, acquisition)
    assert fake_sh.counts["process"] == 1


def test_after_a_401_trying_again_fetches_a_new_token(listed, fake_sh):
    source, acquisition = listed
    fake_sh.inject("process", Fault.error(401, "Token revoked"), Fault.error(401, "Token revoked"))
    with pytest.raises(CredentialsRejectedError):
        source.scene(AOI, acquisition)
    assert source.scene(AOI, acquisition).valid.any()
    assert fake_sh.counts["token"] == 2 and fake_sh.counts["process"] == 3


def test_half_credentials_are_refused_before_any_request(fake_sh, make_sh_source):
    from labeller.sources.sentinelhub import CredentialsMissingError

    with pytest.raises(CredentialsMissingError, match="both an OAuth client id and secret"):
        make_sh_source(secret="")
    assert not fake_sh.counts


def test_a_token_endpoint_that_never_answers_times_out(fake_sh, make_sh_source, caplog):
    fake_sh.inject("token", Fault.slow(3.0), Fault.slow(3.0))
    with pytest.raises(ServiceUnavailableError, match="did not answer within 0.5 s") as caught:
        make_sh_source(timeout=0.5).acquisitions(AOI, START, END)
    assert_no_secret(caught.value, caplog)
    assert fake_sh.counts["token"] == 2
