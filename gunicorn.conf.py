"""gunicorn settings for toneflow (``gunicorn -c gunicorn.conf.py 'app:create_app()'``).

Workers: threaded (gthread), one process per core plus one, ``WEB_THREADS`` (16) threads
each. An answer is CPU-bound and short (well under a millisecond once the flows are
compiled), so the threads are not for throughput: they are so that a client that sends
its body slowly holds one thread, not a whole worker. With sync workers three clients
dribbling a body (one per worker plus one) stalled every answer; with 16 threads a
worker keeps answering while up to 15 slow clients sit on it (gthread accepts greedily,
so in the worst case one worker holds them all: tests/test_hostile_serving.py measures
ten). For more, put a reverse proxy that buffers request bodies in front
(docs/hardening.md shows nginx's settings).

Timeout: platforms wait about 5 s for answer_url (Vonage 5 s, SignalWire 5 s). A worker
whose main loop is silent for 4 s is killed and replaced. Under gthread that is the loop
that accepts connections, not a request: a slow request no longer costs the worker, and
everything a request may wait on inside toneflow is shorter than the budget: the SQLite
lock wait (TONEFLOW_SQLITE_BUSY_TIMEOUT_MS, 2 s) and the PostgreSQL connect timeout (2 s),
so a stuck store costs an answer its call-log row, never the answer.

Bind: ``HOST`` (default 127.0.0.1, this machine only) and ``PORT`` (8000). The Procfile
sets ``HOST=0.0.0.0``, as a platform needs.

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

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
# Threads per worker: a slow client holds a thread, not the whole worker (see above).
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "16"))
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
    from toneflow.web.state import CALL_LOG

    reload_flows(arbiter.app.callable, force=True)
    # Recording the versions opened a connection in the master: none may cross the fork.
    arbiter.app.callable.extensions[CALL_LOG].engine.dispose()


def child_exit(server, worker):
    """A worker is gone: its live gauges go (its counters and histograms stay summed)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _OWN_METRICS_DIR:
        metrics_dir.remove(METRICS_DIR)
