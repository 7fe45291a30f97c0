"""The practice's records and every change to them: facilities, therapists, clients and their
treatments, visit series and their exceptions, time off.

- :mod:`.change` is the one way a record changes (parse by field, assign, check as a whole,
  audit the field names, all or nothing); :mod:`.fields` lists each kind's fields and parsers;
  :mod:`.validation` holds the whole-record checks and the problems they name;
- one module per kind holds what differs: :mod:`.facilities`, :mod:`.therapists`,
  :mod:`.clients` (and treatments), :mod:`.treatment_exceptions` (one occurrence of a
  treatment cancelled or moved), :mod:`.series` (and exceptions), :mod:`.time_off`;
- :mod:`.versions`: every edited record's version, and the :class:`Conflict` that refuses a
  save made from an older one (edits that cannot be lost);
- :mod:`.precautions` is the catalogue of precaution flags;
- :mod:`.access` says who may see which records (pages, API and feeds ask it);
- spreadsheets: :mod:`.sheets` (each kind's CSV columns), :mod:`.imports` (preview, then every
  row or none, through the change path), :mod:`.exports`.

The create/update/delete functions are re-exported here: ``records.update_client(...)``.

May import: the models, :mod:`scheduler.audit`, :mod:`scheduler.accounts` (password hashes)
and :mod:`scheduler.calendar` (to check rules and exceptions). Never the web.
"""

from scheduler.records.change import InUse
from scheduler.records.clients import (
    create_client,
    create_treatment,
    delete_client,
    delete_treatment,
    update_client,
    update_treatment,
)
from scheduler.records.facilities import (
    create_facility,
    delete_facility,
    set_facility_coordinates,
    update_facility,
)
from scheduler.records.fields import REQUIRED, parse_practice_date
from scheduler.records.series import (
    cancel_occurrence,
    create_exception,
    create_series,
    delete_exception,
    delete_series,
    update_exception,
    update_series,
)
from scheduler.records.therapists import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    change_password,
    create_therapist,
    delete_therapist,
    end_sessions,
    update_therapist,
)
from scheduler.records.treatment_exceptions import (
    cancel_treatment_occurrence,
    create_treatment_exception,
    delete_treatment_exception,
    move_treatment_occurrence,
    update_treatment_exception,
)
from scheduler.records.versions import Conflict

__all__ = [
    "PASSWORD_MAX", "PASSWORD_MIN", "REQUIRED", "Conflict", "InUse", "cancel_occurrence",
    "cancel_treatment_occurrence", "change_password", "create_client", "create_exception",
    "create_facility", "create_series", "create_therapist", "create_treatment",
    "create_treatment_exception", "delete_client", "delete_exception", "delete_facility",
    "delete_series", "delete_therapist", "delete_treatment", "delete_treatment_exception",
    "end_sessions", "move_treatment_occurrence", "parse_practice_date",
    "set_facility_coordinates", "update_client", "update_exception", "update_facility",
    "update_series", "update_therapist", "update_treatment", "update_treatment_exception",
]
