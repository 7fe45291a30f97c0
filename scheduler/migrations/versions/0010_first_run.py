"""first run: what a new practice database records about its own start

No schema change: the start moment is a row of ``practice_meta`` (key ``started_at``, see
:mod:`scheduler.database_start`), written by ``rounds db upgrade`` when it creates the
database and by ``rounds demo``. Not written here: a migration runs on databases old and new,
and an old one upgraded today did exist before today (its misses are real).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 13:30:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
