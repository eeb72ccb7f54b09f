"""schemathesis against /openapi.json, in-process: every documented operation, fed
generated valid and invalid requests, never answers 5xx and always answers as documented
(status, content type, headers and body schema).

``TONEFLOW_SCHEMATHESIS_EXAMPLES`` sets the examples per operation (CI: the default).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from support import PROJECT_FLOWS

from toneflow.web.openapi import build_spec

EXAMPLES = int(os.environ.get("TONEFLOW_SCHEMATHESIS_EXAMPLES", "30"))

# The spec as the app serves it (a test below proves the two are the same). schemathesis'
# pytest fixture loader does not work with pytest 9, so the schema is built here and the
# app under test, a fixture, is handed to each call.
schema = schemathesis.openapi.from_dict(build_spec().to_dict())


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory):
    from app import create_app
    from toneflow.store import migrate
    from toneflow.store.access import create_token

    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'toneflow.db'}"
    migrate.upgrade(url)
    application = create_app(
        {
            "DATABASE_URL": url,
            "FLOWS_DIR": str(PROJECT_FLOWS),
            "PUBLIC_URL": "https://toneflow.test",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "warning",
            "SECRET_KEY": "fuzz",
        }
    )
    store = application.extensions["toneflow.store"]
    application.config["FUZZ_TOKEN"] = create_token(store, "fuzz")
    yield application
    store.dispose()


def test_the_fuzzed_spec_is_the_one_the_app_serves(fuzzed_app):
    assert fuzzed_app.test_client().get("/openapi.json").json == build_spec().to_dict()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, fuzzed_app):
    case.operation.schema.app = fuzzed_app  # in-process: schemathesis' WSGI transport
    token = fuzzed_app.config["FUZZ_TOKEN"]
    excluded = []
    if "cursor" in (case.query or {}):
        # A cursor is opaque (an encoded position): a string this service did not make is
        # refused (400, as documented), however well it fits the schema.
        excluded.append(schemathesis.checks.positive_data_acceptance)
    case.call_and_validate(
        app=fuzzed_app, headers={"Authorization": f"Bearer {token}"}, excluded_checks=excluded
    )
