"""outbox claims with an owner and a heartbeat

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 13:00:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The claim's owner is already named in claimed_by (host:pid:token); its heartbeat is
    # new: a claim whose heartbeat is older than the lease belongs to a process that died.
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
