"""Finding the user who signs in: by e-mail address, whatever its case."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.models import Therapist


def find_user(session: Session, email: str) -> Therapist | None:
    """The therapist (user) with this e-mail address, compared without regard to case."""
    return session.scalar(select(Therapist).where(func.lower(Therapist.email) == email.lower()))
