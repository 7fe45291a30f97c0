"""The OpenAPI 3 document of the API, served at /api/v1/openapi.json.

The paths are written out here, kept honest by tests: every API route must appear in it and
every path in it must be a route, and schemathesis checks the real answers against it. What
a record may be given comes from :mod:`scheduler.records.fields`, the parsers themselves, with
the fields a new record requires; only what a record answers beyond that (its id, derived
values) is written here.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from flask import Response, jsonify, request

from scheduler import records
from scheduler.records import fields
from scheduler.records import time_off as time_off_records
from scheduler.records.validation import FieldProblem, ValidationError
from web.api import json_input
from web.api.base import MAX_PER_PAGE, api_blueprint

bp = api_blueprint("api_openapi", public=True)

DATETIME = {"type": "string", "format": "date-time"}
HHMM, DATE, ID = fields.HHMM, fields.DATE, fields.ID


def _text(max_length: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, "pattern": r"^[^\x00]*$"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def _enum(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


INFECTION_CLASS = {
    **_nullable(_enum("protect", "isolation")),
    "description": "infection-control class from the precaution flags: protect (seen first), "
                   "isolation (seen last), or null (in between)",
}

VERSION = {"type": "integer", "minimum": 1, "maximum": fields.MAX_ID,
           "description": "the record's version: 1 when created, one more with each saved "
                          "change; also its ETag. Send it back (or If-Match) with a change "
                          "so that a change made meanwhile by someone else is not undone."}

# What each kind of record answers beyond what it may be given (those fields, with their
# schemas, come from scheduler.records.fields, which parses them), and write-only extras.
READ_ONLY: dict[str, dict[str, Any]] = {
    "facility": {"id": ID, "version": VERSION,
                 "coordinate_source": _nullable(_enum("manual", "geocoded", "demo"))},
    "therapist": {"id": ID, "version": VERSION},
    "client": {"id": ID, "version": VERSION, "initials": {"type": "string"},
               "infection_class": INFECTION_CLASS},
    "treatment": {"id": ID, "version": VERSION, "client_id": ID},
    "series": {"id": ID, "version": VERSION},
    "exception": {"id": ID, "version": VERSION, "series_id": ID},
    "treatment_exception": {"id": ID, "version": VERSION, "treatment_id": ID},
}
WRITE_ONLY: dict[str, dict[str, Any]] = {
    "therapist": {"password": {"type": "string", "minLength": records.PASSWORD_MIN,
                               "maxLength": records.PASSWORD_MAX, "pattern": r"^[^\x00]*$",
                               "writeOnly": True}},
}

NAMES = {"facility": "Facility", "therapist": "Therapist", "client": "Client",
         "treatment": "Treatment", "series": "Series", "exception": "SeriesException",
         "treatment_exception": "TreatmentException"}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Error": {"type": "object", "required": ["error", "message"],
                  "properties": {"error": {"type": "string"}, "message": {"type": "string"}}},
        "ValidationError": {
            "type": "object", "required": ["error", "message", "fields"],
            "properties": {"error": {"type": "string", "enum": ["validation"]},
                           "message": {"type": "string"},
                           "fields": {"type": "object", "additionalProperties": {
                               "type": "array", "items": {"type": "string"}}}}},
    }
    for kind, name in NAMES.items():
        given = fields.input_schemas(kind)
        answered = {**READ_ONLY[kind], **given}
        writable = {**given, **WRITE_ONLY.get(kind, {})}
        schemas[name] = {"type": "object", "required": list(answered),
                         "additionalProperties": False, "properties": answered}
        schemas[f"{name}Input"] = {"type": "object", "additionalProperties": False,
                                   "required": list(records.REQUIRED[kind]),
                                   "properties": writable}
        schemas[f"{name}Patch"] = {"type": "object", "additionalProperties": False,
                                   "properties": {**writable, "version": {
                                       **VERSION, "description": "the version this change "
                                       "was made from: another answers 409"}}}
        schemas[f"{name}Conflict"] = _conflict(name)
        schemas[f"{name}Page"] = _page(name)
    schemas.update(_plan_schemas())
    schemas.update(_time_off_schemas())
    return schemas


def _conflict(name: str) -> dict[str, Any]:
    """The problem details (RFC 9457) of a change made from an older version."""
    return {"type": "object", "required": ["type", "title", "status", "detail",
                                           "current_version", "current"],
            "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                           "status": {"type": "integer", "enum": [409, 412]},
                           "detail": {"type": "string"}, "error": {"type": "string"},
                           "message": {"type": "string"}, "current_version": VERSION,
                           "current": _ref(name)}}


def _page(item: str) -> dict[str, Any]:
    return {"type": "object", "required": ["items", "page", "per_page", "total"],
            "properties": {"items": {"type": "array", "items": _ref(item)},
                           "page": {"type": "integer", "minimum": 1},
                           "per_page": {"type": "integer", "minimum": 1},
                           "total": {"type": "integer", "minimum": 0}}}


STOP_STATE = _enum("planned", "arrived", "done", "skipped")


def _plan_schemas() -> dict[str, Any]:
    instant = _nullable(DATETIME)
    stop = {
        "id": ID, "position": {"type": "integer"}, "series_id": ID, "occurrence_date": DATE,
        "client_id": ID, "facility_id": ID, "arrive_at": DATETIME, "start_at": DATETIME,
        "end_at": DATETIME, "drive_minutes": {"type": "number"}, "drive_km": {"type": "number"},
        "overhead_minutes": {"type": "integer"}, "state": STOP_STATE,
        "state_at": _nullable({**DATETIME, "description": "when it was marked arrived, done "
                                                          "or skipped"}),
        "arrived_at": _nullable({**DATETIME, "description": "when the therapist arrived "
                                                            "(kept once done or skipped)"}),
        "pinned": {"type": "boolean"}, "window_note": {"type": "string"},
        "infection_class": INFECTION_CLASS,
        "do_not_visit": _nullable({"type": "string", "description":
                                   "why the records as they are now forbid this stop"}),
    }
    unplaced = {"series_id": _nullable({"type": "integer"}),
                "date": _nullable({"type": "string"}),
                "client_id": _nullable({"type": "integer"}), "reason": {"type": "string"}}
    plan = {
        "id": ID, "therapist_id": ID, "day": DATE, "version": {"type": "integer"},
        "status": _enum("draft", "published", "superseded"), "created_at": DATETIME,
        "published_at": instant, "replanned_at": instant, "leave_home_at": instant,
        "back_home_at": instant, "break_start_at": instant, "break_end_at": instant,
        "total_drive_minutes": {"type": "number"}, "total_drive_km": {"type": "number"},
        "unplaced": {"type": "array", "items": _ref("Unplaced")},
        "stale": {"type": "boolean", "description": "a change to the records this plan does "
                                                    "not follow yet; it is being re-planned"},
        "stale_causes": {"type": "array", "items": {"type": "string"}},
        "problems": {"type": "array", "items": {
            "type": "object", "required": ["stop_id", "reason"], "additionalProperties": False,
            "properties": {"stop_id": ID, "reason": {"type": "string"}}}},
        "replaces_version": _nullable({"type": "integer"}),
        "changes": {"type": "array", "description": "what this version changed from the one "
                                                    "it replaced",
                    "items": {"type": "object", "required": ["kind", "words"],
                              "additionalProperties": False,
                              "properties": {"kind": _enum("moved", "added", "dropped", "order"),
                                             "words": {"type": "string"}}}},
        "solver": {"type": "object", "description": "the optimizer's figures"},
        "stops": {"type": "array", "items": _ref("PlanStop")},
    }
    return {
        "PlanStop": {"type": "object", "required": list(stop), "properties": stop,
                     "additionalProperties": False},
        "Unplaced": {"type": "object", "required": list(unplaced), "properties": unplaced,
                     "additionalProperties": False},
        "DayPlan": {"type": "object", "required": list(plan), "properties": plan,
                    "additionalProperties": False},
        "DayPlanPage": _page("DayPlan"),
        "DayPlanList": {"type": "object", "required": ["items"],
                        "properties": {"items": {"type": "array", "items": _ref("DayPlan")}}},
        "PlanRequest": {
            "type": "object", "required": ["date"], "additionalProperties": False,
            "properties": {"date": DATE, "therapist_ids": {"type": "array", "items": ID},
                           "publish": {"type": "boolean", "description":
                                       "true: publish the new plans; false: keep them drafts; "
                                       "absent: a day whose plan was published is published "
                                       "again, a new day is a draft"}}},
        "ReplanRequest": {
            "type": "object", "additionalProperties": False,
            "properties": {"at": {**DATETIME, "description": "from when (default now); must "
                                                             "fall on the plan's day in the "
                                                             "practice's time zone"},
                           "lat": {"type": "number", "minimum": -90, "maximum": 90},
                           "lon": {"type": "number", "minimum": -180, "maximum": 180}}},
        "StopStateRequest": {
            "type": "object", "required": ["state"], "additionalProperties": False,
            "properties": {"state": {**STOP_STATE, "description": "arrived only from "
                                                                  "planned; planned undoes"}}},
    }


def _time_off_schemas() -> dict[str, Any]:
    """Time off is read and written by :mod:`scheduler.time_off`, not :mod:`scheduler.records`,
    so its fields and required ones come from there."""
    owner = _nullable({**ID, "description": "the therapist who is off; null: the practice "
                                            "is closed"})
    answered = {"id": ID, "therapist_id": owner, "first_day": DATE, "last_day": DATE,
                "reason": {**_text(time_off_records.REASON_MAX),
                           "description": "a short word for the team, e.g. Vacation"}}
    writable = {name: schema for name, schema in answered.items() if name != "id"}
    return {
        "TimeOff": {"type": "object", "required": list(answered), "additionalProperties": False,
                    "properties": answered},
        "TimeOffInput": {"type": "object", "additionalProperties": False,
                         "required": list(time_off_records.REQUIRED), "properties": writable},
        "TimeOffPage": _page("TimeOff"),
    }


# ---------------------------------------------------------------------------------------------
# Operations


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


ERRORS = {
    "401": {"description": "No valid API token", **_json(_ref("Error"))},
    "403": {"description": "Only an admin may do this", **_json(_ref("Error"))},
    "404": {"description": "No such record, or not yours", **_json(_ref("Error"))},
}
INVALID = {"422": {"description": "Bad input, by field", **_json(_ref("ValidationError"))}}
TOO_LARGE = {"413": {"description": "The body is over 1 MiB", **_json(_ref("Error"))}}
IN_USE = {"409": {"description": "Other records refer to it", **_json(_ref("Error"))}}
PAGING = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                "maximum": 1_000_000}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                    "maximum": MAX_PER_PAGE}},
]


ETAG = {"ETag": {"description": 'the record\'s version, as a strong ETag: "3"',
                 "schema": {"type": "string"}}}
IF_MATCH = {"name": "If-Match", "in": "header", "required": False,
            "schema": {"type": "string"},
            "description": 'the ETag of the version this change was made from ("3"); when '
                           "the record is at another version the change answers 412"}


def _tagged(operation: dict[str, Any], ok: str) -> dict[str, Any]:
    """``operation`` whose ``ok`` answer carries the record's ETag."""
    operation["responses"][ok]["headers"] = ETAG
    return operation


def _conflicts(name: str) -> dict[str, Any]:
    problem = {"content": {"application/problem+json": {"schema": _ref(f"{name}Conflict")}}}
    return {"409": {"description": "Someone else saved the record since the body's version; "
                                   "the answer holds the record as it is now", **problem},
            "412": {"description": "If-Match names another version than the record's; the "
                                   "answer holds the record as it is now", **problem}}


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": ID}


def _op(summary: str, ok: str, schema: dict[str, Any] | None, *, body: str | None = None,
        params: list[dict[str, Any]] | None = None, extra: dict[str, Any] | None = None,
        tag: str) -> dict[str, Any]:
    responses: dict[str, Any] = {ok: {"description": "OK", **(_json(schema) if schema else {})}}
    responses.update(ERRORS)
    if body or params:
        responses.update(INVALID)
    responses.update(extra or {})
    operation: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if params:
        operation["parameters"] = params
    if body:
        operation["requestBody"] = {"required": True, **_json(_ref(body))}
        responses.update(TOO_LARGE)
    return operation


def _collection(plural: str, name: str, tag: str, *, create: bool = True,
                prefix_params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    path: dict[str, Any] = {"get": _op(f"List {plural}", "200", _ref(f"{name}Page"),
                                       params=(prefix_params or []) + PAGING, tag=tag)}
    if create:
        path["post"] = _tagged(_op(f"Create a {name}", "201", _ref(name), body=f"{name}Input",
                                   params=prefix_params, tag=tag), "201")
    return path


def _item(name: str, param: str, tag: str, *, delete: bool = True) -> dict[str, Any]:
    params = [_path_id(param)]
    path = {
        "get": _tagged(_op(f"Read a {name}", "200", _ref(name), params=params, tag=tag), "200"),
        "patch": _tagged(_op(f"Change a {name} (only the fields given; If-Match or the "
                             "body's version: only if nobody saved it since)", "200",
                             _ref(name), body=f"{name}Patch", params=[*params, IF_MATCH],
                             extra=_conflicts(name), tag=tag), "200"),
    }
    if delete:
        path["delete"] = _op(f"Delete a {name}", "204", None, params=params, extra=IN_USE,
                             tag=tag)
    return path


def _paths() -> dict[str, Any]:
    plan_params = [{"name": "date", "in": "query", "schema": DATE},
                   {"name": "therapist_id", "in": "query", "schema": ID}]
    time_off_params = [
        {"name": "therapist_id", "in": "query", "schema": ID,
         "description": "only the days this therapist does not work: theirs and the closures"},
        {"name": "from", "in": "query", "schema": DATE},
        {"name": "to", "in": "query", "schema": DATE}]
    return {
        "/facilities": _collection("facilities", "Facility", "records"),
        "/facilities/{facility_id}": _item("Facility", "facility_id", "records"),
        "/therapists": _collection("therapists", "Therapist", "records"),
        "/therapists/{therapist_id}": _item("Therapist", "therapist_id", "records",
                                            delete=False),
        "/clients": _collection("clients", "Client", "patients"),
        "/clients/{client_id}": _item("Client", "client_id", "patients"),
        "/clients/{client_id}/treatments": _collection(
            "a client's treatments", "Treatment", "patients",
            prefix_params=[_path_id("client_id")]),
        "/treatments/{treatment_id}": _item("Treatment", "treatment_id", "patients"),
        "/treatments/{treatment_id}/exceptions": _collection(
            "a treatment's changed occurrences", "TreatmentException", "patients",
            prefix_params=[_path_id("treatment_id")]),
        "/treatment-exceptions/{exception_id}": _item("TreatmentException", "exception_id",
                                                      "patients"),
        "/series": _collection("visit series", "Series", "patients"),
        "/series/{series_id}": _item("Series", "series_id", "patients"),
        "/series/{series_id}/exceptions": _collection(
            "a series' exceptions", "SeriesException", "patients",
            prefix_params=[_path_id("series_id")]),
        "/exceptions/{exception_id}": _item("SeriesException", "exception_id", "patients"),
        "/day-plans": {
            "get": _op("List day plans (every version, newest first within a day)", "200",
                       _ref("DayPlanPage"), params=plan_params + PAGING, tag="plans"),
            "post": _op("Plan a day: a new version for each therapist working that day",
                        "201", _ref("DayPlanList"), body="PlanRequest", tag="plans"),
        },
        "/day-plans/{plan_id}": {
            "get": _op("Read a day plan", "200", _ref("DayPlan"),
                       params=[_path_id("plan_id")], tag="plans")},
        "/day-plans/{plan_id}/publish": {
            "post": _op("Publish a day plan", "200", _ref("DayPlan"),
                        params=[_path_id("plan_id")], tag="plans")},
        "/day-plans/{plan_id}/replan": {
            "post": _op("Re-plan the plan's day from a moment (default now)", "201",
                        _ref("DayPlan"), body="ReplanRequest", params=[_path_id("plan_id")],
                        tag="plans")},
        "/time-off": {
            "get": _op("List time off touching [from, to] (a therapist: their own and the "
                       "practice closures)", "200", _ref("TimeOffPage"),
                       params=time_off_params + PAGING, tag="time off"),
            "post": _op("Add time off (therapist_id null or absent: a practice closure, "
                        "admins only)", "201", _ref("TimeOff"), body="TimeOffInput",
                        tag="time off"),
        },
        "/time-off/{time_off_id}": {
            "delete": _op("Remove time off (a closure: admins only)", "204", None,
                          params=[_path_id("time_off_id")], tag="time off")},
        "/plan-stops/{stop_id}": {
            "patch": _op("Mark a stop arrived, done, skipped or planned again", "200",
                         _ref("PlanStop"),
                         body="StopStateRequest", params=[_path_id("stop_id")], tag="plans")},
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Rounds API", "version": "1",
                 "description": "Visit scheduling and day routes. Authenticate with "
                                "'Authorization: Bearer <token>' (tokens: the account page). "
                                f"{LIMITS}"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
    }


LIMITS = (f"Limits: a body is a JSON object of at most 1 MiB (else 413), nested at most "
          f"{json_input.MAX_DEPTH} levels deep, its text valid Unicode (no lone surrogates), "
          f"its numbers finite and its whole numbers within 64 bits; each field's own range, "
          f"length and pattern is in its schema, dates from {fields.FIRST_DAY} to "
          f"{fields.LAST_DAY}. A query parameter the operation does not list is refused. "
          f"Bad input answers 422 naming each field.")
PREFIX = "/api/v1"
_RULE_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@cache
def _query_names() -> dict[tuple[str, str], frozenset[str]]:
    """(document path, method) -> the query parameters the document gives that operation."""
    return {(path, method.upper()): frozenset(p["name"] for p in operation.get("parameters", [])
                                              if p["in"] == "query")
            for path, item in _paths().items() for method, operation in item.items()}


@bp.before_app_request
def _documented_query_only() -> None:
    """A query parameter the document does not give the operation is a 422 naming it, as an
    unknown body field is: a typo (``?therapist=`` for ``?therapist_id=``) must not quietly
    widen a list."""
    rule = request.url_rule
    if rule is None or not rule.rule.startswith(PREFIX + "/"):
        return
    path = _RULE_PARAMETER.sub(r"{\1}", rule.rule.removeprefix(PREFIX))
    known = _query_names().get((path, request.method))
    if known is None:
        return  # HEAD, OPTIONS, the document itself
    unknown = sorted(set(request.args) - known)
    if unknown:
        raise ValidationError([FieldProblem(name.encode("utf-8", "backslashreplace")
                                            .decode("utf-8")[:60], "unknown query parameter")
                               for name in unknown])


@bp.get("/openapi.json")
def openapi() -> Response:
    """This API's OpenAPI 3 document (no token needed)."""
    return jsonify(document())
