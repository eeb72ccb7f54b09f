"""The support pages in a real browser: Debian's Chromium, driven by Playwright.

A real gunicorn serves the shipped flows on SQLite and (with TEST_DATABASE_URL) on
PostgreSQL; calls are placed over HTTP as a platform would. A person signs in, filters
the list, opens a call and reads its outcome; a caller id that is a script shows as text
and never runs.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from support import (
    POSTGRES_URL,
    PROJECT_FLOWS,
    free_port,
    reset_postgres,
    server_env,
    start,
    stop,
    wait_until_up,
)

from toneflow.flows.compile import flow_version
from toneflow.store import make_engine, migrate
from toneflow.store.access import add_user, create_token

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery"
HOSTILE = "<script>alert(1)</script>"
REVERSED = "call_\u202eevil"
DOTTED = "x/../y"

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError(".ci/run installs Debian's chromium; /usr/bin/chromium is missing")
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.slow  # gunicorn and a browser


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(
    scope="module",
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(not POSTGRES_URL, reason="TEST_DATABASE_URL is not set"),
        ),
    ],
)
def server(request, tmp_path_factory):
    """gunicorn on a fresh store holding a support user and three calls; its base URL."""
    tmp_path = tmp_path_factory.mktemp(f"browser-{request.param}")
    port = free_port()
    env = server_env(tmp_path, port)
    if request.param == "postgresql":
        reset_postgres(POSTGRES_URL)
        env["DATABASE_URL"] = POSTGRES_URL
    migrate.upgrade(env["DATABASE_URL"])
    engine = make_engine(env["DATABASE_URL"])
    add_user(engine, "alice", PASSWORD)
    token = create_token(engine, "browser-test")
    engine.dispose()
    process = start(tmp_path, env, port)
    try:
        wait_until_up(process, port, tmp_path)
        base = f"http://127.0.0.1:{port}"
        place_calls(base)
        server_tokens[base] = token
        server_backends[base] = request.param
        yield base
    finally:
        stop(process)


#: Each server's API token and backend, by its base URL.
server_tokens: dict[str, str] = {}
server_backends: dict[str, str] = {}


def fetch(url: str, body: dict | None = None, form: dict | None = None) -> None:
    if form is not None:
        data, kind = urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
    else:
        data, kind = (json.dumps(body).encode() if body is not None else None), "application/json"
    request = urllib.request.Request(url, data=data, headers={"Content-Type": kind})
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.status == 200


def api(base: str, path: str) -> dict:
    headers = {"Authorization": f"Bearer {server_tokens[base]}"}
    request = urllib.request.Request(base + path, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


def completed(base: str, call_id: str) -> None:
    event = {
        "event": "call.completed",
        "created_at": "2026-05-29T12:10:00Z",
        "call": {"id": call_id},
    }
    fetch(f"{base}/events/minivoice", event)


def place_calls(base: str) -> None:
    """done1 finishes; menu1 hangs up in the menu; xss1 comes from a script."""
    query = urllib.parse.urlencode({"call_id": "done1", "confirmation_code": "1234"})
    fetch(f"{base}/answer/minivoice/appointment?{query}")
    fetch(f"{base}/answer/minivoice/appointment/done?call_id=done1")
    completed(base, "done1")
    fetch(f"{base}/answer/minivoice/menu?call_id=menu1")
    completed(base, "menu1")
    query = urllib.parse.urlencode({"call_id": "xss1", "from": HOSTILE})
    fetch(f"{base}/answer/ozml/menu?{query}")
    for call_id in (REVERSED, DOTTED):  # shown as an escape; a path the browser would eat
        fetch(f"{base}/answer/minivoice/menu?{urllib.parse.urlencode({'call_id': call_id})}")
    # fell1: no confirmation code, so connect cannot render and the fallback is served.
    fetch(f"{base}/answer/minivoice/appointment?call_id=fell1")
    completed(base, "fell1")
    # press5: greet, menu, then 5, which no case matches: default, goodbye. atmenu1 hangs
    # up while the menu waits for keys.
    for call_id in ("press5", "atmenu1"):
        fetch(f"{base}/answer/minivoice/menu?call_id={call_id}")
        fetch(f"{base}/answer/minivoice/menu/menu?call_id={call_id}")
    fetch(f"{base}/answer/ozml/menu/route", form={"CallId": "press5", "DtmfDigits": "5"})
    completed(base, "press5")
    completed(base, "atmenu1")


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    yield page
    context.close()


def sign_in(page: Page) -> None:
    page.goto("/support/calls")
    assert "/support/sign-in" in page.url
    page.get_by_label("Name").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Calls")).to_be_visible()


def test_sign_in_filter_open_a_call_and_read_its_outcome(page):
    sign_in(page)
    rows = page.locator("table.calls tbody tr")
    expect(rows).to_have_count(8)
    page.get_by_label("Outcome").select_option("abandoned")
    page.get_by_label("Flow").select_option("menu")
    page.get_by_label("Last step").fill("greet")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("abandoned at greet")
    page.get_by_role("link", name="menu1").click()
    expect(page.locator("#outcome")).to_have_text(
        "Abandoned at step greet: the call ended while that step still led on."
    )
    page.get_by_role("link", name="All calls").click()
    page.get_by_label("Search").fill("done1")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="done1").click()
    expect(page.locator("#outcome")).to_have_text("Finished at step done.")
    expect(page.locator("ol.timeline > li")).to_have_count(3)  # two answers, one event


def test_a_script_as_the_caller_id_shows_as_text_and_never_runs(page):
    sign_in(page)
    expect(page.locator("table.calls")).to_contain_text(HOSTILE)
    page.get_by_role("link", name="xss1").click()
    expect(page.locator("dl.record")).to_contain_text(HOSTILE)
    assert page.locator("script").count() == 0
    page.wait_for_timeout(200)  # give a script every chance to run
    assert page.dialogs == []


def test_sign_out_and_the_pages_are_closed_again(page):
    sign_in(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/support/calls/done1")
    assert "/support/sign-in" in page.url


def test_a_bidi_control_in_a_call_id_shows_as_an_escape_not_reversed_text(page):
    sign_in(page)
    link = page.get_by_role("link", name="call_\\u202eevil")
    expect(link).to_have_count(1)
    assert link.inner_text() == "call_\\u202eevil"  # what a person reads, in order
    link.click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Call call_\\u202eevil")
    assert "\u202e" not in page.content()
    escape = heading.locator("span.escape")
    expect(escape).to_have_text("\\u202e")
    assert escape.evaluate("e => getComputedStyle(e).borderStyle") == "solid"  # marked


def test_a_call_id_with_dot_segments_opens_from_its_link(page):
    sign_in(page)
    page.get_by_role("link", name=DOTTED).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Call {DOTTED}")
    assert "/support/call?id=" in page.url


@pytest.fixture
def shots(server, tmp_path_factory) -> Path:
    """Where screenshots go: ``TONEFLOW_SCREENSHOTS`` when set (docs/ for the docs' own
    pictures), else a folder of this test run."""
    folder = Path(os.environ.get("TONEFLOW_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shot(page: Page, shots: Path, name: str) -> None:
    """A full-page screenshot a person can look at; one per backend."""
    backend = server_backends[page.context.pages[0].url.split("/support")[0]]
    path = shots / (f"{name}.png" if backend == "sqlite" else f"{name}-{backend}.png")
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0


def lit_steps(page: Page) -> list[str]:
    return page.locator("#graph svg g.node.lit > title").all_text_contents()


def test_a_call_that_fell_back_shows_why_and_its_path_on_the_graph(page, shots):
    sign_in(page)
    page.get_by_label("Outcome").select_option("fell_back")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="fell1").click()  # two clicks from the list
    expect(page.locator("#outcome")).to_contain_text("Fell back at step connect")
    expect(page.locator("li.answer .flag")).to_contain_text("step connect could not be served")
    assert sorted(lit_steps(page)) == ["connect", "sorry"]
    expect(page.locator("#graph g.edge.fallback > title")).to_have_text("connect->sorry")
    stroke = page.locator("#graph g.edge.fallback path").first.get_attribute("stroke")
    assert stroke == "#a4161a"  # red
    expect(page.locator("#graph g.node.end > title")).to_have_text("sorry")
    assert page.locator("script").count() == 0
    shot(page, shots, "support-call-fell-back")


def test_a_call_that_pressed_a_key_shows_the_key_the_decision_and_the_lit_path(page, shots):
    sign_in(page)
    page.get_by_label("Search").fill("press5")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="press5").click()
    expect(page.locator("#outcome")).to_have_text("Finished at step goodbye.")
    expect(page.locator("p.keys kbd")).to_have_text("5")
    expect(page.locator("p.decision")).to_have_text(
        "Switch route: value '5' matched no case, went to default → goodbye"
    )
    assert lit_steps(page) == ["greet", "menu", "route", "goodbye"]  # drawn in file order
    expect(page.locator("#graph g.node.end > title")).to_have_text("goodbye")
    # The completion (created_at in whole seconds, long before) comes after the answers.
    kinds = page.locator("ol.timeline > li").evaluate_all("els => els.map(e => e.className)")
    assert [k.split()[0] for k in kinds] == ["answer", "answer", "answer", "event"]
    shot(page, shots, "support-call")


def test_a_call_that_ended_at_the_menu_says_so(page):
    sign_in(page)
    page.get_by_label("Search").fill("atmenu1")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="atmenu1").click()
    expect(page.locator("#outcome")).to_contain_text("Abandoned at step menu")
    assert lit_steps(page) == ["greet", "menu"]
    expect(page.locator("#graph g.node.end > title")).to_have_text("menu")


def test_the_flow_page_counts_equal_the_apis_funnel(page, server, shots):
    sign_in(page)
    page.goto("/support/flows/menu")
    funnel = api(server, "/api/flows/menu/funnel")
    expect(page.locator("#funnel-calls")).to_have_text(str(funnel["calls"]))
    for step in funnel["steps"]:
        row = page.locator(f'tr[data-step="{step["step"]}"]')
        expect(row.locator("td.reached")).to_have_text(str(step["reached"]))
        expect(row.locator("td.ended")).to_have_text(str(step["ended"]))
    greet = next(s for s in funnel["steps"] if s["step"] == "greet")
    assert greet["reached"] == 6  # menu1, xss1, the two odd ids, press5, atmenu1
    labels = page.locator("#graph svg g.node > title").all_text_contents()
    assert set(labels) == {s["step"] for s in funnel["steps"]}
    assert lit_steps(page) == []  # unlit
    assert page.locator("script").count() == 0
    shot(page, shots, "support-flow")


def test_a_version_links_from_the_call_to_its_source(page):
    """Issue 13: each answer's flow version opens the exact source that served it."""
    sign_in(page)
    page.get_by_role("link", name="done1").click()
    version = (PROJECT_FLOWS / "appointment.yaml").read_bytes()
    links = page.locator("a.version")
    expect(links).to_have_count(2)
    expect(links.first).to_have_text(flow_version(version))
    links.first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Flow appointment, version {flow_version(version)}"
    )
    source = page.locator("pre.source")
    expect(source).to_contain_text("Your appointment is confirmed. Goodbye.")
    expect(source).to_contain_text('digits: "{{ variables.confirmation_code }}#"')
    assert page.locator("script").count() == 0
