"""redact_message: a receiver's error text becomes one short line with no value we sent."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.redact import SHORT_MESSAGE, redact_message

SENT = {"data": {"name_first": "Qorvathy", "name_last": "Keomanyx", "date_of_birth": "2010-10-13"}}


def test_an_echoed_request_body_is_dropped() -> None:
    body = {"errors": [{"message": "Invalid Record JSON: " + json.dumps(SENT)}]}
    text = redact_message(body, sent=SENT)
    assert "Qorvathy" not in text and "Keomanyx" not in text and "2010" not in text
    assert text.startswith("errors") or "Invalid Record JSON" in text


def test_a_value_quoted_in_a_sentence_is_removed_in_every_date_spelling() -> None:
    text = redact_message(
        "name Qorvathy Keomanyx born 13/10/2010 is taken; truncated Keoman…", sent=SENT
    )
    for value in ("Qorvathy", "Keomanyx", "13/10/2010", "Keoman"):
        assert value not in text


def test_html_error_pages_are_stripped_and_capped() -> None:
    page = "<html><body><h1>Error</h1><pre>" + "Qorvathy " * 200 + "</pre></body></html>"
    text = redact_message(page, sent=SENT)
    assert "Qorvathy" not in text and "<" not in text
    assert len(text) <= SHORT_MESSAGE


names = st.text(st.characters(categories=("L",)), min_size=4, max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    given_name=names,
    family_name=names,
    before=st.text(max_size=60),
    after=st.text(max_size=60),
    wrap=st.sampled_from(["plain", "json", "html", "list"]),
)
def test_no_sent_value_survives_whatever_the_body(
    given_name: str, family_name: str, before: str, after: str, wrap: str
) -> None:
    sent = {"client": {"given_name": given_name, "family_name": family_name}}
    quoted = f"{before} {given_name} {family_name} {after}"
    body = {
        "plain": quoted,
        "json": {"errors": [quoted, {"detail": sent}]},
        "html": f"<p>{quoted}</p>",
        "list": [quoted, quoted.upper()],
    }[wrap]
    text = redact_message(body, sent=sent)
    assert len(text) <= SHORT_MESSAGE
    for value in (given_name, family_name):
        assert value.casefold() not in text.casefold()
