"""Which new passwords are refused, and why, in words (NIST SP 800-63B, section 3.1.1.2).

Checked whenever a password is set or changed, never at sign-in (an older password, such as
the demo's, keeps working until it is changed). Following NIST there are no composition rules
(no "one digit, one symbol"): length and a blocklist instead.

- Length: at least :data:`MIN_LENGTH` characters. NIST's floor is 8; Rounds asks for 10
  because an account opens patients' records and a blocklist of 30,000 entries holds only
  about a thousand of 10 characters or more, so the common short patterns are out by length
  alone. Up to :data:`MAX_LENGTH` (NIST: at least 64), so passphrases fit.
- The blocklist: the 30,000 most common passwords of the leaked password sets that the
  ``zxcvbn`` package (Dropbox's strength estimator, MIT licence) ships as its
  ``passwords`` frequency list, read offline; also such a password with digits or symbols
  merely added at its ends ("baseball2024!").
- Repeated or sequential characters ("aaaaaaaaaa", "1234567890", "abcabcabca").
- Context words: the user's own name and e-mail address and the app's name; a password made
  of them (with a few characters to spare) is refused.

:func:`weakness` returns the reason a password is refused, or None; a pure function.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

MIN_LENGTH = 10
MAX_LENGTH = 128
MIN_DISTINCT = 4  # fewer different characters than this is a repeat ("abababab12" has 4)
APP_WORDS = ("rounds",)


@cache
def _blocklist() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def weakness(password: str, context: Iterable[str] = ()) -> str | None:
    """Why ``password`` may not be used, as the end of a sentence that starts with the field's
    name ("password is one of ..."); None if it may."""
    if len(password) < MIN_LENGTH:
        return (f"must be at least {MIN_LENGTH} characters long "
                "(a few unrelated words make a strong one that is easy to remember)")
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters long"
    lowered = password.lower()
    if lowered in _blocklist():
        return "is one of the most common passwords, which attackers try first; choose another"
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", lowered)
    if core and core != lowered and core in _blocklist():
        return ("is a common password with digits or symbols added, which attackers try "
                "early; choose another")
    if len(set(lowered)) < MIN_DISTINCT or _repeats_a_unit(lowered):
        return "repeats the same few characters; choose something less regular"
    if _is_sequence(lowered):
        return "is a run of consecutive characters (like 1234567890); choose another"
    if _made_of_context(lowered, context):
        return ("is made of your name, your e-mail address or the app's name; "
                "choose something others could not guess from them")
    return None


def _repeats_a_unit(text: str) -> bool:
    """"abcabcabca": the whole text is one short unit said again and again."""
    for size in range(1, 4):
        unit = text[:size]
        if (unit * (len(text) // size + 1))[:len(text)] == text:
            return True
    return False


def _is_sequence(text: str) -> bool:
    """Every character one step after (or before) the previous one; digits wrap (…8, 9, 0)."""
    def step(a: str, b: str) -> int:
        if a.isdigit() and b.isdigit():
            return {1: 1, 9: -1}.get((int(b) - int(a)) % 10, 0)
        return ord(b) - ord(a)

    steps = {step(a, b) for a, b in zip(text, text[1:], strict=False)}
    return steps in ({1}, {-1})


def _made_of_context(text: str, context: Iterable[str]) -> bool:
    """After taking out every context word (3 characters or more), fewer than 4 letters or
    digits are left, or what is left is a common password."""
    words = set(APP_WORDS)
    for item in context:
        item = item.lower().strip()
        if not item:
            continue
        words.add(item)
        words.update(re.split(r"[^a-z0-9]+", item))
    remainder = re.sub(r"[^a-z0-9]", "", text)
    for word in sorted(words, key=len, reverse=True):
        word = re.sub(r"[^a-z0-9]", "", word)
        if len(word) >= 3:
            remainder = remainder.replace(word, "")
    if remainder == re.sub(r"[^a-z0-9]", "", text):
        return False
    return len(remainder) < 4 or remainder in _blocklist()
