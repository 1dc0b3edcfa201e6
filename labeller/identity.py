"""Names that identify things across databases: a campaign's identity key and short key,
and a labeller's name as stored. Pure functions; no SQL."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import unicodedata
from typing import Any

from labeller.campaign import CampaignSpec
from labeller.errors import InvalidInputError

MAX_LABELLER = 80
"""Longest labeller name, in characters."""


def identity_key(spec: CampaignSpec) -> str:
    """A unique text form of ``spec.identity()``: JSON with every number as its float repr."""

    def part(value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return repr(float(value) + 0.0)  # + 0.0 folds -0.0 into 0.0
        return value

    return json.dumps([part(v) for v in spec.identity()], ensure_ascii=False)


def campaign_key(key: str) -> str:
    """A short stable id of a campaign's identity, the same in every database."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def clean_labeller(name: str | None) -> str | None:
    """A labeller name with spaces tidied, or None for no name; refuses unusable names."""
    if name is None:
        return None
    if not isinstance(name, str):
        raise InvalidInputError(f"The labeller name must be text, got {type(name).__name__}.")
    text = " ".join(name.split())
    if not text:
        return None
    if len(text) > MAX_LABELLER:
        raise InvalidInputError(f"The labeller name is longer than {MAX_LABELLER} characters; shorten it.")
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise InvalidInputError("The labeller name contains control characters; type a plain name.")
    return text


_SESSION_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,32}")


def new_session_token() -> str:
    """A fresh random draft token for one labelling session (URL-safe, 12 characters)."""
    return secrets.token_urlsafe(9)


def session_token(text: str | None) -> str | None:
    """``text`` if it is a usable draft token (8-32 of ``A-Z a-z 0-9 _ -``), else None."""
    if isinstance(text, str) and _SESSION_TOKEN.fullmatch(text):
        return text
    return None
