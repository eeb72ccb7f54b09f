"""gunicorn settings for toneflow (``gunicorn -c gunicorn.conf.py 'app:create_app()'``).

An answer is CPU-bound and short (well under a millisecond once the flows are compiled),
so plain sync workers, one per core plus one, keep every core busy without threads
fighting over the GIL. Platforms give answer_url about 5 s (Vonage, SignalWire); a worker
stuck for 10 s is killed and replaced long before the next retry piles up behind it.
"""

import multiprocessing
import os

from toneflow.logs import logging_config

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
worker_class = "sync"
timeout = 10
graceful_timeout = 10
keepalive = 5
# Build the app (and compile every flow) once in the master: a broken flow set stops
# start-up with its errors, and workers share the compiled flows' memory.
preload_app = True
# Request line and header limits: answer_url requests are small.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# gunicorn's own logs go through the same structlog pipeline as the app's.
logconfig_dict = logging_config(
    os.environ.get("TONEFLOW_LOG_FORMAT") or "json", os.environ.get("TONEFLOW_LOG_LEVEL", "info")
)
accesslog = "-"
# gunicorn's control socket (one fixed path per user) is not used: signals manage workers.
control_socket_disable = True
