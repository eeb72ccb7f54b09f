"""The baseline: a bare Flask app that returns toneflow's bytes, under the same gunicorn.

No toneflow import: this is what any Flask view costs, the physical limit the
benchmark compares toneflow with. ``BENCH_PAYLOADS`` names a JSON file of the exact
bodies toneflow serves; ``BENCH_DATABASE`` a SQLite file for the "+ one insert" views,
opened in WAL mode with immediate transactions, with the durability each record needs
(issue 11's baselines): an answer's insert with ``synchronous=NORMAL`` (it survives a
worker crash, as an answer record must), an event's with ``synchronous=FULL`` (it
survives power loss, as an acknowledged event must). With ``BENCH_PG_DSN`` (a libpq
connection string) both inserts go to PostgreSQL instead, one psycopg insert and commit
each, for comparing toneflow on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from datetime import UTC, datetime

from flask import Flask, Response, request

SCHEMA = "CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY, key TEXT, at TEXT, body TEXT)"


class Store:
    """One SQLite connection per worker thread, made after gunicorn forks."""

    def __init__(self, path: str, synchronous: str) -> None:
        self.path = path
        self.synchronous = synchronous
        self.local = threading.local()

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None)
            conn.execute("PRAGMA busy_timeout = 2000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
            self.local.conn = conn
        return conn

    def insert(self, key: str, body: str) -> None:
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT INTO hits (key, at, body) VALUES (?, ?, ?)",
                (key, datetime.now(UTC).isoformat(), body),
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


class PgStore:
    """One psycopg connection per worker thread: one insert and one commit per request."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.local = threading.local()

    def connection(self):
        import psycopg

        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = psycopg.connect(self.dsn)
            self.local.conn = conn
        return conn

    def insert(self, key: str, body: str) -> None:
        conn = self.connection()
        with conn.transaction():
            conn.execute(
                "INSERT INTO bench_hits (key, at, body) VALUES (%s, %s, %s)",
                (key, datetime.now(UTC), body),
            )


def make_stores() -> tuple[Store | PgStore, Store | PgStore]:
    """The answer and event stores: SQLite (NORMAL, FULL), or both PostgreSQL."""
    dsn = os.environ.get("BENCH_PG_DSN")
    if dsn:
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS bench_hits "
                "(id BIGSERIAL PRIMARY KEY, key TEXT, at TIMESTAMPTZ, body TEXT)"
            )
        store = PgStore(dsn)
        return store, store
    path = os.environ["BENCH_DATABASE"]
    with sqlite3.connect(path) as conn:
        conn.execute(SCHEMA)
    return Store(path, "NORMAL"), Store(path, "FULL")


def create_app() -> Flask:
    with open(os.environ["BENCH_PAYLOADS"], encoding="utf-8") as file:
        payloads = {name: body.encode("utf-8") for name, body in json.load(file).items()}
    answers, events = make_stores()
    app = Flask(__name__)
    json_type, xml_type = "application/json", "application/xml; charset=utf-8"

    @app.route("/minivoice", methods=["GET", "POST"])
    def minivoice() -> Response:
        return Response(payloads["static"], 200, content_type=json_type)

    @app.route("/ozml", methods=["GET", "POST"])
    def ozml() -> Response:
        return Response(payloads["ozml"], 200, content_type=xml_type)

    @app.route("/templated", methods=["GET", "POST"])
    def templated() -> Response:
        return Response(payloads["templated"], 200, content_type=json_type)

    @app.route("/minivoice+insert", methods=["GET", "POST"])
    def minivoice_insert() -> Response:
        body = payloads["static"]
        answers.insert(request.args.get("call_id", ""), body.decode("utf-8"))
        return Response(body, 200, content_type=json_type)

    @app.post("/event+insert")
    def event_insert() -> Response:
        event = request.get_json()
        events.insert(request.headers.get("webhook-id", ""), json.dumps(event))
        return Response(b'{"status":"stored"}\n', 200, content_type=json_type)

    return app
