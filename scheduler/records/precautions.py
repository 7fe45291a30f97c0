"""The structured precaution flags a client record can carry, and their check.

A flag is a short code stored on the client (``Client.precaution_flags``); free text goes in
``Client.precaution_notes``. Codes rather than sentences so that the day page, the e-mail and
the print view all say the same thing, and so that a typo is caught when the record is saved
instead of silently showing nothing.

Each flag has two texts: ``label``, the full sentence shown to the therapist on the day page,
and ``email_label``, a few words for the morning e-mail (whose body carries initials, room and
flags, never names or diagnoses). ``severity`` sorts them: an ``alert`` can hurt the client or
the therapist if missed (a line, a fistula, isolation); a ``caution`` changes how the session is
given (pressure, positioning, products).
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["alert", "caution"]


@dataclass(frozen=True)
class Precaution:
    code: str
    label: str
    email_label: str
    severity: Severity


def _flags(*items: Precaution) -> dict[str, Precaution]:
    return {item.code: item for item in items}


FLAGS: dict[str, Precaution] = _flags(
    # Pressure and touch
    Precaution("light_pressure", "Light pressure only", "Light pressure", "caution"),
    Precaution("fragile_skin", "Fragile skin: no friction, minimal lubricant, no tape",
               "Fragile skin", "caution"),
    Precaution("no_lymphatic_drainage", "No manual lymphatic drainage", "No MLD", "caution"),
    Precaution("low_platelets", "Low platelets (bleeding and bruising risk): light touch only",
               "Low platelets", "alert"),
    Precaution("bone_metastases", "Bone metastases: no deep pressure, no joint mobilisation",
               "Bone mets", "alert"),
    Precaution("dvt_risk", "DVT risk: no deep work on the legs", "DVT risk: legs", "alert"),
    Precaution("radiation_skin", "Radiation field: avoid the treated skin, no lotion on it",
               "Radiation skin", "caution"),
    Precaution("recent_surgery",
               "Recent surgery: avoid the incision; check restrictions with the nurse",
               "Recent surgery", "alert"),
    # Lines, ports and access sites
    Precaution("picc_left_arm", "PICC line — left arm: no pressure, no BP cuff on that arm",
               "PICC L arm", "alert"),
    Precaution("picc_right_arm", "PICC line — right arm: no pressure, no BP cuff on that arm",
               "PICC R arm", "alert"),
    Precaution("port_left_chest", "Implanted port — left chest: avoid the site",
               "Port L chest", "caution"),
    Precaution("port_right_chest", "Implanted port — right chest: avoid the site",
               "Port R chest", "caution"),
    Precaution("fistula_left_arm",
               "Dialysis fistula — left arm: no pressure, no BP cuff, nothing tight on that arm",
               "Fistula L arm", "alert"),
    Precaution("fistula_right_arm",
               "Dialysis fistula — right arm: no pressure, no BP cuff, nothing tight on that arm",
               "Fistula R arm", "alert"),
    Precaution("lymphedema_risk_left_arm",
               "Lymphedema risk — left arm: no deep work, no BP cuff on that arm",
               "Lymph risk L arm", "caution"),
    Precaution("lymphedema_risk_right_arm",
               "Lymphedema risk — right arm: no deep work, no BP cuff on that arm",
               "Lymph risk R arm", "caution"),
    Precaution("ostomy", "Ostomy: avoid the stoma and its appliance", "Ostomy", "caution"),
    Precaution("feeding_tube", "Feeding tube: avoid the site, no prone positioning",
               "Feeding tube", "caution"),
    Precaution("oxygen", "On oxygen: mind the tubing; no oil-based products near the cannula",
               "Oxygen", "caution"),
    # Infection control
    Precaution("neutropenic",
               "Neutropenic: mask, strict hand hygiene; do not visit with any symptoms",
               "Neutropenic", "alert"),
    Precaution("contact_isolation", "Contact isolation: gown and gloves", "Contact isol.",
               "alert"),
    Precaution("droplet_isolation", "Droplet isolation: surgical mask and eye protection",
               "Droplet isol.", "alert"),
    Precaution("airborne_isolation",
               "Airborne isolation: fitted N95, negative-pressure room, door closed",
               "Airborne isol.", "alert"),
    Precaution("enteric_contact_isolation",
               "Enteric contact isolation (C. diff): gown and gloves; wash hands with soap "
               "and water, alcohol rub does not kill the spores", "Enteric isol. (C. diff)",
               "alert"),
    Precaution("recent_transplant",
               "Recent stem-cell or organ transplant: immunosuppressed; mask, strict hand "
               "hygiene; do not visit with any symptoms", "Recent transplant", "alert"),
    # Products and positioning
    Precaution("latex_allergy", "Latex allergy: nitrile gloves only", "Latex allergy", "alert"),
    Precaution("fragrance_free", "Fragrance-free: unscented products only", "Unscented",
               "caution"),
    Precaution("nausea", "Nausea-prone: no abdominal work, unscented, stop if queasy",
               "Nausea", "caution"),
    Precaution("no_prone", "No prone positioning", "No prone", "caution"),
    # Safety and communication
    Precaution("fall_risk", "Fall risk: assist transfers, bed low, call light in reach",
               "Fall risk", "caution"),
    Precaution("hard_of_hearing", "Hard of hearing: face the client and speak clearly",
               "Hard of hearing", "caution"),
    Precaution("cognitive_impairment",
               "Cognitive impairment: consent through the care team; short, calm sessions",
               "Cognitive impair.", "caution"),
)


def validate_flags(codes: Iterable[object]) -> list[str]:
    """Problems with a list of flag codes, in words; an empty list means all are known.

    Names each unknown code (with the nearest known one when there is a close match) and each
    code given twice, so a form or the demo loader can show the message beside the field.
    """
    problems: list[str] = []
    seen: set[str] = set()
    for code in codes:
        if not isinstance(code, str):
            problems.append(f"a precaution flag must be a code such as 'light_pressure', "
                            f"got {code!r}")
            continue
        if code in seen:
            problems.append(f"precaution flag {code!r} is given twice")
            continue
        seen.add(code)
        if code not in FLAGS:
            problems.append(_unknown(code))
    return problems


def _unknown(code: str) -> str:
    close = difflib.get_close_matches(code, FLAGS, n=1, cutoff=0.75)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown precaution flag {code!r}{hint}"


def flags_for(codes: Iterable[str]) -> list[Precaution]:
    """The known flags among ``codes``, alerts first, otherwise in the order given."""
    known = [FLAGS[code] for code in dict.fromkeys(codes) if code in FLAGS]
    return sorted(known, key=lambda flag: flag.severity != "alert")


# ---------------------------------------------------------------------------------------------
# Infection-control classes: the order a therapist's day must keep


class InfectionClass(enum.IntEnum):
    """Where a client's visit goes in a therapist's day, by what they may catch or carry.

    A therapist carries her hands, clothes, bag and linens from room to room, so the clients
    who must be shielded (*protect*: neutropenic) are seen first and those who may carry
    something (*isolation*: contact, droplet, airborne, enteric isolation) last. The values
    are the optimizer's ``order_class`` (a route never goes down in it).
    """

    PROTECT = 0
    NONE = 1
    ISOLATION = 2

    @property
    def word(self) -> str:
        return {0: "protect", 1: "none", 2: "isolation"}[self.value]


ORDER_RULES = ("protect-first", "isolation-last", "off")
"""``protect-first``: protect, then the others, then isolation (the default);
``isolation-last``: only isolation after the others; ``off``: no order."""


@dataclass(frozen=True)
class InfectionControl:
    """The practice's rule and which flags make which class (the ``[infection_control]``
    settings). A code may be in one list only."""

    order: str = "protect-first"
    protect_flags: tuple[str, ...] = ("neutropenic",)
    isolation_flags: tuple[str, ...] = ("contact_isolation", "droplet_isolation",
                                         "airborne_isolation", "enteric_contact_isolation")

    def class_of(self, codes: Iterable[str]) -> InfectionClass:
        """A client's class: the strongest of their flags. Isolation is the strongest: a
        client who is both shielded and isolated (neutropenic on contact isolation) is seen
        last, since what they may carry would reach every client after them; their own
        protection then rests on the precautions the flags list."""
        flags = set(codes or ())
        if flags & set(self.isolation_flags):
            return InfectionClass.ISOLATION
        if flags & set(self.protect_flags):
            return InfectionClass.PROTECT
        return InfectionClass.NONE

    def order_class(self, codes: Iterable[str]) -> int | None:
        """The optimizer's ``order_class`` for a visit to a client with ``codes`` under this
        rule, or None when the rule is off (the job carries no class at all)."""
        if self.order == "off":
            return None
        found = self.class_of(codes)
        if self.order == "isolation-last" and found is InfectionClass.PROTECT:
            return InfectionClass.NONE.value
        return found.value

    def class_flags(self, codes: Iterable[str]) -> list[str]:
        """The codes among ``codes`` that decide the client's class, for the words."""
        found = self.class_of(codes)
        wanted = (self.isolation_flags if found is InfectionClass.ISOLATION
                  else self.protect_flags if found is InfectionClass.PROTECT else ())
        return [code for code in codes if code in wanted]

    def describe_order(self) -> str | None:
        """The rule for the top of a day: "Infection-control order: protect → others →
        isolation"; None when off."""
        if self.order == "protect-first":
            return "Infection-control order: protect → others → isolation"
        if self.order == "isolation-last":
            return "Infection-control order: isolation rooms last"
        return None
