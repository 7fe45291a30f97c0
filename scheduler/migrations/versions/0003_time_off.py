"""time off

A therapist's days away, and with no therapist the days the whole practice is closed
(scheduler.models.TimeOff): the calendar gives nobody working time on them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 09:00:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('time_off',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=True),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=80), nullable=False),
    sa.CheckConstraint('last_day >= first_day', name=op.f('ck_time_off_days_in_order')),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapists.id'], name=op.f('fk_time_off_therapist_id_therapists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_off'))
    )
    with op.batch_alter_table('time_off', schema=None) as batch_op:
        batch_op.create_index('ix_time_off_days', ['first_day', 'last_day'], unique=False)
        batch_op.create_index(batch_op.f('ix_time_off_therapist_id'), ['therapist_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('time_off', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_time_off_therapist_id'))
        batch_op.drop_index('ix_time_off_days')

    op.drop_table('time_off')
