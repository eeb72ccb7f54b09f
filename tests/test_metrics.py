"""``/metrics``: Prometheus counts and latencies, right in one process and across workers."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from support import SEED_WEBHOOK, free_port, server_env, start, stop, wait_until_up

from toneflow import metrics_dir

NO_FALLBACK = {
    "nofallback.yaml": """
        steps:
          greet:
            - speak: "Hello {{ variables.name }}"
    """
}


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample of the exposition, by (name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    return response.get_data(as_text=True)


def test_answers_are_counted_and_timed_by_dialect(client):
    before = scrape(client)
    for _ in range(3):
        assert client.get("/answer/minivoice/menu").status_code == 200
    assert client.get("/answer/ozml/menu").status_code == 200
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("toneflow_answers_total", dialect="minivoice") == 3
    assert delta("toneflow_answers_total", dialect="ozml") == 1
    assert delta("toneflow_answer_duration_seconds_count", dialect="minivoice") == 3
    assert delta("toneflow_answer_duration_seconds_bucket", dialect="minivoice", le="+Inf") == 3
    assert delta("toneflow_answer_duration_seconds_sum", dialect="minivoice") > 0
    assert delta("toneflow_fallbacks_total", dialect="minivoice") == 0


def test_a_fallback_counts_as_a_fallback_and_a_render_error(client):
    before = scrape(client)
    response = client.get("/answer/minivoice/appointment?call_id=m1")  # no confirmation_code
    assert response.status_code == 200
    after = scrape(client)
    for name in ("toneflow_fallbacks_total", "toneflow_render_errors_total"):
        assert (
            value(after, name, dialect="minivoice") - value(before, name, dialect="minivoice") == 1
        )


def test_a_step_failing_without_fallback_is_a_render_error_not_an_answer(client_for):
    client = client_for(NO_FALLBACK)
    before = scrape(client)
    assert client.get("/answer/ozml/nofallback").status_code == 500
    after = scrape(client)
    errors = "toneflow_render_errors_total"
    assert value(after, errors, dialect="ozml") - value(before, errors, dialect="ozml") == 1
    answers = "toneflow_answers_total"
    assert value(after, answers, dialect="ozml") == value(before, answers, dialect="ozml")


def test_events_stored_and_duplicates_are_counted(client):
    before = scrape(client)
    headers = {"webhook-id": "msg_metrics_1"}
    for _ in range(3):
        assert (
            client.post("/events/minivoice", json=SEED_WEBHOOK, headers=headers).status_code == 200
        )
    after = scrape(client)
    assert (
        value(after, "toneflow_events_stored_total") - value(before, "toneflow_events_stored_total")
        == 1
    )
    duplicates = "toneflow_event_duplicates_total"
    assert value(after, duplicates) - value(before, duplicates) == 2


def test_an_operator_folder_is_kept_but_emptied_of_an_earlier_runs_values(tmp_path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_123.db").write_bytes(b"old")
    (folder / "notes.txt").write_text("kept")
    environ = {metrics_dir.VARIABLE: str(folder)}
    assert metrics_dir.prepare(environ) == (folder, False)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_without_a_folder_a_private_one_is_made_and_named(tmp_path):
    environ: dict[str, str] = {}
    folder, made = metrics_dir.prepare(environ)
    try:
        assert made and folder.is_dir() and not any(folder.iterdir())
        assert environ[metrics_dir.VARIABLE] == str(folder)
    finally:
        metrics_dir.remove(folder)
    assert not folder.exists()


# --- under gunicorn, several workers ----------------------------------------------


def get(port: int, path: str) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as reply:
        assert reply.status == 200
        return reply.read()


def post_event(port: int, webhook_id: str) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/events/minivoice",
        data=json.dumps(SEED_WEBHOOK).encode(),
        headers={"Content-Type": "application/json", "webhook-id": webhook_id},
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        assert reply.status == 200


def workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text()
    return [int(pid) for pid in children.split()]


@pytest.fixture
def three_workers(tmp_path):
    port = free_port()
    folder = tmp_path / "metrics"
    env = server_env(tmp_path, port, WEB_CONCURRENCY="3")
    env[metrics_dir.VARIABLE] = str(folder)
    process = start(tmp_path, env, port)
    try:
        wait_until_up(process, port, tmp_path)
        yield process, port, folder
    finally:
        stop(process)


@pytest.mark.slow
def test_every_scrape_reports_the_whole_server_across_workers(three_workers):
    _, port, folder = three_workers
    answers = 40
    for n in range(answers):
        get(port, f"/answer/minivoice/menu?call_id=w{n}")
    for n in range(5):
        post_event(port, f"msg_w{n % 3}")  # 3 new, 2 redeliveries
    # Each request is a new connection, which any of the three workers may accept: the
    # requests were spread over several workers, each writing its own metrics file.
    writers = {path.stem.rsplit("_", 1)[1] for path in folder.glob("counter_*.db")}
    assert len(writers) >= 2, writers
    for _ in range(6):  # whichever worker answers the scrape, it reports the sum
        text = get(port, "/metrics").decode()
        assert value(text, "toneflow_answers_total", dialect="minivoice") == answers
        assert value(text, "toneflow_answer_duration_seconds_count", dialect="minivoice") == answers
        assert value(text, "toneflow_events_stored_total") == 3
        assert value(text, "toneflow_event_duplicates_total") == 2


@pytest.mark.slow
def test_counts_survive_a_worker_being_killed_and_replaced(three_workers):
    process, port, _ = three_workers
    for n in range(12):
        get(port, f"/answer/ozml/menu?CallId=k{n}")
    victim = workers_of(process.pid)[0]
    os.kill(victim, signal.SIGKILL)  # gunicorn's child_exit hook marks it dead
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        current = workers_of(process.pid)
        if victim not in current and len(current) == 3:
            break
        time.sleep(0.1)
    else:
        pytest.fail("gunicorn did not replace the killed worker")
    get(port, "/answer/ozml/menu?CallId=after")
    text = get(port, "/metrics").decode()
    assert value(text, "toneflow_answers_total", dialect="ozml") == 13


@pytest.mark.slow
def test_gunicorn_removes_the_metrics_folder_it_made(tmp_path):
    port = free_port()
    env = server_env(tmp_path, port)
    env.pop(metrics_dir.VARIABLE, None)
    env["TMPDIR"] = str(tmp_path)  # where tempfile makes the private folder
    process = start(tmp_path, env, port)
    try:
        wait_until_up(process, port, tmp_path)
        get(port, "/answer/minivoice/menu")
        made = list(tmp_path.glob("toneflow-metrics-*"))
        assert len(made) == 1 and any(made[0].glob("*.db"))
    finally:
        assert stop(process) == 0
    assert not made[0].exists()
