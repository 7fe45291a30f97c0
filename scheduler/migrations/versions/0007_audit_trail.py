"""an append-only, hash-chained audit trail

- audit_events.prev_hash / row_hash: the hash chain (scheduler.audit_chain); rows already
  there are chained here, in id order, from the genesis hash;
- indexes on audit_events.actor_id and .at, for the admin page's search by user and date;
- triggers refusing UPDATE and DELETE on audit_events (scheduler.audit_guard).

The hashing and the trigger SQL are frozen copies of what those modules held when this was
written, so that this migration keeps doing what it did if they change.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 13:00:00.000000
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
REFUSAL = "audit_events is append-only"
PROTECT = {
    "sqlite": (
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        f"RAISE EXCEPTION '{REFUSAL}: % refused', TG_OP USING ERRCODE = 'insufficient_privilege'; "
        "END $$",
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    ),
}
UNPROTECT = {
    "sqlite": ("DROP TRIGGER IF EXISTS audit_events_no_update",
               "DROP TRIGGER IF EXISTS audit_events_no_delete"),
    "postgresql": ("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
                   "DROP FUNCTION IF EXISTS audit_events_append_only()"),
}


def _row_hash(prev: str, row: Any) -> str:
    at: datetime = row.at
    if isinstance(at, str):  # SQLite through a plain table: the stored text
        at = datetime.fromisoformat(at)
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    values = [at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), row.actor_id, row.actor_label, row.action,
              row.entity, row.entity_id, row.detail]
    canonical = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev}\n{canonical}".encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('row_hash', sa.String(length=64), nullable=True))
    bind = op.get_bind()
    events = sa.table('audit_events', sa.column('id', sa.Integer), sa.column('at', sa.DateTime),
                      sa.column('actor_id', sa.Integer), sa.column('actor_label', sa.String),
                      sa.column('action', sa.String), sa.column('entity', sa.String),
                      sa.column('entity_id', sa.Integer), sa.column('detail', sa.String),
                      sa.column('prev_hash', sa.String), sa.column('row_hash', sa.String))
    prev = GENESIS
    for row in bind.execute(sa.select(events).order_by(events.c.id)).all():
        digest = _row_hash(prev, row)
        bind.execute(events.update().where(events.c.id == row.id)
                     .values(prev_hash=prev, row_hash=digest))
        prev = digest
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('row_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index('ix_audit_events_actor_id', ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_events_at', ['at'], unique=False)
    for statement in PROTECT.get(bind.dialect.name, ()):
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    for statement in UNPROTECT.get(bind.dialect.name, ()):
        op.execute(statement)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_at')
        batch_op.drop_index('ix_audit_events_actor_id')
        batch_op.drop_column('row_hash')
        batch_op.drop_column('prev_hash')
