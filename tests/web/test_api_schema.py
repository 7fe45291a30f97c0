"""schemathesis against /api/v1/openapi.json: for generated requests to every operation, the
API answers without a server error, with a documented status code and content type, and with
a body that matches the documented schema."""

from __future__ import annotations

from dataclasses import replace

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from web_support import api_token, make_practice, make_runtime

from web import create_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def api_setup(settings_fast):
    runtime, _ = settings_fast
    app = create_app(runtime=runtime, test_config={"TESTING": True})
    practice = make_practice(runtime)
    headers = {"Authorization": f"Bearer {api_token(runtime, practice.admin_id)}"}
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app), headers


@pytest.fixture
def settings_fast(settings, sqlite_url):
    """A short optimizer time limit: the planning endpoints are called many times."""
    planning = replace(settings.planning, time_limit_seconds=0.1)
    runtime = make_runtime(replace(settings, planning=planning), sqlite_url)
    yield runtime, planning
    runtime.close()


def _operations(schema):
    for result in schema.get_all_operations():
        yield result.ok()


def test_api_conforms_to_its_document(api_setup):
    """Each operation in turn, with hypothesis generating its requests.

    schemathesis's own pytest integration does not work with this pytest version, so the
    operations are driven with hypothesis directly (the same strategies and checks).
    """
    schema, headers = api_setup
    tested = []
    for operation in _operations(schema):

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()
        tested.append(operation.label)
    assert len(tested) >= 30, tested
    assert {"GET /time-off", "POST /time-off", "DELETE /time-off/{time_off_id}"} <= set(tested)
