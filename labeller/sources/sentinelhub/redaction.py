"""Secrets stay out of logs: requests-oauthlib logs the token request body (with the client
secret) at DEBUG. Installed by each source when it is made, not by importing this package."""

from __future__ import annotations

import logging
import re

_SECRET_RE = re.compile(
    r"""((?:client_secret|access_token|refresh_token)['"]?\s*[:=]\s*['"]?)[^&\s'",}]+|(Bearer\s+)\S+"""
)
OAUTH_LOGGERS = ("requests_oauthlib.oauth2_session", "requests_oauthlib.oauth2_auth")
"""The loggers that see client secrets and tokens."""


def redact(text: str) -> str:
    """``text`` with OAuth secrets and bearer tokens replaced by ``***``."""
    return _SECRET_RE.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)


class RedactSecrets(logging.Filter):
    """Rewrites a record whose message holds a secret or token into its redacted text."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install_redaction() -> None:
    """Keep secrets out of requests-oauthlib's DEBUG logs (idempotent)."""
    for name in OAUTH_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
