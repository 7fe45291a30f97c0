"""Two-factor sign-in with time-based one-time codes (TOTP, RFC 6238), through ``pyotp``.

A user enrols on the account page: Rounds makes a secret (:func:`begin_enrolment`), shows it
and its ``otpauth://`` address (and a QR code of it) for an authenticator app, and turns
two-factor sign-in on once the user types a code the app shows (:func:`confirm_enrolment`).
From then on sign-in asks for a code after the password (:func:`accept_code`). A practice may
require it of admins (``web.totp_required_for_admins``; :func:`must_enrol`).

Codes are 6 digits, 30-second steps (what every authenticator app uses by default); the step
before and after the current one are accepted too, for clocks a little apart. Each code is
accepted once: the step it belongs to is remembered (``Therapist.totp_last_step``) and a code
of that step or an earlier one is refused, so a code read over a shoulder cannot be replayed.
Wrong codes are throttled like wrong passwords, by the caller (:mod:`.login_throttle`).

The secret is stored in clear (not encrypted): the server must compute codes from it.

Functions work on the therapist row and the current time (aware); they never commit.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

from scheduler.models import Role, Therapist

DIGITS = 6
STEP_SECONDS = 30
DRIFT_STEPS = 1  # steps accepted either side of the current one


def begin_enrolment(therapist: Therapist) -> str:
    """A new secret for ``therapist``, not yet in use (two-factor stays off until confirmed).

    Called again, it replaces the secret not yet confirmed; it refuses when two-factor sign-in
    is already on (turn it off first), so a stolen session cannot quietly swap the secret.
    """
    if therapist.totp_enabled:
        raise ValueError("two-factor sign-in is already on")
    therapist.totp_secret = pyotp.random_base32()
    therapist.totp_last_step = None
    return therapist.totp_secret


def provisioning_uri(therapist: Therapist, issuer: str) -> str:
    """The ``otpauth://totp/...`` address an authenticator app reads (typed or as a QR code)."""
    if not therapist.totp_secret:
        raise ValueError("no secret to show: begin the enrolment first")
    return pyotp.TOTP(therapist.totp_secret).provisioning_uri(name=therapist.email,
                                                              issuer_name=issuer or "Rounds")


def confirm_enrolment(therapist: Therapist, code: str, now: datetime) -> bool:
    """Turn two-factor sign-in on if ``code`` is right for the secret being enrolled."""
    if therapist.totp_enabled or not therapist.totp_secret:
        return False
    if not _check(therapist, code, now):
        return False
    therapist.totp_enabled = True
    return True


def accept_code(therapist: Therapist, code: str, now: datetime) -> bool:
    """Whether ``code`` completes this user's sign-in (each code works once)."""
    return therapist.totp_enabled and bool(therapist.totp_secret) and _check(therapist, code,
                                                                               now)


def disable(therapist: Therapist) -> None:
    """Turn two-factor sign-in off and forget the secret."""
    therapist.totp_enabled = False
    therapist.totp_secret = None
    therapist.totp_last_step = None


def must_enrol(therapist: Therapist, required_for_admins: bool) -> bool:
    """Whether this user must set up two-factor sign-in before doing anything else."""
    return required_for_admins and therapist.role == Role.ADMIN and not therapist.totp_enabled


def may_disable(therapist: Therapist, required_for_admins: bool) -> bool:
    """An admin of a practice that requires two-factor sign-in may not turn it off."""
    return not (required_for_admins and therapist.role == Role.ADMIN)


def _check(therapist: Therapist, code: str, now: datetime) -> bool:
    """Right code of a step not used before: remember the step and say yes."""
    if now.tzinfo is None:
        raise ValueError("naive datetime given where an aware one is required")
    code = "".join(code.split())  # "123 456" as some apps show it
    if len(code) != DIGITS or not code.isdigit():
        return False
    totp = pyotp.TOTP(therapist.totp_secret or "", digits=DIGITS, interval=STEP_SECONDS)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if therapist.totp_last_step is not None and step <= therapist.totp_last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            therapist.totp_last_step = step
            return True
    return False
