"""records carry a version (edits that cannot be lost)

Every record a person edits (therapists, facilities, clients, treatments and their changed
occurrences, visit series and their exceptions) gets ``version``, 1 for the rows already
there. Saves compare it with the version the editor started from (see
scheduler.records.versions), so a stale save is refused instead of reverting another's.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 13:00:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('therapists', 'facilities', 'clients', 'treatments', 'treatment_exceptions',
          'appointment_series', 'series_exceptions')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False,
                                          server_default='1'))


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')
