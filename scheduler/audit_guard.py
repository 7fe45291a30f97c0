"""The database's refusal to change audit rows: triggers that make ``audit_events`` append-only.

The application only ever INSERTs audit rows; an UPDATE or DELETE (a bug, or someone using
the application's database login) is refused by the database itself. PostgreSQL: one row
trigger calling a function that raises; SQLite: two triggers that RAISE(ABORT). TRUNCATE is
left alone on purpose: it is not a row change, needs the TRUNCATE privilege (which a
deployment gives the application's role only if it owns the tables, and an owner could drop
these triggers anyway), and the test fixtures empty PostgreSQL with it. What an owner can do
is caught afterwards by the hash chain (:mod:`scheduler.audit_chain`).

Migration 0007 creates the same triggers with its own frozen copy of this SQL; the
statements here also serve ``metadata.create_all`` databases (see models.py) and the demo's
``--reset`` (:func:`scheduler.audit_chain.clear`), the one sanctioned way to empty the trail.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

REFUSAL = "audit_events is append-only"

PROTECT: dict[str, tuple[str, ...]] = {
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

UNPROTECT: dict[str, tuple[str, ...]] = {
    "sqlite": ("DROP TRIGGER IF EXISTS audit_events_no_update",
               "DROP TRIGGER IF EXISTS audit_events_no_delete"),
    "postgresql": ("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",),
}


def protect(connection: Connection) -> None:
    """Create the append-only triggers (on a backend without them, nothing)."""
    for statement in PROTECT.get(connection.dialect.name, ()):
        connection.execute(text(statement))


def unprotect(connection: Connection) -> None:
    """Drop the triggers (the demo's reset; tests that play a tampering owner)."""
    for statement in UNPROTECT.get(connection.dialect.name, ()):
        connection.execute(text(statement))
