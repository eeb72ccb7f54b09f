"""The call list downloads as CSV from the support page, as ``calls export`` writes it."""

from __future__ import annotations

from click.testing import CliRunner
from test_support_why import complete, menu_call
from test_web_support import sign_in, staff  # noqa: F401  (the signed-in client fixture)

from toneflow.cli import cli


def test_the_filtered_list_downloads_as_the_exports_csv(staff, command_engine):  # noqa: F811
    menu_call(staff, "=cmd|' /C calc'!A0", "5")  # a formula for a call id
    complete(staff, "=cmd|' /C calc'!A0")
    menu_call(staff, "t1", "1")
    sign_in(staff)
    page = staff.get("/support/calls?outcome=finished").get_data(as_text=True)
    assert 'href="/support/calls.csv?outcome=finished"' in page
    download = staff.get("/support/calls.csv?outcome=finished")
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in download.headers["Content-Disposition"]
    text = download.get_data(as_text=True)
    exported = CliRunner().invoke(
        cli, ["calls", "export", "--format", "csv", "--outcome", "finished"]
    )
    assert text.splitlines() == [line for line in exported.stdout.splitlines()]
    assert text.splitlines()[1].startswith("'=cmd")  # escaped as the export escapes it
    assert len(staff.get("/support/calls.csv").get_data(as_text=True).splitlines()) == 3


def test_a_bad_filter_is_named_not_a_500(staff):  # noqa: F811
    sign_in(staff)
    response = staff.get("/support/calls.csv?since=nope")
    assert response.status_code == 400
    assert "since" in response.get_data(as_text=True)


def test_the_download_needs_a_sign_in(staff):  # noqa: F811
    assert staff.get("/support/calls.csv").status_code == 302
