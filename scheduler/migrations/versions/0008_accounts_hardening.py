"""accounts and secrets hardening: two-factor sign-in (TOTP) for therapists

- therapists.totp_secret: the TOTP shared secret (base32), set while enrolling;
- therapists.totp_enabled: two-factor sign-in is on (the code was confirmed);
- therapists.totp_last_step: the last 30-second time step accepted, against replays.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 13:00:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('therapists', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('therapists', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled')
        batch_op.drop_column('totp_secret')
