"""Migrations build the schema from an empty database on both backends, and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from scheduler import migrate, models


def test_migrated_database_is_at_head(engine: Engine) -> None:
    assert migrate.is_up_to_date(engine)


def test_migrations_create_every_table_of_the_models(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(models.Base.metadata.tables) <= tables


def test_migrations_and_models_agree(engine: Engine) -> None:
    """A model changed without a migration shows up here as a difference."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, models.Base.metadata)
    assert differences == []


def test_downgrade_to_empty_and_up_again(engine: Engine) -> None:
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert migrate.is_up_to_date(engine)
