"""Text from the page address and the label box, checked at the edge: campaign ids, draft
tokens and label values, each refused with a message saying what to do."""

from __future__ import annotations

import pytest

from labeller.campaign import MAX_CAMPAIGN_ID, parse_campaign_id, parse_label_value
from labeller.errors import InvalidInputError
from labeller.identity import new_session_token, session_token


@pytest.mark.parametrize(
    "text",
    ["²", "٣", "99999999999999999999", str(MAX_CAMPAIGN_ID + 1), "0", "-1", "1.5", "1e3", "", " ", None],
)
def test_campaign_ids_that_are_not_one_are_refused(text) -> None:
    with pytest.raises(InvalidInputError, match="not a campaign number. Set up a campaign below"):
        parse_campaign_id(text)


def test_campaign_ids() -> None:
    assert parse_campaign_id("1") == 1
    assert parse_campaign_id(" 42 ") == 42
    assert parse_campaign_id(str(MAX_CAMPAIGN_ID)) == MAX_CAMPAIGN_ID
    with pytest.raises(InvalidInputError) as refused:
        parse_campaign_id("9" * 200)
    assert len(str(refused.value)) < 200  # a long address is cut short in the message


def test_draft_tokens() -> None:
    token = new_session_token()
    assert session_token(token) == token and len(token) == 12
    assert new_session_token() != token
    for bad in ("short", "../../etc/passwd", "a" * 33, "with space1", "", None, 12345678):
        assert session_token(bad) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("1e-400", "too close to 0 to be stored"),
        ("-2.5e-999", "too close to 0 to be stored"),
        ("1e309", "finite"),
        ("nan", "finite"),
        ("abc", "not a number"),
        ("", "Enter a label value"),
    ],
)
def test_label_values_that_cannot_be_stored_are_refused(text: str, words: str) -> None:
    with pytest.raises(InvalidInputError, match=words):
        parse_label_value(text)


def test_label_values() -> None:
    assert parse_label_value("0") == 0.0 and parse_label_value("0e-400") == 0.0  # zero is zero
    assert parse_label_value("5e-324") == 5e-324  # the smallest that is stored
    assert parse_label_value(" -3.5 ") == -3.5
