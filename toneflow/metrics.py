"""Prometheus metrics for operators: answer latency and counts, fallbacks, render errors,
events stored and duplicates.

Under gunicorn the values live in files shared by every worker (multiprocess mode, set
up by gunicorn.conf.py through :mod:`toneflow.metrics_dir`), so ``/metrics`` reports the
whole server whichever worker answers the scrape. In a single process (tests, ``toneflow
run``) they live in memory. Label values are bounded: the dialect only, never a flow or
call id, so the number of series stays small however many flows are served.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

#: Answers take well under a millisecond to a few; the platform gives up at about 5 s.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)

ANSWER_SECONDS = Histogram(
    "toneflow_answer_duration_seconds",
    "Time to build an answer (reading the request to the body ready), by dialect.",
    ["dialect"],
    buckets=LATENCY_BUCKETS,
)
ANSWERS = Counter("toneflow_answers", "Answers served (200), by dialect.", ["dialect"])
FALLBACKS = Counter(
    "toneflow_fallbacks", "Answers that served the flow's fallback step, by dialect.", ["dialect"]
)
RENDER_ERRORS = Counter(
    "toneflow_render_errors",
    "Steps that could not be rendered for a request (served as fallback or a 500), by dialect.",
    ["dialect"],
)
EVENTS_STORED = Counter("toneflow_events_stored", "Webhook events stored.")
EVENT_DUPLICATES = Counter(
    "toneflow_event_duplicates", "Redelivered webhook events acknowledged and not stored again."
)


#: Dialect -> its (latency, count) series: ``labels()`` checks and locks on every call,
#: which on the answer path cost as much as recording the values.
_ANSWER_SERIES: dict[str, tuple[Any, Any]] = {}


def answer_served(dialect: str, seconds: float, *, fell_back: bool) -> None:
    series = _ANSWER_SERIES.get(dialect)
    if series is None:
        series = (ANSWER_SECONDS.labels(dialect), ANSWERS.labels(dialect))
        _ANSWER_SERIES[dialect] = series
    series[0].observe(seconds)
    series[1].inc()
    if fell_back:
        FALLBACKS.labels(dialect).inc()
        RENDER_ERRORS.labels(dialect).inc()


def answer_failed(dialect: str) -> None:
    """A step failed and no fallback could be served."""
    RENDER_ERRORS.labels(dialect).inc()


def event_received(*, stored: bool) -> None:
    (EVENTS_STORED if stored else EVENT_DUPLICATES).inc()


def multiprocess_mode() -> bool:
    """Whether values go to shared files: decided once, when prometheus-client was imported."""
    return values.ValueClass is not values.MutexValue


def exposition() -> tuple[bytes, str]:
    """The Prometheus text format of every metric, summed over all workers if several."""
    if multiprocess_mode():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST
