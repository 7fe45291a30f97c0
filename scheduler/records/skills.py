"""Skills as a person reads them.

A skill is a short word the practice chooses ("oncology", "dialysis_chairside"): stored and
typed as that code, shown with spaces ("dialysis chairside"), on pages, in e-mails and in the
reasons planning gives.
"""

from __future__ import annotations

from collections.abc import Iterable


def skill_words(codes: Iterable[str]) -> str:
    """The skills, comma-separated, each with its ``_`` and ``-`` shown as spaces."""
    return ", ".join(code.replace("_", " ").replace("-", " ") for code in codes)
