"""plans that stay true: treatment exceptions and end dates, stale days, what changed

- treatments.last_date and treatment_exceptions (one occurrence cancelled or moved);
- stale_days: the planned days a change to the records touched, the re-planning queue;
- day_plans.changes / replaces_version: what a version changed from the one it replaced;
- plan_stops.state_at: when a visit was marked done or skipped;
- outbox.plan_version: the plan version an e-mail carried (updates follow newer versions).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 12:00:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_date', sa.Date(), nullable=True))
    op.create_table('treatment_exceptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('treatment_id', sa.Integer(), nullable=False),
    sa.Column('original_date', sa.Date(), nullable=False),
    sa.Column('action', sa.Enum('cancel', 'move', 'resize', name='exceptionaction', native_enum=False, length=32), nullable=False),
    sa.Column('new_date', sa.Date(), nullable=True),
    sa.Column('new_start_time', sa.Time(), nullable=True),
    sa.Column('new_duration_minutes', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['treatment_id'], ['treatments.id'], name=op.f('fk_treatment_exceptions_treatment_id_treatments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_treatment_exceptions')),
    sa.UniqueConstraint('treatment_id', 'original_date', name=op.f('uq_treatment_exceptions_treatment_id_original_date'))
    )
    op.create_table('stale_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('causes', sa.JSON(), nullable=False),
    sa.Column('marked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('lease_owner', sa.String(length=120), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapists.id'], name=op.f('fk_stale_days_therapist_id_therapists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stale_days')),
    sa.UniqueConstraint('therapist_id', 'day', name=op.f('uq_stale_days_therapist_id_day'))
    )
    with op.batch_alter_table('stale_days', schema=None) as batch_op:
        batch_op.create_index('ix_stale_days_marked_at', ['marked_at'], unique=False)
    with op.batch_alter_table('day_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('changes', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('replaces_version', sa.Integer(), nullable=True))
    with op.batch_alter_table('plan_stops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan_version', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('plan_version')
    with op.batch_alter_table('plan_stops', schema=None) as batch_op:
        batch_op.drop_column('state_at')
    with op.batch_alter_table('day_plans', schema=None) as batch_op:
        batch_op.drop_column('replaces_version')
        batch_op.drop_column('changes')
    with op.batch_alter_table('stale_days', schema=None) as batch_op:
        batch_op.drop_index('ix_stale_days_marked_at')
    op.drop_table('stale_days')
    op.drop_table('treatment_exceptions')
    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.drop_column('last_date')
