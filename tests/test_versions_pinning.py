"""Issue 13, parts 1 and 2: versions in the store, and a call keeps its version.

A call's first answer pins the flow version that served it; every later step is served
by that version after an edit and reload, and on a server that never loaded it (two apps
on one store stand for two servers). A version is never served to a call that did not
start on it, and when the pin cannot be known (the store is down) the platform gets
``503 store_unavailable``, never another version.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from store_support import use_store
from structlog.testing import capture_logs
from support import PROJECT_FLOWS, with_api_token

from toneflow.flows.compile import flow_version
from toneflow.store import migrate

RENAMED = "    - redirect: finished\n  finished:\n"


def copy_flows(folder: Path) -> Path:
    folder.mkdir()
    for path in PROJECT_FLOWS.glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    return folder


def rename_done(folder: Path) -> str:
    """The issue's edit: the appointment flow's ``done`` step renamed ``finished``."""
    path = folder / "appointment.yaml"
    text = path.read_text().replace("    - redirect: done\n  done:\n", RENAMED)
    assert RENAMED in text
    path.write_text(text)
    return flow_version(text.encode())


@pytest.fixture
def servers(app_config, tmp_path):
    """Build apps (servers) on one store, each with its own copy of the flow folder."""
    from app import create_app

    built = []
    migrate.upgrade(app_config["DATABASE_URL"])

    def build(name: str, edit=None, **config):
        folder = copy_flows(tmp_path / name)
        if edit is not None:
            edit(folder)
        application = create_app(
            {**app_config, "FLOWS_DIR": str(folder), "SERVER_ID": name, **config}
        )
        built.append(application)
        return application, with_api_token(application), folder

    yield build
    for application in built:
        application.extensions["toneflow.call_log"].engine.dispose()


def stored_versions(application) -> dict[tuple[str, str], dict]:
    with application.extensions["toneflow.call_log"].engine.connect() as conn:
        rows = conn.execute(sa.text("select * from flow_versions")).mappings().all()
    return {(row["flow"], row["version"]): dict(row) for row in rows}


def answer_versions(application, call_id: str) -> list[str]:
    with application.extensions["toneflow.call_log"].engine.connect() as conn:
        return list(
            conn.execute(
                sa.text("select flow_version from answers where call_id = :c order by id"),
                {"c": call_id},
            ).scalars()
        )


def start(client, call_id: str):
    return client.get(f"/answer/minivoice/appointment?call_id={call_id}&confirmation_code=12")


def test_start_up_records_every_version_with_its_exact_source(servers):
    application, _client, folder = servers("alpha")
    stored = stored_versions(application)
    for path in folder.glob("*.yaml"):
        data = path.read_bytes()
        row = stored[(path.stem, flow_version(data))]
        assert row["source"] == data.decode()
        assert row["first_loaded_by"] == "alpha"


def test_the_first_server_to_load_a_version_is_the_one_named(servers):
    first, _, _ = servers("alpha")
    second, _, _ = servers("beta")
    assert {row["first_loaded_by"] for row in stored_versions(second).values()} == {"alpha"}
    assert stored_versions(first) == stored_versions(second)


def test_a_reload_records_the_new_version(servers):
    application, client, folder = servers("alpha", RELOAD=True)
    new = rename_done(folder)
    assert start(client, "r1").status_code == 200  # the reload happens before this request
    assert stored_versions(application)[("appointment", new)]["first_loaded_by"] == "alpha"


def test_the_issue_case_the_call_keeps_its_version_and_a_new_call_gets_the_new_one(servers):
    application, client, folder = servers("alpha", RELOAD=True)
    old = application.extensions["toneflow.flows"].get("appointment").version
    first = start(client, "keep1")
    assert first.json["actions"][-1]["redirect"]["url"].endswith("/appointment/done")
    new = rename_done(folder)

    done = client.get("/answer/minivoice/appointment/done?call_id=keep1")
    assert done.status_code == 200
    assert done.json["actions"][0]["speak"]["text"].startswith("Your appointment is confirmed")
    assert answer_versions(application, "keep1") == [old, old]

    fresh = start(client, "new1")
    assert fresh.json["actions"][-1]["redirect"]["url"].endswith("/appointment/finished")
    assert client.get("/answer/minivoice/appointment/finished?call_id=new1").status_code == 200
    assert answer_versions(application, "new1") == [new, new]


def test_a_version_is_never_served_to_a_call_that_did_not_start_on_it(servers):
    _application, client, folder = servers("alpha", RELOAD=True)
    start(client, "old1")
    rename_done(folder)
    start(client, "new2")
    # The old version has `done`; the call started on the new one, which does not.
    missing = client.get("/answer/minivoice/appointment/done?call_id=new2")
    assert missing.status_code == 404
    assert missing.json["error"]["code"] == "not_found"
    # Nor a call nobody has seen, nor a request with no call id.
    assert client.get("/answer/minivoice/appointment/done?call_id=other").status_code == 404
    assert client.get("/answer/minivoice/appointment/done").status_code == 404


def test_another_server_that_never_loaded_the_version_serves_it_from_the_store(servers):
    alpha, alpha_client, _ = servers("alpha")
    old = alpha.extensions["toneflow.flows"].get("appointment").version
    start(alpha_client, "moved1")
    # beta starts with the edited file: it never loaded the old version.
    beta, beta_client, beta_folder = servers("beta", edit=rename_done)
    new = flow_version((beta_folder / "appointment.yaml").read_bytes())
    assert new != old
    assert beta.extensions["toneflow.flows"].get("appointment").version == new
    done = beta_client.get("/answer/minivoice/appointment/done?call_id=moved1")
    assert done.status_code == 200
    assert answer_versions(beta, "moved1") == [old, old]
    # A step that exists in both: still the call's own version, compiled once and cached.
    again = beta_client.get("/answer/minivoice/appointment?call_id=moved1&confirmation_code=12")
    assert again.json["actions"][-1]["redirect"]["url"].endswith("/appointment/done")
    assert answer_versions(beta, "moved1") == [old, old, old]
    cache = beta.extensions["toneflow.flow_versions"]
    assert ("appointment", old) in cache._sets


def test_a_failed_answer_pins_too_and_retries_on_the_pinned_version(servers):
    alpha, alpha_client, _ = servers("alpha")
    old = alpha.extensions["toneflow.flows"].get("appointment").version
    start(alpha_client, "pin500")

    def no_fallback(folder):
        path = folder / "appointment.yaml"
        path.write_text(path.read_text().replace("fallback: sorry\n", ""))

    beta, beta_client, _ = servers("beta", edit=no_fallback)
    # Without variables the new version (no fallback) would fail; the old one falls back.
    response = beta_client.get("/answer/minivoice/appointment/connect?call_id=pin500")
    assert response.status_code == 200
    assert response.json["actions"][0]["speak"]["text"].startswith("We could not confirm")
    assert answer_versions(beta, "pin500") == [old, old]


def test_store_down_a_remembered_pin_is_served_an_unknown_one_is_refused(servers):
    application, client, folder = servers("alpha", RELOAD=True)
    start(client, "known1")
    rename_done(folder)
    start(client, "known2")  # reloads; the new version for this call
    use_store(application, sa.create_engine("sqlite:////nonexistent/dir/x.db")).dispose()
    with capture_logs() as logs:
        # This process saw known1's first answer: it knows its version, and serves it.
        assert client.get("/answer/minivoice/appointment/done?call_id=known1").status_code == 200
        # A call it never saw: which version it started on cannot be known.
        refused = client.get("/answer/minivoice/appointment/finished?call_id=unseen")
        # A call's start is served by what this server serves (it is a new call's first step).
        started = start(client, "brand_new")
    assert refused.status_code == 503
    assert refused.headers["Retry-After"].isdigit()
    assert refused.json["error"]["code"] == "store_unavailable"
    assert "not serving another version" in refused.json["error"]["message"]
    assert started.status_code == 200
    assert any(e["event"] == "store_write_failed" for e in logs)


def test_store_down_a_step_the_served_version_lacks_is_a_503_not_a_404(servers):
    application, client, folder = servers("alpha", RELOAD=True)
    rename_done(folder)
    start(client, "x1")
    use_store(application, sa.create_engine("sqlite:////nonexistent/dir/x.db")).dispose()
    response = client.get("/answer/minivoice/appointment/done?call_id=unseen2")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "store_unavailable"


def test_a_pinned_version_missing_from_the_store_is_a_503(servers):
    alpha, alpha_client, _ = servers("alpha")
    start(alpha_client, "gone1")
    with alpha.extensions["toneflow.call_log"].engine.begin() as conn:
        conn.execute(sa.text("delete from flow_versions"))
    _beta, beta_client, _ = servers("beta", edit=rename_done)
    response = beta_client.get("/answer/minivoice/appointment/done?call_id=gone1")
    assert response.status_code == 503
    assert "holds no version" in response.json["error"]["message"]


def test_store_down_at_start_up_is_logged_and_the_next_reload_records(servers):
    application, _client, folder = servers("alpha")
    with application.extensions["toneflow.call_log"].engine.begin() as conn:
        conn.execute(sa.text("delete from flow_versions"))
    good = application.extensions["toneflow.call_log"].engine
    use_store(application, sa.create_engine("sqlite:////nonexistent/dir/x.db"))
    from toneflow.web.reload import reload_flows

    with capture_logs() as logs:
        reload_flows(application, force=True)
    assert any(e["event"] == "flow_versions_not_recorded" for e in logs)
    use_store(application, good)
    reload_flows(application, force=True)
    assert len(stored_versions(application)) == len(list(folder.glob("*.yaml")))


def graph_nodes(application, call_id: str) -> tuple[set[str], str]:
    """The steps drawn on a call's page graph, and the version it was drawn on."""
    import re

    from schemas.calls import CALL_RECORD
    from toneflow.web.graphs import call_graph

    with application.test_request_context():
        record = CALL_RECORD.dump(application.extensions["toneflow.call_log"].get(call_id))
        graph = call_graph(record)
    titles = re.findall(r'<g[^>]*class="node[^"]*"[^>]*>\s*<title>([^<]+)</title>', graph["svg"])
    return set(titles), graph["version"]


def test_the_call_page_draws_the_version_that_served_the_call(servers):
    """After the rename and a reload, a call that met ``done`` is drawn with ``done``."""
    application, client, folder = servers("alpha", RELOAD=True)
    old = application.extensions["toneflow.flows"].get("appointment").version
    start(client, "drawn1")
    new = rename_done(folder)
    start(client, "drawn2")  # served by the new version; the reload happened before it
    nodes, version = graph_nodes(application, "drawn1")
    assert version == old and "done" in nodes and "finished" not in nodes
    nodes, version = graph_nodes(application, "drawn2")
    assert version == new and "finished" in nodes and "done" not in nodes


def test_on_a_server_that_never_loaded_it_the_version_comes_from_the_store(servers):
    alpha, client, _ = servers("alpha")
    start(client, "drawn3")
    beta, _, _ = servers("beta", edit=rename_done)
    nodes, version = graph_nodes(beta, "drawn3")
    assert version == alpha.extensions["toneflow.flows"].get("appointment").version
    assert "done" in nodes and "finished" not in nodes
