"""The schema comes only from migrations, and the migrations describe exactly the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from supervision.database import include_object_for
from supervision.extensions import db


def test_migrated_schema_matches_models(fresh_app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": include_object_for(connection.dialect.name)})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrations_create_every_model_table(fresh_app):
    tables = set(inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_migrations_downgrade_to_base_and_upgrade_again(fresh_app):
    from flask_migrate import downgrade, upgrade

    directory = fresh_app.extensions["migrate"].directory
    downgrade(directory=directory, revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade(directory=directory)
    assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
