"""The OpenAPI 3 document of the API, served at /api/v1/openapi.json.

Written out here rather than generated from the views, but kept honest by tests: every API
route must appear in it and every path in it must be a route, and schemathesis checks the
real answers against it. The input schemas come from the same field lists as
:mod:`scheduler.records` reads, including which fields a new record requires.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from scheduler import records
from scheduler.records import time_off as time_off_records
from web.api.base import MAX_PER_PAGE, api_blueprint
from web.converters import MAX_ID

bp = api_blueprint("api_openapi", public=True)

HHMM = {"type": "string", "pattern": r"^([01]?\d|2[0-3]):[0-5]\d$", "example": "09:30"}
DATE = {"type": "string", "format": "date", "example": "2026-03-09",
        "description": "YYYY-MM-DD, from 2000-01-01 to 2099-12-31"}
DATETIME = {"type": "string", "format": "date-time"}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
WORDS = {"type": "array", "items": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,39}$"}}
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _text(max_length: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def _enum(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


INFECTION_CLASS = {
    **_nullable(_enum("protect", "isolation")),
    "description": "infection-control class from the precaution flags: protect (seen first), "
                   "isolation (seen last), or null (in between)",
}
TIME_RANGE = {"type": "array", "items": HHMM, "minItems": 2, "maxItems": 2}
WEEKLY = {"type": "object", "additionalProperties": False,
          "properties": {code: TIME_RANGE for code in WEEKDAYS},
          "description": "Weekday code -> [start, end]; a missing day is closed / not worked."}

# Each record kind: its fields (name -> schema), which are read-only, and write-only extras.
KINDS: dict[str, dict[str, Any]] = {
    "facility": {
        "fields": {
            "id": ID, "name": _text(200),
            "kind": _enum("hospital", "nursing_home", "dialysis", "cancer_center",
                          "assisted_living", "hospice", "private_home"),
            "address": _text(255),
            "lat": _nullable({"type": "number", "minimum": -90, "maximum": 90}),
            "lon": _nullable({"type": "number", "minimum": -180, "maximum": 180}),
            "coordinate_source": _nullable(_enum("manual", "geocoded", "demo")),
            "overhead_minutes": {"type": "integer", "minimum": 0, "maximum": 240},
            "parking_notes": _text(4000), "infection_control": _text(4000),
            "notes": _text(4000), "hours": WEEKLY,
        },
        "read_only": {"id", "coordinate_source"},
    },
    "therapist": {
        "fields": {
            "id": ID, "name": _text(120), "email": _text(254),
            "role": _enum("admin", "therapist"), "active": {"type": "boolean"},
            "home_address": _text(255),
            "home_lat": {"type": "number", "minimum": -90, "maximum": 90},
            "home_lon": {"type": "number", "minimum": -180, "maximum": 180},
            "skills": WORDS, "shifts": WEEKLY,
            "break_start": _nullable(HHMM), "break_end": _nullable(HHMM),
            "break_minutes": {"type": "integer", "minimum": 0, "maximum": 240},
            "max_visits_per_day": _nullable({"type": "integer", "minimum": 1, "maximum": 50}),
            "max_hands_on_minutes": _nullable({"type": "integer", "minimum": 1,
                                               "maximum": 1440}),
            "email_time": _nullable(HHMM),
            "email_weekdays": {"type": "array", "items": _enum(*WEEKDAYS)},
        },
        "read_only": {"id"},
        "write_only": {"password": {"type": "string", "minLength": records.PASSWORD_MIN,
                                    "maxLength": records.PASSWORD_MAX, "writeOnly": True}},
    },
    "client": {
        "fields": {
            "id": ID, "first_name": _text(80), "last_name": _text(80),
            "initials": {"type": "string"}, "facility_id": ID, "room": _text(40),
            "active": {"type": "boolean"}, "precaution_flags": WORDS,
            "precaution_notes": _text(4000), "diagnosis": _text(4000),
            "care_contact": _text(255), "primary_therapist_id": _nullable(ID),
            "infection_class": INFECTION_CLASS,
        },
        "read_only": {"id", "initials", "infection_class"},
    },
    "treatment": {
        "fields": {
            "id": ID, "client_id": ID, "kind": _text(40), "label": _text(120),
            "facility_id": _nullable(ID),
            "rule": {"type": "string", "maxLength": 255, "example": "FREQ=WEEKLY;BYDAY=MO,WE,FR"},
            "first_date": DATE, "last_date": _nullable(DATE), "start_time": HHMM,
            "duration_minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
            "buffer_before_minutes": {"type": "integer", "minimum": 0, "maximum": 1440},
            "buffer_after_minutes": {"type": "integer", "minimum": 0, "maximum": 1440},
            "policy": _enum("avoid", "during"),
        },
        "read_only": {"id", "client_id"},
    },
    "series": {
        "fields": {
            "id": ID, "client_id": ID, "therapist_id": _nullable(ID),
            "required_skills": WORDS,
            "rule": _nullable({"type": "string", "maxLength": 255,
                               "description": "RFC 5545 RRULE; null for a one-off visit"}),
            "first_date": DATE, "last_date": _nullable(DATE),
            "duration_minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
            "preferred_windows": {"type": "array", "items": TIME_RANGE},
            "priority": {"type": "integer", "minimum": 0, "maximum": 100},
            "during_treatment_id": _nullable(ID), "notes": _text(4000),
            "active": {"type": "boolean"},
        },
        "read_only": {"id"},
    },
    "exception": {
        "fields": {
            "id": ID, "series_id": ID, "original_date": DATE,
            "action": _enum("cancel", "move", "resize"), "new_date": _nullable(DATE),
            "new_start_time": _nullable(HHMM),
            "new_duration_minutes": _nullable({"type": "integer", "minimum": 1,
                                               "maximum": 1440}),
            "reason": _text(255),
        },
        "read_only": {"id", "series_id"},
    },
    "treatment_exception": {
        "fields": {
            "id": ID, "treatment_id": ID, "original_date": DATE, "action": _enum("cancel", "move"),
            "new_date": _nullable(DATE), "new_start_time": _nullable(HHMM),
            "new_duration_minutes": _nullable({"type": "integer", "minimum": 1, "maximum": 1440}),
            "reason": _text(255),
        },
        "read_only": {"id", "treatment_id"},
    },
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
    for kind, spec in KINDS.items():
        name = NAMES[kind]
        fields, read_only = spec["fields"], spec["read_only"]
        writable = {k: v for k, v in fields.items() if k not in read_only}
        writable.update(spec.get("write_only", {}))
        schemas[name] = {"type": "object", "required": list(fields),
                         "additionalProperties": False, "properties": fields}
        schemas[f"{name}Input"] = {"type": "object", "additionalProperties": False,
                                   "required": list(records.REQUIRED[kind]),
                                   "properties": writable}
        schemas[f"{name}Patch"] = {"type": "object", "additionalProperties": False,
                                   "properties": writable}
        schemas[f"{name}Page"] = _page(name)
    schemas.update(_plan_schemas())
    schemas.update(_time_off_schemas())
    return schemas


def _page(item: str) -> dict[str, Any]:
    return {"type": "object", "required": ["items", "page", "per_page", "total"],
            "properties": {"items": {"type": "array", "items": _ref(item)},
                           "page": {"type": "integer", "minimum": 1},
                           "per_page": {"type": "integer", "minimum": 1},
                           "total": {"type": "integer", "minimum": 0}}}


def _plan_schemas() -> dict[str, Any]:
    instant = _nullable(DATETIME)
    stop = {
        "id": ID, "position": {"type": "integer"}, "series_id": ID, "occurrence_date": DATE,
        "client_id": ID, "facility_id": ID, "arrive_at": DATETIME, "start_at": DATETIME,
        "end_at": DATETIME, "drive_minutes": {"type": "number"}, "drive_km": {"type": "number"},
        "overhead_minutes": {"type": "integer"}, "state": _enum("planned", "done", "skipped"),
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
            "properties": {"at": DATETIME,
                           "lat": {"type": "number", "minimum": -90, "maximum": 90},
                           "lon": {"type": "number", "minimum": -180, "maximum": 180}}},
        "StopStateRequest": {
            "type": "object", "required": ["state"], "additionalProperties": False,
            "properties": {"state": _enum("planned", "done", "skipped")}},
    }


def _time_off_schemas() -> dict[str, Any]:
    """Time off is read and written by :mod:`scheduler.time_off`, not :mod:`scheduler.records`,
    so its fields and required ones come from there."""
    owner = _nullable({**ID, "description": "the therapist who is off; null: the practice "
                                            "is closed"})
    fields = {"id": ID, "therapist_id": owner, "first_day": DATE, "last_day": DATE,
              "reason": {**_text(time_off_records.REASON_MAX),
                         "description": "a short word for the team, e.g. Vacation"}}
    writable = {name: schema for name, schema in fields.items() if name != "id"}
    return {
        "TimeOff": {"type": "object", "required": list(fields), "additionalProperties": False,
                    "properties": fields},
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
IN_USE = {"409": {"description": "Other records refer to it", **_json(_ref("Error"))}}
PAGING = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                "maximum": 1_000_000}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                    "maximum": MAX_PER_PAGE}},
]


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
    return operation


def _collection(plural: str, name: str, tag: str, *, create: bool = True,
                prefix_params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    path: dict[str, Any] = {"get": _op(f"List {plural}", "200", _ref(f"{name}Page"),
                                       params=(prefix_params or []) + PAGING, tag=tag)}
    if create:
        path["post"] = _op(f"Create a {name}", "201", _ref(name), body=f"{name}Input",
                           params=prefix_params, tag=tag)
    return path


def _item(name: str, param: str, tag: str, *, delete: bool = True) -> dict[str, Any]:
    params = [_path_id(param)]
    path = {
        "get": _op(f"Read a {name}", "200", _ref(name), params=params, tag=tag),
        "patch": _op(f"Change a {name} (only the fields given)", "200", _ref(name),
                     body=f"{name}Patch", params=params, tag=tag),
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
            "patch": _op("Mark a stop planned, done or skipped", "200", _ref("PlanStop"),
                         body="StopStateRequest", params=[_path_id("stop_id")], tag="plans")},
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Rounds API", "version": "1",
                 "description": "Visit scheduling and day routes. Authenticate with "
                                "'Authorization: Bearer <token>' (tokens: the account page)."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    """This API's OpenAPI 3 document (no token needed)."""
    return jsonify(document())
