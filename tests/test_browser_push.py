"""A push through real gunicorn to the VICIdial seed server, then read in a real browser:
the support page shows the request sent (password masked) and VICIdial's reply."""

from __future__ import annotations

import json
import os
import urllib.request

import pytest
from platform_servers import AGENT, PlatformServer
from playwright.sync_api import expect, sync_playwright
from support import free_port, server_env, start, stop, wait_until_up
from test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, sign_in

from toneflow.store import make_engine
from toneflow.store.access import add_user, create_token

pytestmark = pytest.mark.slow  # gunicorn and a browser
#: Set to a path to keep a picture of the page (for a person to look at).
SCREENSHOT = os.environ.get("TONEFLOW_PUSH_SCREENSHOT")


@pytest.fixture(scope="module")
def pushed(tmp_path_factory):
    """gunicorn configured for the VICIdial seed server, after one push through its API."""
    tmp_path = tmp_path_factory.mktemp("browser-push")
    with PlatformServer("vicidial") as vicidial:
        port = free_port()
        env = server_env(tmp_path, port, **{f"TONEFLOW_{k}": v for k, v in vicidial.config.items()})
        engine = make_engine(env["DATABASE_URL"])
        add_user(engine, "alice", PASSWORD)
        token = create_token(engine, "browser-push")
        engine.dispose()
        process = start(tmp_path, env, port)
        try:
            wait_until_up(process, port, tmp_path)
            base = f"http://127.0.0.1:{port}"
            request = urllib.request.Request(
                f"{base}/push/vicidial/conference_pin/join",
                data=json.dumps({"agent_user": AGENT}).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
            with urllib.request.urlopen(request, timeout=20) as reply:
                assert reply.status == 200
                assert json.load(reply)["ok"] is True
            assert vicidial.received[0].query["value"] == "QQQQ1234SQQQQQ6654P"
            yield base
        finally:
            stop(process)


def test_the_push_shows_on_the_call_page(pushed):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(base_url=pushed).new_page()
            sign_in(page)
            page.get_by_role("link", name=AGENT).click()
            entry = page.locator("ol.timeline > li.push")
            expect(entry).to_have_count(1)
            expect(entry.locator("p.summary")).to_contain_text(
                "vicidial (agent_user 1000): step conference_pin/join, taken, 1 request(s) in "
            )
            expect(entry.locator("code.request")).to_contain_text(
                "pass=****&agent_user=1000&function=send_dtmf&value=QQQQ1234SQQQQQ6654P"
            )
            expect(entry.locator("p.reply")).to_contain_text(
                "SUCCESS: send_dtmf function set - QQQQ1234SQQQQQ6654P|6666"
            )
            assert "pass=1234" not in page.content()
            if SCREENSHOT:
                page.screenshot(path=SCREENSHOT, full_page=True)
        finally:
            browser.close()
