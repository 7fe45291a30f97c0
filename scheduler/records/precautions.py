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
