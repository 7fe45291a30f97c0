"""Clients (patient records) and their treatments.

A client's names, diagnosis and notes are patient data: the audit names the fields changed,
never their values. A treatment belongs to its client; its audit rows say which.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from scheduler import models
from scheduler.audit import Actor
from scheduler.records import change
from scheduler.records.fields import client_fields, treatment_fields
from scheduler.records.validation import check_client, check_treatment

CLIENT = change.Kind("client", change.plain_fields(
    "client", client_fields, lambda session, client: check_client(client)))
TREATMENT = change.Kind("treatment", change.plain_fields(
    "treatment", treatment_fields, lambda session, treatment: check_treatment(treatment)),
    context=lambda treatment: f"client {treatment.client_id}")


@change.all_or_nothing
def create_client(session: Session, actor: Actor, data: Mapping[str, Any]) -> models.Client:
    client = models.Client(room="", active=True, precaution_flags=[], precaution_notes="",
                           diagnosis="", care_contact="")
    return change.create(session, actor, CLIENT, client, data)


@change.all_or_nothing
def update_client(session: Session, actor: Actor, client: models.Client,
                  data: Mapping[str, Any]) -> models.Client:
    return change.update(session, actor, CLIENT, client, data)


@change.all_or_nothing
def delete_client(session: Session, actor: Actor, client: models.Client) -> None:
    change.delete(session, actor, CLIENT, client,
                  [models.AppointmentSeries.client_id == client.id,
                   models.PlanStop.client_id == client.id],
                  "visits or day plans refer to this client; mark the client inactive instead")


@change.all_or_nothing
def create_treatment(session: Session, actor: Actor, client: models.Client,
                     data: Mapping[str, Any]) -> models.Treatment:
    # By id, not ``client=client``: the back-reference would put the unsaved treatment in
    # client.treatments, and a query while its fields are parsed would flush it half made.
    treatment = models.Treatment(client_id=client.id, label="", buffer_before_minutes=0,
                                 buffer_after_minutes=0, policy=models.TreatmentPolicy.AVOID)
    created = change.create(session, actor, TREATMENT, treatment, data)
    session.expire(client, ["treatments"])  # read again, with the new one, when next asked
    return created


@change.all_or_nothing
def update_treatment(session: Session, actor: Actor, treatment: models.Treatment,
                     data: Mapping[str, Any]) -> models.Treatment:
    return change.update(session, actor, TREATMENT, treatment, data)


@change.all_or_nothing
def delete_treatment(session: Session, actor: Actor, treatment: models.Treatment) -> None:
    change.delete(session, actor, TREATMENT, treatment,
                  [models.AppointmentSeries.during_treatment_id == treatment.id],
                  "a visit series takes place during this treatment; change that series first")
