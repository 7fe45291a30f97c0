"""schemathesis against /api/v1/openapi.json: every operation, every check schemathesis 4
has (server errors, status codes, content types, response schemas and headers, negative data
rejected, positive data accepted, use after free, resource availability, ...), with
schema-valid (positive) and schema-violating (negative) requests, on random ids (mostly 404s)
and on the practice's real records (so the bodies reach the records code).

The default leg generates about 1,500 requests on SQLite; the ``nightly`` leg (deselected by
default, ``pytest -m nightly tests/web/test_api_schema.py``) runs the same with ten times the
examples, on SQLite and PostgreSQL. Generation is derandomized: a run repeats exactly.
Every failure is collected, so one run names them all.

schemathesis's own pytest integration does not work with this pytest version, so the
operations are driven with hypothesis directly (the same strategies and checks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.core.failures import FailureGroup
from web_support import PLAN_DAY, Practice, api_token, make_practice, make_runtime

from web import create_app

DEFAULT_EXAMPLES = 12  # per operation, mode and kind of id: ~1,500 requests
NIGHTLY_EXAMPLES = 120

# What a schema-valid request may still be refused for: rules over several fields or over
# the records, which JSON Schema cannot state, as (field, message) patterns. Anything else a
# positive request is refused for is a failure.
BEYOND_THE_SCHEMA = [(re.compile(where), re.compile(what)) for where, what in (
    (r".", r"^no such record: \d+$|^no therapist with id \d+$"),     # a reference to nothing
    (r".", r"^ends \(.+\) before it starts \(.+\)$"),               # a range's order
    (r"^to$", r"^is before from \("),
    (r"^last_day$", r"^is before the first day \("),
    (r"^required_skills$", r"^choose a therapist, or the skills"),
    (r"^email$", r"^another user has this e-mail address$"),          # uniqueness
    (r"^last_day$", r"^the time off would last \d+ days; at most \d+"),
    (r"^at$", r"^must fall on the plan's day"),                       # re-plan moment
    (r"lat$", r"^give both (latitude and longitude|lat and lon), or neither$"),
    (r"^break_start$", r"^a break needs the window it may be taken in$"),
    (r"^break_end$", r"^the break window \(-?\d+ min\) is shorter than the break"),
    (r"^client_id$", r"^the client is inactive"),                     # the record's state
    (r"^state$", r"only a visit still planned can be marked arrived$"),  # the stop's state
    (r"^during_treatment_id$", r"^the treatment does not allow visits during it"),
    (r"^rule$", r"."),                                                # RFC 5545's grammar
    (r"^original_date$", r"has no occurrence on|a change of length needs|"
                         r"a move needs a new|already has a change"),  # the rule's dates
    (r"^last_date$", r"so it would never take place$"),
    (r"^new_", r"^a cancelled occurrence takes no new value|^a move needs a new|"
               r"^must be positive, got None$"),                      # by the action
    (r"^preferred_windows$", r"^windows overlap"),
    (r"^duration_minutes$", r"is longer than any window it could have"),
)]


def _beyond_the_schema(response: Any) -> bool:
    """A 422 whose every problem is one of BEYOND_THE_SCHEMA."""
    if response.status_code != 422:
        return False
    problems = [(name, message) for name, messages in response.json().get("fields", {}).items()
                for message in messages]
    return bool(problems) and all(
        any(where.search(name) and what.search(message) for where, what in BEYOND_THE_SCHEMA)
        for name, message in problems)


def _edit_conflict(response: Any) -> bool:
    """A 412 (If-Match) or 409 (a ``version`` in the body) saying the record is at another
    version than the request named: refused for the record's state, which no schema can state,
    with nothing saved. Preconditions are judged before the body is read (RFC 9110 13.2.1), so
    a request with a wrong If-Match and a bad body gets the 412, not a 422."""
    if response.status_code not in (409, 412):
        return False
    try:
        return bool(response.json().get("type") == "urn:rounds:problem:edit-conflict")
    except ValueError:
        return False


def positive_data_accepted_unless_beyond_the_schema(ctx: Any, response: Any,
                                                    case: Any) -> bool | None:
    """schemathesis's ``positive_data_acceptance``, except for a 422 that only names rules
    the schema cannot state (above), or an edit conflict."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except Exception:
        if _beyond_the_schema(response) or _edit_conflict(response):
            return None
        raise


def negative_data_rejected_or_conflict(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis's ``negative_data_rejection``, counting an edit conflict as the refusal
    it is (its default list of refusing statuses has no 409 or 412)."""
    if _edit_conflict(response):
        return None
    return negative_data_rejection(ctx, response, case)


@dataclass
class Tally:
    cases: int = 0
    failures: list[str] = field(default_factory=list)


@pytest.fixture
def api_setup(settings, sqlite_url):
    """The default leg, on SQLite."""
    yield from _api_setup(settings, sqlite_url)


@pytest.fixture
def api_setup_each_db(settings, db_url):
    """The nightly leg, on SQLite and PostgreSQL (which checks lengths and 32-bit ids)."""
    yield from _api_setup(settings, db_url)


def _api_setup(settings, url):
    """The app (not TESTING: an unexpected error must answer 500 as in production, for
    schemathesis to see), the test practice, an admin's token, and real ids by path."""
    planning = replace(settings.planning, time_limit_seconds=0.1)  # planning runs often
    runtime = make_runtime(replace(settings, planning=planning), url)
    app = create_app(runtime=runtime)
    practice = make_practice(runtime)
    headers = {"Authorization": f"Bearer {api_token(runtime, practice.admin_id)}"}
    real = _real_records(app, practice, headers)
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app), headers, real
    runtime.close()


def _real_records(app: Any, practice: Practice, headers: dict[str, str]
                  ) -> dict[str, dict[str, int]]:
    """Path parameters naming records that exist, by path template; the exceptions and time
    off are made through the API first."""
    client = app.test_client()
    series_change = client.post(f"/api/v1/series/{practice.theo_series[0]}/exceptions",
                                headers=headers, json={"original_date": PLAN_DAY.isoformat(),
                                                       "action": "cancel"})
    treatment_change = client.post(f"/api/v1/treatments/{practice.treatment_id}/exceptions",
                                   headers=headers,
                                   json={"original_date": PLAN_DAY.isoformat(),
                                         "action": "cancel"})
    time_off = client.post("/api/v1/time-off", headers=headers,
                           json={"therapist_id": practice.tess_id, "first_day": "2026-04-06",
                                 "last_day": "2026-04-10", "reason": "Vacation"})
    for answer in (series_change, treatment_change, time_off):
        assert answer.status_code == 201, answer.get_json()
    by_name = {"facility_id": practice.hospital_id, "therapist_id": practice.theo_id,
               "client_id": practice.theo_clients[0], "treatment_id": practice.treatment_id,
               "series_id": practice.theo_series[0], "plan_id": practice.plan_id,
               "stop_id": practice.stop_ids[0], "time_off_id": time_off.get_json()["id"]}
    return {
        "/exceptions/{exception_id}": {"exception_id": series_change.get_json()["id"]},
        "/treatment-exceptions/{exception_id}": {
            "exception_id": treatment_change.get_json()["id"]},
        **{"*": by_name},
    }


def _path_parameters(operation: Any, real: dict[str, dict[str, int]]) -> dict[str, int]:
    names = re.findall(r"{(\w+)}", operation.path)
    chosen = real.get(operation.path, real["*"])
    return {name: chosen[name] for name in names}


def _run(schema: Any, headers: dict[str, str], real: dict[str, dict[str, int]],
         examples: int) -> tuple[Tally, list[str]]:
    tally = Tally()
    operations = [result.ok() for result in schema.get_all_operations()]
    # Deletions last, so the real records stay for the other operations as long as possible.
    operations.sort(key=lambda operation: operation.method.upper() == "DELETE")
    for operation in operations:
        fixed = _path_parameters(operation, real)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for ids in ({}, fixed) if fixed else ({},):
                if ids and mode is GenerationMode.NEGATIVE and not operation.body:
                    continue  # only the ids could be wrong, and they are fixed
                _exercise(operation, mode, ids, headers, examples, tally)
    return tally, [operation.label for operation in operations]


def _exercise(operation: Any, mode: GenerationMode, ids: dict[str, int],
              headers: dict[str, str], examples: int, tally: Tally) -> None:
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=ids or None)

    @given(case=strategy)
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        tally.cases += 1
        try:
            case.call_and_validate(
                headers=_auth_unless_left_out(case, headers),
                excluded_checks=[positive_data_acceptance, negative_data_rejection],
                additional_checks=[positive_data_accepted_unless_beyond_the_schema,
                                   negative_data_rejected_or_conflict])
        except (Exception, FailureGroup) as failure:  # a check's Failure, or several
            where = f"{operation.label} [{mode.value}{', real ids' if ids else ''}]"
            tally.failures.append(f"{where}: {_summary(failure)}")

    check()


def _auth_unless_left_out(case: Any, headers: dict[str, str]) -> dict[str, str]:
    """The token, unless this negative case is about leaving it out: sent anyway, it would
    make the request valid, and its 200 would count as negative data accepted."""
    data = case.meta.phase.data if case.meta is not None else None
    left_out = {mutation.parameter for mutation in getattr(data, "mutations", ())}
    return {} if "Authorization" in left_out else headers


def _summary(failure: BaseException) -> str:
    """The checks that failed, the answer and the request, from schemathesis's report."""
    lines = [line.strip() for line in str(failure).splitlines()]
    kept = [line for line in lines if line.startswith(("- ", "`", "curl"))]
    return " | ".join(kept)[:1500] or repr(failure)[:1500]


def _assert_clean(tally: Tally, labels: list[str]) -> None:
    print(f"\nschemathesis: {len(labels)} operations, {tally.cases} requests, "
          f"{len(tally.failures)} failures")
    for failure in tally.failures:
        print(failure)
    assert not tally.failures, "\n\n".join(tally.failures[:15])
    assert len(labels) >= 30, labels
    assert {"GET /time-off", "POST /time-off", "DELETE /time-off/{time_off_id}",
            "POST /day-plans/{plan_id}/replan"} <= set(labels)


def test_api_conforms_to_its_document(api_setup):
    schema, headers, real = api_setup
    tally, labels = _run(schema, headers, real, DEFAULT_EXAMPLES)
    assert tally.cases >= 1500  # every operation was exercised in every mode
    _assert_clean(tally, labels)


@pytest.mark.nightly
def test_api_conforms_to_its_document_at_length(api_setup_each_db):
    schema, headers, real = api_setup_each_db
    tally, labels = _run(schema, headers, real, NIGHTLY_EXAMPLES)
    _assert_clean(tally, labels)
