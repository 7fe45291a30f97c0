"""Endpoints for the practice's records: facilities, therapists, clients, treatments and their
changed occurrences, series and their exceptions. Reads of patient records (clients,
treatments, series, exceptions) are audited; writes are audited by :mod:`scheduler.records`.

A record's answer carries its version as ``ETag``; a PATCH is checked against ``If-Match``
(412) and the body's ``version`` (409) by :func:`_change` (see :mod:`web.api.base`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort
from sqlalchemy.orm.exc import ObjectDeletedError

from scheduler import audit, models, records
from scheduler.records import lists
from web import access
from web.api import serialize as out
from web.api.base import (
    actor,
    api_blueprint,
    body,
    created,
    edit_conflict,
    forbid_unless_admin,
    has_if_match,
    if_match_fails,
    no_content,
    paginated,
    tagged,
    user,
)
from web.database import audit_db, db, end_transaction, runtime

bp = api_blueprint("api_records")


def _client(client: models.Client) -> dict[str, Any]:
    return out.client(client, runtime().settings.infection_control.rule())


def _read(entity: str, entity_id: int) -> None:
    audit.record(audit_db(), actor(), "read", entity, entity_id)


def _change(kind: str, record: Any, render: Callable[[Any], dict[str, Any]],
            save: Callable[[], Any]) -> Any:
    """A PATCH: ``If-Match`` naming another version answers 412 before anything is tried; a
    body ``version`` that is not current (or a save racing another) is refused by the
    records (:class:`records.Conflict`) and answers 409 (412 when If-Match was sent). Both
    answers hold the record as it is now; the saved record's answer carries its ETag."""
    if if_match_fails(record.version):
        _conflict_read(kind, record.id)
        return edit_conflict(412, f"{kind} {record.id} is at version {record.version}, not "
                                  "the version If-Match names", render(record))
    try:
        saved = save()
    except records.Conflict as conflict:
        db().rollback()
        try:
            current = render(record)  # read again: the record as the other save left it
        except ObjectDeletedError:
            abort(404)
        _conflict_read(kind, conflict.record_id)
        return edit_conflict(412 if has_if_match() else 409, str(conflict), current)
    return tagged(render(saved))


PATIENT_KINDS = {"client", "treatment", "treatment_exception", "series", "exception"}


def _conflict_read(kind: str, record_id: int) -> None:
    """A conflict's answer shows the current record: for a patient record that is a read,
    audited and kept although the answer is an error (a 409 or 412 rolls back the rest)."""
    if kind in PATIENT_KINDS:
        _read(kind, record_id)
        end_transaction()


def _listed(entity: str, page: dict[str, Any]) -> dict[str, Any]:
    """One ``read`` row per record on the page (one INSERT), so the trail names each."""
    audit.record_reads(audit_db(), actor(), entity, [item["id"] for item in page["items"]],
                       context=f"list page {page['page']}")
    return page


# --- Facilities (not patient data; every user reads them, admins change them) --------------


@bp.get("/facilities")
def list_facilities() -> Any:
    return paginated(lists.facilities_query(), out.facility)


@bp.post("/facilities")
def create_facility() -> Any:
    forbid_unless_admin()
    return created(out.facility(records.create_facility(db(), actor(), body())))


@bp.get("/facilities/<id:facility_id>")
def get_facility(facility_id: int) -> Any:
    return tagged(out.facility(access.facility_or_404(db(), facility_id)))


@bp.patch("/facilities/<id:facility_id>")
def update_facility(facility_id: int) -> Any:
    forbid_unless_admin()
    facility = access.facility_or_404(db(), facility_id)
    data = body()
    return _change("facility", facility, out.facility,
                   lambda: records.update_facility(db(), actor(), facility, data))


@bp.delete("/facilities/<id:facility_id>")
def delete_facility(facility_id: int) -> Any:
    forbid_unless_admin()
    records.delete_facility(db(), actor(), access.facility_or_404(db(), facility_id))
    return no_content()


# --- Therapists -------------------------------------------------------------------------------


@bp.get("/therapists")
def list_therapists() -> Any:
    return paginated(lists.therapists_query(user()), out.therapist)


@bp.post("/therapists")
def create_therapist() -> Any:
    forbid_unless_admin()
    return created(out.therapist(records.create_therapist(db(), actor(), body())))


@bp.get("/therapists/<id:therapist_id>")
def get_therapist(therapist_id: int) -> Any:
    return tagged(out.therapist(access.therapist_or_404(db(), user(), therapist_id)))


@bp.patch("/therapists/<id:therapist_id>")
def update_therapist(therapist_id: int) -> Any:
    forbid_unless_admin()
    therapist = access.therapist_or_404(db(), user(), therapist_id)
    data = body()
    return _change("therapist", therapist, out.therapist,
                   lambda: records.update_therapist(db(), actor(), therapist, data))


# --- Clients ------------------------------------------------------------------------------------


@bp.get("/clients")
def list_clients() -> Any:
    return _listed("client", paginated(lists.clients_page_query(user()), _client))


@bp.post("/clients")
def create_client() -> Any:
    forbid_unless_admin()
    return created(_client(records.create_client(db(), actor(), body())))


@bp.get("/clients/<id:client_id>")
def get_client(client_id: int) -> Any:
    client = access.client_or_404(db(), user(), client_id)
    _read("client", client.id)
    return tagged(_client(client))


@bp.patch("/clients/<id:client_id>")
def update_client(client_id: int) -> Any:
    client = access.client_or_404(db(), user(), client_id)
    data = body()
    return _change("client", client, _client,
                   lambda: records.update_client(db(), actor(), client, data))


@bp.delete("/clients/<id:client_id>")
def delete_client(client_id: int) -> Any:
    forbid_unless_admin()
    records.delete_client(db(), actor(), access.client_or_404(db(), user(), client_id))
    return no_content()


# --- Treatments ---------------------------------------------------------------------------------


@bp.get("/clients/<id:client_id>/treatments")
def list_treatments(client_id: int) -> Any:
    client = access.client_or_404(db(), user(), client_id)
    return _listed("treatment", paginated(lists.treatments_query(client), out.treatment))


@bp.post("/clients/<id:client_id>/treatments")
def create_treatment(client_id: int) -> Any:
    client = access.client_or_404(db(), user(), client_id)
    return created(out.treatment(records.create_treatment(db(), actor(), client, body())))


@bp.get("/treatments/<id:treatment_id>")
def get_treatment(treatment_id: int) -> Any:
    treatment = access.treatment_or_404(db(), user(), treatment_id)
    _read("treatment", treatment.id)
    return tagged(out.treatment(treatment))


@bp.patch("/treatments/<id:treatment_id>")
def update_treatment(treatment_id: int) -> Any:
    treatment = access.treatment_or_404(db(), user(), treatment_id)
    data = body()
    return _change("treatment", treatment, out.treatment,
                   lambda: records.update_treatment(db(), actor(), treatment, data))


@bp.delete("/treatments/<id:treatment_id>")
def delete_treatment(treatment_id: int) -> Any:
    forbid_unless_admin()
    records.delete_treatment(db(), actor(), access.treatment_or_404(db(), user(), treatment_id))
    return no_content()


# --- Treatment exceptions (one occurrence cancelled or moved) ------------------------------------


@bp.get("/treatments/<id:treatment_id>/exceptions")
def list_treatment_exceptions(treatment_id: int) -> Any:
    treatment = access.treatment_or_404(db(), user(), treatment_id)
    return _listed("treatment_exception", paginated(lists.treatment_exceptions_query(treatment),
                                                    out.treatment_exception))


@bp.post("/treatments/<id:treatment_id>/exceptions")
def create_treatment_exception(treatment_id: int) -> Any:
    treatment = access.treatment_or_404(db(), user(), treatment_id)
    return created(out.treatment_exception(
        records.create_treatment_exception(db(), actor(), treatment, body())))


@bp.get("/treatment-exceptions/<id:exception_id>")
def get_treatment_exception(exception_id: int) -> Any:
    exception = access.treatment_exception_or_404(db(), user(), exception_id)
    _read("treatment_exception", exception.id)
    return tagged(out.treatment_exception(exception))


@bp.patch("/treatment-exceptions/<id:exception_id>")
def update_treatment_exception(exception_id: int) -> Any:
    exception = access.treatment_exception_or_404(db(), user(), exception_id)
    data = body()
    return _change("treatment_exception", exception, out.treatment_exception,
                   lambda: records.update_treatment_exception(db(), actor(), exception, data))


@bp.delete("/treatment-exceptions/<id:exception_id>")
def delete_treatment_exception(exception_id: int) -> Any:
    exception = access.treatment_exception_or_404(db(), user(), exception_id)
    records.delete_treatment_exception(db(), actor(), exception)
    return no_content()


# --- Series -------------------------------------------------------------------------------------


@bp.get("/series")
def list_series() -> Any:
    return _listed("series", paginated(lists.series_page_query(user()), out.series))


@bp.post("/series")
def create_series() -> Any:
    forbid_unless_admin()
    return created(out.series(records.create_series(db(), actor(), body())))


@bp.get("/series/<id:series_id>")
def get_series(series_id: int) -> Any:
    series = access.series_or_404(db(), user(), series_id)
    _read("series", series.id)
    return tagged(out.series(series))


@bp.patch("/series/<id:series_id>")
def update_series(series_id: int) -> Any:
    forbid_unless_admin()
    series = access.series_or_404(db(), user(), series_id)
    data = body()
    return _change("series", series, out.series,
                   lambda: records.update_series(db(), actor(), series, data))


@bp.delete("/series/<id:series_id>")
def delete_series(series_id: int) -> Any:
    forbid_unless_admin()
    records.delete_series(db(), actor(), access.series_or_404(db(), user(), series_id))
    return no_content()


# --- Exceptions (one occurrence cancelled, moved or resized) -------------------------------------


@bp.get("/series/<id:series_id>/exceptions")
def list_exceptions(series_id: int) -> Any:
    series = access.series_or_404(db(), user(), series_id)
    return _listed("exception", paginated(lists.exceptions_query(series), out.exception))


@bp.post("/series/<id:series_id>/exceptions")
def create_exception(series_id: int) -> Any:
    series = access.series_or_404(db(), user(), series_id)
    return created(out.exception(records.create_exception(db(), actor(), series, body())))


@bp.get("/exceptions/<id:exception_id>")
def get_exception(exception_id: int) -> Any:
    exception = access.exception_or_404(db(), user(), exception_id)
    _read("exception", exception.id)
    return tagged(out.exception(exception))


@bp.patch("/exceptions/<id:exception_id>")
def update_exception(exception_id: int) -> Any:
    exception = access.exception_or_404(db(), user(), exception_id)
    data = body()
    return _change("exception", exception, out.exception,
                   lambda: records.update_exception(db(), actor(), exception, data))


@bp.delete("/exceptions/<id:exception_id>")
def delete_exception(exception_id: int) -> Any:
    records.delete_exception(db(), actor(), access.exception_or_404(db(), user(), exception_id))
    return no_content()


