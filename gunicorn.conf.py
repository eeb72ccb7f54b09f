"""gunicorn settings for toneflow (``gunicorn -c gunicorn.conf.py 'app:create_app()'``).

Workers: an answer is CPU-bound and short (well under a millisecond once the flows are
compiled), so plain sync workers, one per core plus one, keep every core busy without
threads fighting over the GIL; the one extra covers a worker waiting on a disk flush.
Sync workers expect a reverse proxy (or the platform itself) in front: they are not for
slow clients.

Timeout: platforms wait about 5 s for answer_url (Vonage 5 s, SignalWire 5 s). A worker
silent for 4 s can no longer answer in time, so it is killed and replaced, freeing its
slot for the platform's retry. Everything a request may wait on is shorter still: the
SQLite lock wait (TONEFLOW_SQLITE_BUSY_TIMEOUT_MS, 2 s) and the PostgreSQL connect timeout
(2 s), so a stuck store costs an answer its call-log row, never the answer.

Limits: answer_url requests are small; a header over 8 KiB or more than 100 headers is
refused by gunicorn with 431, a request line over 8 KiB with 400/414, before the app
sees them (tests/test_hostile.py).
"""

import multiprocessing
import os
import sys

from toneflow import metrics_dir
from toneflow.logs import logging_config

# Prometheus multiprocess mode: set up before the app (and prometheus-client) is loaded.
# Every worker writes its metrics under PROMETHEUS_MULTIPROC_DIR; /metrics sums them all.
METRICS_DIR, _OWN_METRICS_DIR = metrics_dir.prepare()

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
worker_class = "sync"
timeout = 4
graceful_timeout = 10
keepalive = 5
# Build the app (and compile every flow) once in the master: a broken flow set stops
# start-up with its errors, and workers share the compiled flows' memory.
preload_app = True
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# gunicorn's own logs go through the same structlog pipeline as the app's.
logconfig_dict = logging_config(
    os.environ.get("TONEFLOW_LOG_FORMAT") or "json", os.environ.get("TONEFLOW_LOG_LEVEL", "info")
)
accesslog = "-"
# gunicorn would take the scheme (X-Forwarded-Proto) and SCRIPT_NAME/PATH_INFO headers
# from any client on 127.0.0.1 (its default forwarded_allow_ips): toneflow trusts
# forwarded headers only through TONEFLOW_PROXY_HOPS (Werkzeug's ProxyFix), so never here.
secure_scheme_headers: dict[str, str] = {}
forwarder_headers = ""
# gunicorn's control socket (one fixed path per user) is not used: signals manage workers.
control_socket_disable = True


def _print_refusals(kind, value, traceback):
    """A refusal to start (a broken flow set, a store behind, a bad setting) is printed as
    what to fix and one line saying so, not as a traceback; gunicorn exits with 1.

    With ``preload_app`` the app is built in the master, outside any handler of gunicorn's,
    so what create_app raises reaches Python's top level: this hook decides how it reads.
    """
    from app import REFUSALS, refusal_text

    if isinstance(value, REFUSALS):
        print(refusal_text(value), file=sys.stderr, flush=True)
    else:
        sys.__excepthook__(kind, value, traceback)


sys.excepthook = _print_refusals


def on_reload(arbiter):
    """On HUP, load the flow files again in the master, before the new workers fork.

    With ``preload_app`` a HUP does not rebuild the app, so without this new workers would
    serve the flows the master read at start; a broken set is refused and logged, and the
    new workers keep serving the last good one (toneflow/web/reload.py).
    """
    if arbiter.app.callable is None:
        return  # the app is not preloaded: each new worker builds it, reading the files
    from toneflow.web.reload import reload_flows

    reload_flows(arbiter.app.callable, force=True)


def child_exit(server, worker):
    """A worker is gone: its live gauges go (its counters and histograms stay summed)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _OWN_METRICS_DIR:
        metrics_dir.remove(METRICS_DIR)
