"""The support pages through Flask's client: sign-in, CSRF, sessions, filters, escaping."""

from __future__ import annotations

import re
import time

import pytest

from toneflow.store.access import add_user

PASSWORD = "correct horse battery"
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def staff(app):
    add_user(app.extensions["toneflow.call_log"].engine, "alice", PASSWORD)
    return app.test_client()


def csrf_token(client, path: str = "/support/sign-in", **kwargs) -> str:
    page = client.get(path, **kwargs).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def sign_in(client, password: str = PASSWORD, next_path: str | None = None, **kwargs):
    token = csrf_token(client, **kwargs)
    query = {"next": next_path} if next_path else {}
    data = {"name": "alice", "password": password, "csrf_token": token}
    # Over HTTPS, Flask-WTF also wants a same-origin Referer, as a browser sends.
    referer = kwargs.get("base_url", "https://localhost") + "/support/sign-in"
    return client.post(
        "/support/sign-in", query_string=query, data=data, headers={"Referer": referer}, **kwargs
    )


def place(client, call_id: str, flow: str = "appointment", **params) -> None:
    query = {"call_id": call_id, "confirmation_code": "1234", **params}
    assert client.get(f"/answer/minivoice/{flow}", query_string=query).status_code == 200


@pytest.mark.parametrize("path", ["/support/calls", "/support/calls/x", "/support/"])
def test_every_page_needs_a_signed_in_user(staff, path):
    response = staff.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/support/sign-in?next=")


def test_sign_in_sets_a_safe_session_cookie_and_goes_where_asked(staff):
    response = sign_in(staff, next_path="/support/calls?outcome=finished")
    assert response.status_code == 302
    assert response.headers["Location"] == "/support/calls?outcome=finished"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "; Secure" in cookie  # the public URL is https
    assert staff.get("/support/calls").status_code == 200


@pytest.mark.parametrize(("scheme", "secure"), [("http", False), ("https", True)])
def test_without_a_public_url_the_cookie_is_secure_when_the_request_is(client_for, scheme, secure):
    client = client_for({"f.yaml": "steps:\n  s:\n    - hangup: {}\n"}, PUBLIC_URL=None)
    add_user(client.application.extensions["toneflow.call_log"].engine, "alice", PASSWORD)
    response = sign_in(client, base_url=f"{scheme}://localhost")
    assert ("; Secure" in response.headers["Set-Cookie"]) is secure


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "/answer/x"]
)
def test_sign_in_never_redirects_off_the_support_pages(staff, target):
    assert sign_in(staff, next_path=target).headers["Location"] == "/support/calls"


def test_a_wrong_password_or_unknown_user_gets_the_same_refusal(staff):
    response = sign_in(staff, password="wrong password")
    assert response.status_code == 401
    assert "do not match" in response.get_data(as_text=True)
    assert staff.get("/support/calls").status_code == 302


def test_forms_without_a_csrf_token_are_refused(staff):
    data = {"name": "alice", "password": PASSWORD}
    refused = staff.post("/support/sign-in", data=data)
    assert refused.status_code == 400
    assert "That form has expired" in refused.get_data(as_text=True)
    sign_in(staff)
    assert staff.post("/support/sign-out").status_code == 400
    assert staff.get("/support/calls").status_code == 200  # still signed in


def test_sign_out_ends_the_session(staff):
    sign_in(staff)
    token = csrf_token(staff, "/support/calls")
    assert staff.post("/support/sign-out", data={"csrf_token": token}).status_code == 302
    assert staff.get("/support/calls").status_code == 302


def test_an_idle_session_ends(staff, app, monkeypatch):
    sign_in(staff)
    idle = app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    later = time.time() + idle + 1
    monkeypatch.setattr("toneflow.web.auth.time.time", lambda: later)
    assert staff.get("/support/calls").status_code == 302


def test_platforms_post_answers_and_events_without_csrf_or_session(app):
    client = app.test_client()
    answered = client.post("/answer/minivoice/appointment", json={"call": {"id": "p1"}})
    assert answered.status_code == 200, answered.get_data(as_text=True)
    assert "Set-Cookie" not in answered.headers
    event = {"event": "call.completed", "created_at": "2026-05-29T12:10:00Z", "call": {"id": "p1"}}
    response = client.post("/events/minivoice", json=event)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_the_list_shows_outcomes_filters_and_escapes(staff):
    place(staff, "good1")
    place(staff, "evil1", **{"from": HOSTILE})
    sign_in(staff)
    page = staff.get("/support/calls")
    html = page.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and HOSTILE not in html
    assert "in progress at connect" in html
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script" not in csp
    assert page.headers["Cache-Control"] == "no-store"
    filtered = staff.get("/support/calls?q=good1&outcome=&flow=").get_data(as_text=True)
    assert "good1" in filtered and "evil1" not in filtered


def test_a_bad_filter_is_explained_on_the_page(staff):
    sign_in(staff)
    response = staff.get("/support/calls?outcome=lost")
    assert response.status_code == 400
    assert "outcome: Must be one of" in response.get_data(as_text=True)


def test_until_a_date_includes_that_whole_day(staff):
    place(staff, "today1")
    sign_in(staff)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    html = staff.get(f"/support/calls?since={today}&until={today}").get_data(as_text=True)
    assert "today1" in html


def test_the_call_page_says_the_outcome_first_and_flags_fallbacks(client_for, app_config):
    flows = {
        "pin.yaml": """
            fallback: sorry
            steps:
              start:
                - send_digits: "{{ variables.code }}#"
              sorry:
                - speak: Sorry.
                - hangup: {}
        """
    }
    client = client_for(flows)
    add_user(client.application.extensions["toneflow.call_log"].engine, "alice", PASSWORD)
    assert client.get("/answer/ozml/pin?CallId=fb1").status_code == 200
    sign_in(client)
    html = client.get("/support/calls/fb1").get_data(as_text=True)
    verdict = re.search(r'<p class="verdict ([^"]+)" id="outcome">([^<]+)</p>', html)
    assert verdict.group(1) == "fell_back trouble"
    assert verdict.group(2).startswith("Fell back at step start: ")
    assert html.index('id="outcome"') < html.index("Timeline")
    assert "Fallback: step start could not be served" in html
    assert "&lt;Response&gt;\n  &lt;Speak&gt;Sorry.&lt;/Speak&gt;" in html  # pretty XML
    assert client.get("/support/calls/nope").status_code == 404


def test_the_stylesheet_is_served_from_the_app(staff):
    with staff.get("/support/static/support.css") as response:  # a file response: close it
        assert response.status_code == 200 and "text/css" in response.headers["Content-Type"]
        assert "@import" not in response.get_data(as_text=True)
