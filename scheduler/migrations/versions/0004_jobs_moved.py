"""the morning e-mail jobs moved to scheduler.delivery.worker

The stored APScheduler jobs name their function by text path, and the worker refuses to start
on a path that no longer resolves (scheduler.delivery.job_store.check_stored_jobs). The job
functions moved from scheduler.jobs to scheduler.delivery.worker, so the stored itinerary jobs
are removed here; the worker's housekeeping rebuilds them from the therapists' settings when it
starts, and a send time that passed meanwhile is caught up until the cut-off.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 10:00:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM apscheduler_jobs WHERE id LIKE 'itinerary:%'"))


def downgrade() -> None:
    # The same: jobs stored by this version name paths the older code does not have.
    op.execute(sa.text("DELETE FROM apscheduler_jobs WHERE id LIKE 'itinerary:%'"))
