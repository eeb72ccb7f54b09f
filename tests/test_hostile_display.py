"""Hostile text on display: control, bidi and invisible characters, and call ids a path
cannot carry, on the support pages (and the bounds of their date filters).

The store keeps exactly what was sent; what a person sees is :func:`toneflow.present.visible`.
"""

from __future__ import annotations

import codecs
import html
import json
import re
import unicodedata
from datetime import UTC, datetime
from urllib.parse import quote, unquote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_support import get_call, record_answer, served
from support import with_api_token
from test_web_support import sign_in

from toneflow.present import visible
from toneflow.store.access import add_user
from toneflow.web.support import path_carries

PASSWORD = "correct horse battery"
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
INVISIBLE = set("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u3164\ufe0f\u2028\u2029\u00a0")
#: Accepted call ids: 1-128 characters, no NUL (surrogates cannot be stored as UTF-8).
CALL_IDS = st.text(
    st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=128,
)
TRICKY_IDS = [
    "x/y", "..", ".", "a/../b", "a//b", "/lead", "trail/", "?q=1#f", "100%", "a\\b",
    "call_\u202eevil", "call_\u200b123", "\x1b[31mred", " ", "é/ü", "0\n", "a\nb/c",
]  # fmt: skip


def shown_hidden(text: str) -> set[str]:
    """The characters in ``text`` that a person would not see as themselves."""
    return {
        char
        for char in text
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp") or char in BIDI | INVISIBLE
    }


# --- the one function ---------------------------------------------------------------------


@given(st.text())
def test_visible_leaves_no_control_bidi_or_invisible_character(text):
    assert shown_hidden(visible(text)) == set()
    assert shown_hidden(visible(text, lines=True)) <= {"\n", "\t"}


@given(st.text())
def test_the_shown_form_reads_back_to_exactly_the_text(text):
    """Unambiguous: the escapes are Python's, the backslash escaped too."""
    shown = visible(text)
    assert codecs.decode(shown.encode("ascii", "backslashreplace"), "unicode_escape") == text


@given(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E, blacklist_characters="\\")))
def test_visible_is_the_identity_on_plain_printable_text(text):
    assert visible(text) == text


@given(st.text(st.characters(categories=("L", "N", "P", "S"), blacklist_characters="\\")))
def test_letters_of_any_script_are_shown_as_they_are(text):
    assert visible(text) == text


JSON_VALUES = st.recursive(
    st.none() | st.text(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)
)


@given(JSON_VALUES)
def test_json_shown_with_json_escapes_is_still_json_of_the_same_value(value):
    text = json.dumps(value, ensure_ascii=False, indent=2)
    shown = visible(text, lines=True, json_text=True)
    assert json.loads(shown) == value
    assert shown_hidden(shown) <= {"\n"}


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("call_\u202eevil", "call_\\u202eevil"),
        ("call_\u200b123", "call_\\u200b123"),
        ("\x1b[2J", "\\x1b[2J"),
        ("a\\u202eb", "a\\\\u202eb"),  # a typed backslash is not an escape
        ("tab\there\r\n", "tab\\there\\r\\n"),
        ("\x9b31m", "\\x9b31m"),  # C1 CSI
        ("flag\U000e0067", "flag\\U000e0067"),
    ],
)
def test_visible_examples(text, shown):
    assert visible(text) == shown


# --- the support pages ----------------------------------------------------------------------


@pytest.fixture
def staff(app):
    add_user(app.extensions["toneflow.call_log"].engine, "alice", PASSWORD)
    client = app.test_client()
    sign_in(client)
    return client


@pytest.fixture
def api(app):
    """Made once per test, not per hypothesis example: token names must be unique."""
    return with_api_token(app)


def store_of(client):
    return client.application.extensions["toneflow.call_log"].engine


def record(client, call_id: str, **overrides) -> None:
    at = datetime.now(UTC)
    record_answer(store_of(client), served("menu", call_id=call_id, at=at, **overrides))


ROW = re.compile(r'<td><a href="([^"]*)">(.*?)</a></td>', re.S)
H1 = re.compile(r"<h1>Call <code>(.*?)</code></h1>", re.S)


def text_of(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


@pytest.mark.parametrize(
    ("call_id", "escape"),
    [("call_\u202eevil", "\\u202e"), ("call_\u200b123", "\\u200b"), ("\x1b[31mred", "\\x1b")],
)
def test_the_pages_show_hidden_characters_as_marked_escapes(staff, call_id, escape):
    record(staff, call_id, from_number="+1555\u202e0001", flow="f\u200bx")
    listing = staff.get("/support/calls").get_data(as_text=True)
    page = staff.get(ROW.search(listing).group(1)).get_data(as_text=True)
    for shown in (listing, page):
        assert call_id not in shown and shown_hidden(shown) <= {"\n", "\t"}
        assert f'<span class="escape">{escape}</span>' in shown
        assert '<span class="escape">\\u202e</span>0001' in shown
    assert text_of(H1.search(page).group(1)) == visible(call_id)
    assert f"<title>Call {html.escape(visible(call_id))} · " in page


def test_bodies_on_the_call_page_show_hidden_characters_in_their_own_syntax(staff):
    request = {"call": {"id": "b1"}, "input": {"digits": None}, "variables": {"name": "Eve\u202e"}}
    record(staff, "b1", request=request, body="<Response><Speak>hi\u200b</Speak></Response>")
    page = staff.get("/support/calls/b1").get_data(as_text=True)
    assert 'Eve<span class="escape">\\u202e</span>&#34;' in page
    shown_request = re.search(r"<summary>Request</summary><pre>(.*?)</pre>", page, re.S).group(1)
    assert json.loads(text_of(shown_request)) == request  # still JSON, of the same request
    assert 'hi<span class="escape">\\u200b</span>' in page
    assert shown_hidden(page) <= {"\n", "\t"}


def test_escaping_does_not_open_the_page_to_markup(staff):
    record(staff, "<b>\u202e</b>")
    page = staff.get("/support/calls").get_data(as_text=True)
    assert "<b>" not in page and '&lt;b&gt;<span class="escape">\\u202e</span>&lt;/b&gt;' in page


@pytest.mark.parametrize("call_id", TRICKY_IDS)
def test_a_tricky_call_id_opens_from_its_link(staff, call_id):
    record(staff, call_id)
    opens_from_the_list(staff, call_id)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(call_id=CALL_IDS)
def test_every_accepted_call_id_opens_on_the_page_and_in_the_api(staff, api, call_id):
    if get_call(store_of(staff), call_id) is None:
        record(staff, call_id)
    opens_from_the_list(staff, call_id)
    assert api.get("/api/call", query_string={"id": call_id}).json["call_id"] == call_id
    if path_carries(call_id):
        assert api.get(f"/api/calls/{quote(call_id, safe='')}").json["call_id"] == call_id


def opens_from_the_list(client, call_id: str) -> None:
    """The newest row's link survives a browser's URL rules and opens that call's page."""
    query = {"q": call_id} if call_id.strip() else {}
    listing = client.get("/support/calls", query_string=query).get_data(as_text=True)
    href, label = ROW.search(listing).groups()
    href = html.unescape(href)
    assert text_of(label) == visible(call_id)
    path = urlsplit(href).path
    segments = path.split("/")[1:]
    assert all(s and unquote(s) not in (".", "..") and "%2e" not in s.lower() for s in segments)
    assert not re.search(r"[\s\\\x00-\x1f]", href)  # browsers strip or rewrite these
    page = client.get(href)
    assert page.status_code == 200, (call_id, href)
    assert text_of(H1.search(page.get_data(as_text=True)).group(1)) == visible(call_id)


def test_an_unknown_call_id_is_a_page_that_shows_it_visibly(staff):
    response = staff.get("/support/call", query_string={"id": "no\u202ene"})
    assert response.status_code == 404 and response.content_type.startswith("text/html")
    assert 'no<span class="escape">\\u202e</span>ne' in response.get_data(as_text=True)
    assert staff.get("/support/call").status_code == 404


# --- dates at the edge ----------------------------------------------------------------------


def test_the_last_day_there_is_as_until_is_a_page_naming_the_field(staff):
    response = staff.get("/support/calls?until=9999-12-31")
    assert response.status_code == 400
    assert response.content_type.startswith("text/html")
    assert "until: must be before 9999-12-31" in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["until=9999-12-30", "since=9999-12-31"])
def test_the_days_before_it_still_list(staff, query):
    response = staff.get(f"/support/calls?{query}")
    assert response.status_code == 200 and "No calls match." in response.get_data(as_text=True)


def test_anything_else_that_fails_on_a_support_page_is_a_page_not_json(staff, monkeypatch):
    import toneflow.web.support as support

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(support, "call_log", broken)
    response = staff.get("/support/calls/c1")
    assert response.status_code == 500 and response.content_type.startswith("text/html")
    assert "boom" not in response.get_data(as_text=True)
