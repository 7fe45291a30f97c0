"""arrival: a visit can be marked arrived, and when the therapist arrived is kept

- plan_stops.arrived_at: when the therapist pressed Arrived (kept when the visit is then
  marked done or skipped; cleared when it is set back to planned).
- plan_stops.state may now hold 'arrived'. The state is stored as a non-native enum (a string
  of length 32 with no CHECK constraint), so the new value needs no schema change.

Downgrading drops the column and sets visits marked arrived back to planned: the code before
this revision knows no 'arrived' and could not read them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-12 10:00:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('plan_stops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute("UPDATE plan_stops SET state = 'planned', state_at = NULL "
               "WHERE state = 'arrived'")
    with op.batch_alter_table('plan_stops', schema=None) as batch_op:
        batch_op.drop_column('arrived_at')
